package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one phase for the given milliseconds, then prints {@code main-end <epoch millis>} as the
 * last thing it does, so that a test can tell how long the JVM took to exit after that.
 */
public final class EndApp {

  private EndApp() {}

  public static void main(String[] args) {
    long nanos = Long.parseLong(args[0]) * 1_000_000L;
    try (Phase p = JouleTrace.phase(args.length > 1 ? args[1] : "work")) {
      long start = System.nanoTime();
      double x = 0;
      while (System.nanoTime() - start < nanos) {
        for (int i = 0; i < 10_000; i++) {
          x += Math.sqrt(i);
        }
        LockSupport.parkNanos(1_000_000L);
      }
      System.out.println("work " + (x > 0));
    }
    System.out.println("main-end " + System.currentTimeMillis());
    System.out.flush();
  }
}

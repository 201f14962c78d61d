package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one phase for the given milliseconds (and, when a second argument names a file, until that
 * file exists, at most 120 s), then prints {@code main-end <epoch millis>} as the last thing it
 * does, so that a test can tell how long the JVM took to exit after that.
 */
public final class EndApp {

  private EndApp() {}

  public static void main(String[] args) {
    long nanos = Long.parseLong(args[0]) * 1_000_000L;
    java.io.File until = args.length > 1 ? new java.io.File(args[1]) : null;
    try (Phase p = JouleTrace.phase("work")) {
      long start = System.nanoTime();
      double x = 0;
      while (System.nanoTime() - start < nanos
          || (until != null && !until.exists() && System.nanoTime() - start < 120_000_000_000L)) {
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

package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs phase {@code work} until a release file appears (at most 60 s), counting 10 {@code tokens}
 * per 10 ms, so that a test can look at the running agent for as long as it needs.
 *
 * <p>Arguments: the release file.
 */
public final class CarbonApp {

  private CarbonApp() {}

  public static void main(String[] args) {
    Path release = Path.of(args[0]);
    long deadline = System.nanoTime() + 60_000_000_000L;
    long tokens = 0;
    try (Phase p = JouleTrace.phase("work")) {
      while (!Files.exists(release) && System.nanoTime() < deadline) {
        LockSupport.parkNanos(10_000_000L);
        JouleTrace.count("tokens", 10);
        tokens += 10;
      }
    }
    System.out.println("counted " + tokens + " tokens");
  }
}

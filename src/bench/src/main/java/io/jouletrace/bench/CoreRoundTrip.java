package io.jouletrace.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How long a cache line takes to go from this thread's core to another thread's and back: the two
 * threads take turns incrementing one counter, each waiting until the other has moved it on.
 *
 * <p>A benchmark thread whose phase changes a drainer reads on another core pays for the lines it
 * then writes again, and what that costs is this round trip. On a virtual machine it depends on
 * where the host runs the two vCPUs at the time (cores that share a cache, or cores on different
 * dies), which can change while a JVM runs; the phase benchmarks print it after each iteration so a
 * score can be read against it. Batches that the scheduler interrupted (a third thread wanting one
 * of the cores) are left out by taking the median batch.
 */
final class CoreRoundTrip {

  private static final int BATCHES = 21;
  private static final int TRIPS = 2_000;

  private CoreRoundTrip() {}

  /**
   * Measures the round trip.
   *
   * @return the median batch's nanoseconds per round trip, or NaN when the other thread did not
   *     answer within a second
   */
  static double measure() {
    AtomicLong ball = new AtomicLong();
    long total = (long) BATCHES * TRIPS;
    Thread partner =
        new Thread(
            () -> {
              long deadline = System.nanoTime() + 5_000_000_000L;
              for (long v = 1; v < 2 * total; v += 2) {
                long seen;
                for (int spins = 1; (seen = ball.get()) != v; spins++) {
                  if (seen < 0 || ((spins & 0xFFFF) == 0 && System.nanoTime() - deadline > 0)) {
                    return; // given up on, or left waiting far too long
                  }
                }
                ball.set(v + 1);
              }
            },
            "jouletrace-bench-round-trip");
    partner.setDaemon(true);
    partner.start();
    double[] batches = new double[BATCHES];
    long v = 0;
    for (int b = 0; b < BATCHES; b++) {
      long start = System.nanoTime();
      for (int i = 0; i < TRIPS; i++) {
        ball.set(v + 1);
        for (int spins = 1; ball.get() != v + 2; spins++) {
          if ((spins & 0xFFFF) == 0 && System.nanoTime() - start > 1_000_000_000L) {
            ball.set(-1); // the other thread stops too
            return Double.NaN;
          }
        }
        v += 2;
      }
      batches[b] = (System.nanoTime() - start) / (double) TRIPS;
    }
    try {
      partner.join(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Arrays.sort(batches);
    return batches[BATCHES / 2];
  }

  /** One line for a benchmark's output. */
  static String line() {
    return String.format(
        Locale.ROOT,
        "[cores] a cache line's round trip between two threads: %.0f ns (median of %d batches)",
        measure(),
        BATCHES);
  }
}

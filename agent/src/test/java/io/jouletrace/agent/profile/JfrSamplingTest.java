package io.jouletrace.agent.profile;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.agent.phase.PhaseRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Real JFR in this JVM: a thread burns CPU in {@link #burnA} and {@link #burnB} by turns, in spans
 * it times itself, with pauses between them. Every sample of each method must be mapped inside one
 * of that method's spans, which checks the mapping from JFR's timestamps to {@link
 * System#nanoTime()} (an offset error larger than the pause would put samples in the other method's
 * spans or in a pause).
 */
class JfrSamplingTest {

  static volatile long sink;

  /** Arithmetic only, no clock read inside, so that samples land here. */
  static long burnA(long iterations) {
    long x = 0x9E3779B97F4A7C15L;
    for (long i = 0; i < iterations; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
    }
    return x;
  }

  static long burnB(long iterations) {
    long x = 0x2545F4914F6CDD1DL;
    for (long i = 0; i < iterations; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
    }
    return x;
  }

  @Test
  void samplesAreMappedIntoTheSpansTheirMethodRanIn() throws Exception {
    EnergyProfiler profiler =
        new EnergyProfiler(new PhaseRegistry(8, w -> {}), 8, System.nanoTime(), 100_000_000L, 1000);
    List<String> warnings = new CopyOnWriteArrayList<>();
    JfrSampling sampling = new JfrSampling(profiler, Duration.ofMillis(10), warnings::add);
    String a = JfrSamplingTest.class.getName() + ".burnA";
    String b = JfrSamplingTest.class.getName() + ".burnB";
    List<long[]> spansA = new ArrayList<>();
    List<long[]> spansB = new ArrayList<>();
    sampling.start();
    long deadline = System.nanoTime() + 90_000_000_000L;
    try {
      boolean turnA = true;
      // until both methods have samples and JFR has delivered everything up to the last span
      while (System.nanoTime() < deadline) {
        long s = System.nanoTime();
        long e = s;
        while (e - s < 300_000_000L) {
          sink += turnA ? burnA(100_000) : burnB(100_000);
          e = System.nanoTime();
        }
        (turnA ? spansA : spansB).add(new long[] {s, e});
        turnA = !turnA;
        LockSupport.parkNanos(100_000_000L); // a pause in which neither runs
        if (!profiler.waiting(a).isEmpty() && !profiler.waiting(b).isEmpty()) {
          while (profiler.sampledUpTo() < e && System.nanoTime() < deadline) {
            Thread.sleep(20); // polls a condition; the deadline bounds it
          }
          break;
        }
      }
      List<Long> inA = profiler.waiting(a);
      List<Long> inB = profiler.waiting(b);
      assertThat(inA).as("samples of burnA within 90 s").isNotEmpty();
      assertThat(inB).as("samples of burnB within 90 s").isNotEmpty();
      long slack = 5_000_000L;
      assertThat(inA).allSatisfy(t -> assertThat(within(t, spansA, slack)).as("%d", t).isTrue());
      assertThat(inB).allSatisfy(t -> assertThat(within(t, spansB, slack)).as("%d", t).isTrue());
      assertThat(warnings).isEmpty();
    } finally {
      sampling.stop();
    }
  }

  private static boolean within(long t, List<long[]> spans, long slack) {
    for (long[] s : spans) {
      if (t >= s[0] - slack && t <= s[1] + slack) {
        return true;
      }
    }
    return false;
  }
}

package io.jouletrace.agent.profile;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.agent.phase.PhaseRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Real JFR in this JVM: the samples of a thread that burns CPU between two instants it reads itself
 * must all be mapped inside that span, which checks the clock mapping from JFR's timestamps to
 * {@link System#nanoTime()}.
 */
class JfrSamplingTest {

  static volatile long sink;

  /** Arithmetic only, no clock read inside, so that samples land here. */
  static long burn(long iterations) {
    long x = 0x9E3779B97F4A7C15L;
    for (long i = 0; i < iterations; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
    }
    return x;
  }

  @Test
  void samplesAreMappedIntoTheSpanTheThreadBurnedIn() throws Exception {
    EnergyProfiler profiler =
        new EnergyProfiler(new PhaseRegistry(8, w -> {}), 8, System.nanoTime(), 100_000_000L, 1000);
    List<String> warnings = new CopyOnWriteArrayList<>();
    JfrSampling sampling = new JfrSampling(profiler, Duration.ofMillis(10), warnings::add);
    sampling.start();
    long deadline = System.nanoTime() + 60_000_000_000L;
    long start = 0;
    long end = 0;
    try {
      // Burn in 0.5 s spans until a span has samples and JFR has delivered everything up to it.
      while (System.nanoTime() < deadline) {
        long s = System.nanoTime();
        long e = s;
        while (e - s < 500_000_000L) {
          sink += burn(200_000);
          e = System.nanoTime();
        }
        // wait for delivery past this span (JFR flushes about once a second)
        while (profiler.sampledUpTo() < e && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        if (!profiler.waiting(JfrSamplingTest.class.getName() + ".burn").isEmpty()) {
          start = s;
          end = e;
          break;
        }
      }
      assertThat(end).as("no sample of burn within 60 s").isNotZero();
      List<Long> times = profiler.waiting(JfrSamplingTest.class.getName() + ".burn");
      long slack = 5_000_000L;
      long from = start - slack;
      long to = end + slack;
      // samples of earlier spans were taken earlier still; none may be after this span's end
      assertThat(times).allSatisfy(t -> assertThat(t).isLessThanOrEqualTo(to));
      long inSpan = times.stream().filter(t -> t >= from).count();
      // 0.5 s at 10 ms: 50 periods; the thread may be descheduled on a busy machine
      assertThat(inSpan).isGreaterThanOrEqualTo(10);
      assertThat(warnings).isEmpty();
    } finally {
      sampling.stop();
    }
  }
}

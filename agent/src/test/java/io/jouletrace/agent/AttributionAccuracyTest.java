package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.agent.carbon.CarbonModel;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Per-phase accuracy against a scripted power trace, in virtual time, with the sampler's policy: a
 * tick every {@code interval}, and, when phases changed, a read of the CPU counter at the next
 * {@code boundary.resolution} poll. The counter behaves like RAPL: it integrates the trace but only
 * updates every millisecond. Two phases alternate between 80 W and 20 W; boundaries fall at random
 * offsets from the millisecond grid. The truth per phase is its power times its time, computed from
 * the script alone.
 */
class AttributionAccuracyTest {

  private static final long MS = 1_000_000L;
  private static final long INTERVAL = 100 * MS; // the default
  private static final long RESOLUTION = MS; // the default boundary.resolution
  private static final long COUNTER_UPDATE = MS; // RAPL's update period
  private static final double HIGH = 80;
  private static final double LOW = 20;

  /** Runs the script; returns relative errors of phase "high" and "low", and of the sum. */
  private static double[] run(long phaseNanos, long resolution, long seed) {
    PhaseRegistry registry = new PhaseRegistry(16, w -> {});
    EnergyLedger ledger =
        new EnergyLedger(registry, 16, new CarbonModel(475, 1, 1000, 1e8, 1, 150), 0);
    int src =
        ledger.addSource(List.of(new Device("package-0", Domain.CPU, "sim", true, Map.of())), 0);
    ledger.seal();
    int high = registry.idOf("high");
    int low = registry.idOf("low");

    Random random = new Random(seed);
    long end = Math.max(20 * phaseNanos, 4_000 * MS);
    // boundaries: alternate high/low, each phase phaseNanos long, starting at a random offset
    int cycles = (int) (end / phaseNanos);
    long[] bounds = new long[cycles + 1];
    long t = 3 * MS + random.nextInt(1_000_000);
    for (int i = 0; i <= cycles; i++) {
      bounds[i] = t;
      t += phaseNanos;
    }
    long stop = bounds[cycles];
    // energy truth: power is HIGH in even phases, LOW in odd ones, 0 before the first boundary
    double[] truth = new double[2];
    for (int i = 0; i < cycles; i++) {
      truth[i % 2] += (i % 2 == 0 ? HIGH : LOW) * phaseNanos * 1e-9;
    }

    int nextBound = 0;
    long lastPoll = 0;
    int boundaryReads = 0;
    long nextTick = INTERVAL;
    double[] reading = new double[1];
    double[] share = {1.0};
    for (long now = 0; now <= stop + INTERVAL; now += resolution > 0 ? resolution : MS) {
      boolean changed = false;
      while (nextBound <= cycles && bounds[nextBound] <= now) {
        int phase = nextBound == cycles ? PhaseRegistry.OTHER : nextBound % 2 == 0 ? high : low;
        ledger.event(bounds[nextBound], 0, phase);
        nextBound++;
        changed = true;
      }
      boolean tick = now >= nextTick;
      boolean boundaryRead =
          resolution > 0
              && changed
              && boundaryReads < io.jouletrace.agent.SamplerLimits.MAX_BOUNDARY_READS_PER_TICK;
      if (boundaryRead && !tick) {
        boundaryReads++;
      }
      if (tick || boundaryRead) {
        reading[0] = counter(now, bounds, cycles);
        ledger.sample(src, now, reading, share);
        if (tick) {
          ledger.tick(now, 1.0);
          nextTick += INTERVAL;
          boundaryReads = 0;
        }
      }
      lastPoll = now;
    }
    assertThat(lastPoll).isPositive();
    EnergySnapshot s =
        ledger.snapshot(
            Instant.EPOCH,
            null,
            "training",
            Map.of(),
            "host",
            new CarbonFactors(475, "t", 1, 1000, 150, 4, 1));
    Map<String, PhaseEnergy> phases = new HashMap<>();
    s.phases().forEach(p -> phases.put(p.name(), p));
    double measuredTotal = counter(stop + INTERVAL, bounds, cycles);
    return new double[] {
      phases.get("high").cpuJoules() / truth[0] - 1,
      phases.get("low").cpuJoules() / truth[1] - 1,
      s.totals().cpuJoules() / measuredTotal - 1
    };
  }

  /** The fake RAPL counter: the trace's integral up to the last millisecond update before t. */
  private static double counter(long t, long[] bounds, int cycles) {
    long at = t / COUNTER_UPDATE * COUNTER_UPDATE;
    double e = 0;
    for (int i = 0; i < cycles; i++) {
      long a = bounds[i];
      long b = Math.min(bounds[i + 1], at);
      if (b > a) {
        e += (i % 2 == 0 ? HIGH : LOW) * (b - a) * 1e-9;
      }
    }
    return e;
  }

  @ParameterizedTest(name = "phases of {0} ms")
  @CsvSource({"20, 0.05", "50, 0.02", "100, 0.01", "300, 0.01", "1000, 0.01", "2000, 0.01"})
  void perPhaseErrorWithinTarget(long phaseMs, double target) {
    double worstHigh = 0;
    double worstLow = 0;
    double worstSum = 0;
    double plainHigh = 0;
    for (long seed = 1; seed <= 5; seed++) {
      double[] e = run(phaseMs * MS, RESOLUTION, seed);
      worstHigh = Math.max(worstHigh, Math.abs(e[0]));
      worstLow = Math.max(worstLow, Math.abs(e[1]));
      worstSum = Math.max(worstSum, Math.abs(e[2]));
      plainHigh = Math.max(plainHigh, Math.abs(run(phaseMs * MS, 0, seed)[0]));
    }
    System.out.printf(
        Locale.ROOT,
        "phases %4d ms: worst error high %.3f %%, low %.3f %%, sum %.2e"
            + " (interpolation between ticks only: high %.2f %%)%n",
        phaseMs,
        worstHigh * 100,
        worstLow * 100,
        worstSum,
        plainHigh * 100);
    assertThat(worstHigh).isLessThanOrEqualTo(target);
    assertThat(worstLow).isLessThanOrEqualTo(target);
    assertThat(worstSum).isLessThanOrEqualTo(0.001);
  }

  @ParameterizedTest(name = "phases of {0} ms, beyond the boundary-read budget")
  @CsvSource({"2", "5"})
  void phasesShorterThanTheBudgetAllowsStillConserveAndStayClose(long phaseMs) {
    double[] e = run(phaseMs * MS, RESOLUTION, 3);
    System.out.printf(
        Locale.ROOT,
        "phases %4d ms: error high %.3f %%, low %.3f %%%n",
        phaseMs,
        Math.abs(e[0]) * 100,
        Math.abs(e[1]) * 100);
    assertThat(e[2]).isCloseTo(0, within(1e-9));
  }

  @ParameterizedTest(name = "sum equals the measured total, phases of {0} ms")
  @CsvSource({"20", "300"})
  void conservationHoldsWithAndWithoutBoundaryReads(long phaseMs) {
    for (long resolution : new long[] {0, RESOLUTION}) {
      assertThat(run(phaseMs * MS, resolution, 7)[2]).isCloseTo(0, within(1e-9));
    }
  }
}

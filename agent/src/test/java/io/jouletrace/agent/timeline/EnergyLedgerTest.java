package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.agent.carbon.CarbonStage;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EnergyLedgerTest {

  private static final long MS = 1_000_000L;
  private static final List<Device> CPU =
      List.of(new Device("package-0", Domain.CPU, "test", true, Map.of()));

  private final PhaseRegistry registry = new PhaseRegistry(64, w -> {});
  private final CarbonStage carbon =
      new CarbonStage(new CarbonFactors(400, "t", 1.5, 1000, 150, 4, 0.5), registry, 64);
  private final EnergyLedger ledger = new EnergyLedger(registry, 64, carbon, 0);
  private final int src = ledger.addSource(CPU, 0);

  /** Samples every {@code interval} up to {@code end}, cumulative energy from {@code energyAt}. */
  private void run(long interval, long end, DoubleUnaryOperator energyAt, double share) {
    for (long t = interval; t <= end; t += interval) {
      ledger.sample(src, t, new double[] {energyAt.applyAsDouble(t * 1e-9)}, new double[] {share});
      ledger.tick(t, share);
    }
  }

  private Map<String, PhaseEnergy> phases() {
    EnergySnapshot s =
        carbon.apply(ledger.snapshot(Instant.EPOCH, null, "training", Map.of(), "host"));
    Map<String, PhaseEnergy> m = new HashMap<>();
    s.phases().forEach(p -> m.put(p.name(), p));
    return m;
  }

  @Test
  void constantPowerGivesEachPhaseExactlyPowerTimesDuration() {
    int a = registry.idOf("a");
    int b = registry.idOf("b");
    // boundaries deliberately not on sample times; a phase shorter than the interval included
    ledger.event(130 * MS, 0, a);
    ledger.event(180 * MS, 0, PhaseRegistry.OTHER); // 50 ms inside one 100 ms window
    ledger.event(250 * MS, 0, b);
    ledger.event(777 * MS, 0, a);
    ledger.event(901 * MS, 0, PhaseRegistry.OTHER);
    run(100 * MS, 1000 * MS, t -> 50 * t, 1.0);

    Map<String, PhaseEnergy> p = phases();
    assertThat(p.get("a").joules(Domain.CPU)).isCloseTo(50 * (0.050 + 0.124), within(1e-9));
    assertThat(p.get("b").joules(Domain.CPU)).isCloseTo(50 * 0.527, within(1e-9));
    assertThat(p.get("other").joules(Domain.CPU))
        .isCloseTo(50 * (0.130 + 0.070 + 0.099), within(1e-9));
    assertThat(p.get("a").wallSeconds()).isCloseTo(0.174, within(1e-12));
    // operational: J x 400 g/kWh x PUE 1.5 / 3.6e6 J/kWh
    assertThat(p.get("b").operationalGrams())
        .isCloseTo(50 * 0.527 * 400 * 1.5 / 3.6e6, within(1e-15));
    // embodied: 1000 kg over 4 years at 50 % use, for the phase's seconds
    double perSecond = 1e6 / (4 * 365 * 86400.0 * 0.5);
    assertThat(p.get("b").embodiedGrams()).isCloseTo(0.527 * perSecond, within(1e-12));
  }

  @Test
  void overlappingThreadsShareEachInstantAndInnermostPhaseWins() {
    int a = registry.idOf("a");
    int b = registry.idOf("b");
    int inner = registry.idOf("inner");
    ledger.event(0, 1, a); // thread 1: a over [0, 1000)
    ledger.event(200 * MS, 1, inner); // nested: inner over [200, 300)
    ledger.event(300 * MS, 1, a);
    ledger.event(500 * MS, 2, b); // thread 2: b over [500, 1500)
    ledger.event(1000 * MS, 1, PhaseRegistry.OTHER);
    ledger.event(1500 * MS, 2, PhaseRegistry.OTHER);
    run(100 * MS, 2000 * MS, t -> 40 * t, 1.0);

    Map<String, PhaseEnergy> p = phases();
    assertThat(p.get("inner").joules(Domain.CPU)).isCloseTo(40 * 0.1, within(1e-9));
    assertThat(p.get("a").joules(Domain.CPU)).isCloseTo(40 * (0.4 + 0.25), within(1e-9));
    assertThat(p.get("b").joules(Domain.CPU)).isCloseTo(40 * (0.25 + 0.5), within(1e-9));
    assertThat(p.get("other").joules(Domain.CPU)).isCloseTo(40 * 0.5, within(1e-9));
    double wall = p.values().stream().mapToDouble(PhaseEnergy::wallSeconds).sum();
    assertThat(wall).isCloseTo(2.0, within(1e-12));
  }

  @Test
  void everyJouleIsAttributedExactlyOnceUnderRandomPhasesPowerAndShare() {
    Random r = new Random(42);
    int threads = 5;
    long end = 20_000 * MS;
    for (int i = 0; i < 2000; i++) {
      ledger.event(
          r.nextLong(end),
          r.nextInt(threads),
          r.nextInt(8) == 0 ? PhaseRegistry.OTHER : registry.idOf("p" + r.nextInt(10)));
    }
    // events must be appended in time order for this test's expectations of timing; the log
    // clamps out-of-order events, which keeps conservation: shuffled order is fine here.
    double[] cumulative = {0};
    double jobTruth = 0;
    for (long t = 37 * MS; t <= end; t += 37 * MS) {
      double delta = r.nextDouble() * 10;
      double share = r.nextDouble();
      cumulative[0] += delta;
      jobTruth += delta * share;
      ledger.sample(src, t, cumulative.clone(), new double[] {share});
      ledger.tick(t, share);
    }
    double sum = phases().values().stream().mapToDouble(p -> p.joules(Domain.CPU)).sum();
    assertThat(sum).isCloseTo(jobTruth, within(1e-9 * jobTruth));
    EnergySnapshot s =
        carbon.apply(ledger.snapshot(Instant.EPOCH, null, "training", Map.of(), "process"));
    assertThat(s.devices().get(0).joules()).isCloseTo(cumulative[0], within(1e-9 * cumulative[0]));
    assertThat(s.totals().joules(Domain.CPU)).isCloseTo(jobTruth, within(1e-9 * jobTruth));
  }

  @Test
  void sourceAddedLateSeesPhasesOpenedBeforeIt() {
    int a = registry.idOf("a");
    ledger.event(10 * MS, 0, a);
    int late =
        ledger.addSource(
            List.of(new Device("gpu-0", Domain.GPU, "test", true, Map.of())), 500 * MS);
    ledger.sample(late, 600 * MS, new double[] {30}, new double[] {1});
    assertThat(phases().get("a").joules(Domain.GPU)).isCloseTo(30, within(1e-12));
  }

  @Test
  void energyOfAZeroLengthWindowIsHandedOutWithTheNext() {
    int a = registry.idOf("a");
    ledger.event(0, 0, a);
    ledger.sample(src, 0, new double[] {5}, new double[] {1});
    assertThat(phases().get("a")).isNull();
    ledger.sample(src, 100 * MS, new double[] {7}, new double[] {1});
    assertThat(phases().get("a").joules(Domain.CPU)).isCloseTo(7, within(1e-12));
  }

  @Test
  void aDeviceIsMeasuredFromItsOpeningToItsLastAdvancingReading() {
    int late =
        ledger.addSource(
            List.of(new Device("gpu-0", Domain.GPU, "test", true, Map.of())), 300 * MS);
    // the counter advances until 700 ms, then stands still (a lost GPU reports no more energy)
    for (long t = 400 * MS; t <= 1200 * MS; t += 100 * MS) {
      double joules = 80 * (Math.min(t, 700 * MS) - 300 * MS) * 1e-9;
      ledger.sample(late, t, new double[] {joules}, new double[] {1});
    }
    EnergySnapshot s =
        carbon.apply(ledger.snapshot(Instant.EPOCH, null, "training", Map.of(), "host"));
    EnergySnapshot.DeviceEnergy gpu =
        s.devices().stream().filter(d -> d.id().equals("gpu-0")).findFirst().orElseThrow();
    assertThat(gpu.seconds()).isCloseTo(0.4, within(1e-12));
    assertThat(gpu.joules()).isCloseTo(32, within(1e-9));
  }

  /**
   * Regression: while start-up had not ended ({@link EnergyLedger#seal()} not called, e.g. after a
   * failure before it), every phase change was kept from the start, without bound.
   */
  @Test
  void startUpThatNeverEndsStillKeepsPhaseChangesBounded() {
    int a = registry.idOf("a");
    long t = 0;
    for (int i = 0; i < 300_000; i++) {
      t += 10_000;
      ledger.event(t, 0, i % 2 == 0 ? a : PhaseRegistry.OTHER);
      if (i % 1000 == 999) {
        ledger.sample(src, t, new double[] {t * 1e-9}, new double[] {1});
        ledger.tick(t, 1);
      }
    }
    assertThat(ledger.retainedEvents())
        .isLessThanOrEqualTo(EnergyLedger.MAX_START_UP_EVENTS + 1000);
    EnergySnapshot s = ledger.snapshot(Instant.EPOCH, null, "training", Map.of(), "host");
    assertThat(s.warnings()).anyMatch(w -> w.contains("start-up of the energy sources"));
    // Attribution is unaffected: 1 W throughout, half of the time in each phase.
    assertThat(phases().get("a").joules(Domain.CPU)).isCloseTo(t * 1e-9 / 2, within(1e-6));
  }

  /**
   * Regression: a phase seen for the first time got, in the window where it starts, the window's
   * average power, so that most of its first instants went to the phase it followed.
   */
  @Test
  void aNewPhaseGetsWhatItsFirstWindowLeavesNotTheWindowsAverage() {
    int a = registry.idOf("a");
    // other at 8 W, learnt over two windows; then phase a at 120 W from 199 ms
    ledger.sample(src, 100 * MS, new double[] {0.8}, new double[] {1});
    ledger.sample(src, 190 * MS, new double[] {1.52}, new double[] {1});
    ledger.event(199 * MS, 0, a);
    double atBoundary = 1.52 + 8 * 0.009 + 120 * 0.001;
    ledger.sample(src, 200 * MS, new double[] {atBoundary}, new double[] {1});
    ledger.tick(200 * MS, 1);
    assertThat(phases().get("a").joules(Domain.CPU)).isCloseTo(120 * 0.001, within(1e-9));
    assertThat(phases().get("other").joules(Domain.CPU)).isCloseTo(8 * 0.199, within(1e-9));
  }

  /**
   * Regression: a boundary read 0.8 ms after the previous read, before the counter's next update,
   * showed {@code other} at 0 W, and that window moved {@code other}'s learnt power half way to 0;
   * the next window, 50 ms of {@code other} and the first 0.6 ms of {@code b}, then gave {@code b}
   * what {@code other}'s low power left: 1.8 J from 0.6 ms (a forked JVM on fake MSR counters,
   * {@code FakeMsrIT}, 40 W throughout, failed this way once in 23 runs).
   */
  @Test
  void aWindowShorterThanTheCountersUpdateDoesNotTeachThePhasesPower() {
    long period = MS; // RAPL: updates every millisecond; a reading stands for half a period before
    EnergyLedger l = new EnergyLedger(registry, 64, carbon, 0);
    int s = l.addSource(CPU, 0, period);
    int a = registry.idOf("a");
    int b = registry.idOf("b");
    long aEnd = 999_600_000L;
    long bStart = 1_050_300_000L;
    long bEnd = 1_400_300_000L;
    l.event(100 * MS, 0, a);
    l.event(aEnd, 0, PhaseRegistry.OTHER);
    l.event(bStart, 0, b);
    l.event(bEnd, 0, PhaseRegistry.OTHER);
    long[] reads =
        tenthsThen(
            1_000_100_000L,
            1_000_900_000L,
            1_050_900_000L,
            1_100 * MS,
            1_200 * MS,
            1_300 * MS,
            1_400 * MS,
            1_400_900_000L,
            1_450 * MS,
            1_500 * MS);
    double watts = 40;
    for (long read : reads) {
      double joules = watts * (read / period) * period * 1e-9; // the value at the last update
      l.sample(s, read - period / 2, new double[] {joules}, new double[] {1});
    }
    l.tick(1_500 * MS, 1);
    Map<String, PhaseEnergy> p = phasesOf(l);
    double bTruth = watts * (bEnd - bStart) * 1e-9;
    double aTruth = watts * (aEnd - 100 * MS) * 1e-9;
    assertThat(p.get("b").joules(Domain.CPU)).isCloseTo(bTruth, within(0.01 * bTruth));
    assertThat(p.get("a").joules(Domain.CPU)).isCloseTo(aTruth, within(0.01 * aTruth));
  }

  /**
   * Regression: a counter that stalled for 40 ms just after a phase opened (a loaded machine's fake
   * powercap writer; a virtualised counter can do the same) showed the phase's first window, 20 ms,
   * at 0 J. That window set the phase's learnt power to 0 W, and the next window, 980 ms of the
   * phase and the 1 ms of {@code other} before the read that followed its close, went all to {@code
   * other} by the learnt powers: the phase kept 0.009 J of 40 ({@code FakePowercapIT} in CI). A
   * window in which the counter did not move says nothing about power; one in which it crawled
   * (here at a thousandth of its pace) teaches a power near 0 W, which must not take from the phase
   * the window it fills.
   */
  @ParameterizedTest
  @ValueSource(doubles = {0, 0.001})
  void aCounterThatStallsAsAPhaseOpensDoesNotHandThePhaseToItsNeighbour(double pace) {
    long period = MS;
    EnergyLedger l = new EnergyLedger(registry, 64, carbon, 0);
    int s = l.addSource(CPU, 0, period);
    int gamma = registry.idOf("gamma");
    double watts = 40;
    long open = 1_000 * MS;
    long close = 2_000 * MS;
    l.event(open, 0, gamma);
    l.event(close, 0, PhaseRegistry.OTHER);
    long stallFrom = 1_001 * MS;
    long stallTo = 1_041 * MS;
    // other learnt over nine 100 ms windows, the boundary read 1 ms after the phase opened, a tick
    // 20 ms later while the counter stalls, the boundary read 1 ms after the close (the ticks in
    // between were stretched: nothing changed phase), and exit
    long[] reads = tenthsThen(1_001 * MS, 1_021 * MS, 2_001 * MS, 2_050 * MS);
    for (long read : reads) {
      double shown = // the counter's time: it crawls at pace during the stall, caught up after
          read >= stallFrom && read < stallTo ? stallFrom + pace * (read - stallFrom) : read;
      double joules = watts * shown * 1e-9; // reads fall on the counter's updates
      l.sample(s, read - period / 2, new double[] {joules}, new double[] {1});
    }
    l.tick(2_050 * MS, 1);
    Map<String, PhaseEnergy> p = phasesOf(l);
    double truth = watts * (close - open) * 1e-9;
    assertThat(p.get("gamma").joules(Domain.CPU)).isCloseTo(truth, within(0.01 * truth));
    assertThat(p.get("gamma").joules(Domain.CPU) + p.get("other").joules(Domain.CPU))
        .isCloseTo(watts * 2.050, within(1e-9)); // the counter at exit: nothing lost
  }

  /**
   * A training loop's rhythm against a counter read every 100 ms at its exact update instants: 120
   * ms steps at 450 W and 40 ms of data loading at 150 W, neither ever filling a window. The
   * windows mix the two differently from one to the next, which tells their powers apart.
   */
  @Test
  void phasesShorterThanTheWindowLearnTheirPowerFromHowWindowsMixThem() {
    int step = registry.idOf("step");
    int data = registry.idOf("data");
    long t = 1_000 * MS; // a second of other at 70 W first
    long cycles = 40;
    for (int r = 0; r < cycles; r++) {
      ledger.event(t, 0, step);
      ledger.event(t + 120 * MS, 0, data);
      t += 160 * MS;
    }
    ledger.event(t, 0, PhaseRegistry.OTHER);
    long end = t;
    DoubleUnaryOperator joules =
        s -> {
          double e = 70 * Math.min(s, 1.0);
          if (s > 1.0) {
            double into = Math.min(s, end * 1e-9) - 1.0;
            long whole = (long) Math.floor(into / 0.160);
            double rest = into - whole * 0.160;
            e += whole * (450 * 0.120 + 150 * 0.040);
            e += rest <= 0.120 ? 450 * rest : 450 * 0.120 + 150 * (rest - 0.120);
            e += 70 * Math.max(0, s - end * 1e-9);
          }
          return e;
        };
    run(100 * MS, end + 500 * MS, joules, 1.0);
    Map<String, PhaseEnergy> p = phases();
    double stepTruth = cycles * 450 * 0.120;
    double dataTruth = cycles * 150 * 0.040;
    System.out.printf(
        "step %.3f / %.3f data %.3f / %.3f%n",
        p.get("step").joules(Domain.CPU), stepTruth, p.get("data").joules(Domain.CPU), dataTruth);
    assertThat(p.get("step").joules(Domain.CPU)).isCloseTo(stepTruth, within(0.01 * stepTruth));
    assertThat(p.get("data").joules(Domain.CPU)).isCloseTo(dataTruth, within(0.03 * dataTruth));
  }

  /**
   * A drain hands changes over thread by thread: here thread 1's (a over [10, 60) ms) come after
   * thread 2's (b over [40, 90) ms), as the most recently changed thread comes first. The ledger
   * takes them in time order, so each phase gets its own time; taken as they came, thread 1's were
   * moved to 90 ms, and a vanished.
   */
  @Test
  void changesOfSeveralThreadsInOneDrainAreTakenInTimeOrder() {
    int a = registry.idOf("a");
    int b = registry.idOf("b");
    io.jouletrace.agent.phase.PhaseChanges drain =
        new io.jouletrace.agent.phase.PhaseChanges() {
          @Override
          public boolean pending() {
            return true;
          }

          @Override
          public void drain(io.jouletrace.agent.phase.PhaseEvents sink, long now) {
            sink.accept(40 * MS, 2, b);
            sink.accept(90 * MS, 2, PhaseRegistry.OTHER);
            sink.accept(10 * MS, 1, a);
            sink.accept(60 * MS, 1, PhaseRegistry.OTHER);
          }
        };
    ledger.collect(drain, 100 * MS);
    run(100 * MS, 100 * MS, t -> 30 * t, 1.0);

    Map<String, PhaseEnergy> p = phases();
    // [10, 40) a alone, [40, 60) a and b half each, [60, 90) b alone
    assertThat(p.get("a").wallSeconds()).isCloseTo(0.030 + 0.010, within(1e-12));
    assertThat(p.get("b").wallSeconds()).isCloseTo(0.010 + 0.030, within(1e-12));
    assertThat(p.get("other").wallSeconds()).isCloseTo(0.020, within(1e-12));
    assertThat(p.get("a").joules(Domain.CPU)).isCloseTo(30 * 0.040, within(1e-9));
    assertThat(ledger.lateChanges()[0]).isZero();
  }

  /** Reads every 100 ms from 100 to 900 ms, then the given ones. */
  private static long[] tenthsThen(long... then) {
    long[] reads = new long[9 + then.length];
    for (int i = 0; i < 9; i++) {
      reads[i] = (i + 1) * 100 * MS;
    }
    System.arraycopy(then, 0, reads, 9, then.length);
    return reads;
  }

  /** The ledger's phases by name, through the carbon stage. */
  private Map<String, PhaseEnergy> phasesOf(EnergyLedger l) {
    Map<String, PhaseEnergy> p = new HashMap<>();
    carbon
        .apply(l.snapshot(Instant.EPOCH, null, "training", Map.of(), "host"))
        .phases()
        .forEach(e -> p.put(e.name(), e));
    return p;
  }
}

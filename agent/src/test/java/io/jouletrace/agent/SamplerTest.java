package io.jouletrace.agent;

import static io.jouletrace.agent.SamplerFakes.MS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.agent.SamplerFakes.Counter;
import io.jouletrace.agent.SamplerFakes.ScriptedPhases;
import io.jouletrace.agent.SamplerFakes.VirtualClock;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.timeline.CpuShare;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.SourceUnavailableException;
import io.jouletrace.sources.cpu.CpuTimes;
import io.jouletrace.sources.cpu.OshiCpuTimes;
import io.jouletrace.sources.nvml.GpuProcesses;
import io.jouletrace.sources.nvml.Nvml;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sampling loop in virtual time, with fake sources: what it reads, when, and how it ends. */
class SamplerTest {

  private final PhaseRegistry registry = new PhaseRegistry(16, w -> {});
  private final EnergyLedger ledger = SamplerFakes.ledger(registry);
  private final VirtualClock clock = new VirtualClock();
  private final ScriptedPhases phases = new ScriptedPhases(clock);
  private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
  private final Log log = new Log(lines::add);

  /** Openers that open nothing: the test adds its sources itself. */
  private static final Sampler.Openers NOTHING =
      new Sampler.Openers() {
        @Override
        public Sampler.Gpus gpus(AgentConfig config, Log log) throws SourceUnavailableException {
          throw new SourceUnavailableException("no GPU in this test");
        }

        @Override
        public OshiCpuTimes cpuTimes() {
          throw new IllegalStateException("OSHI failed to start (test)");
        }
      };

  private Sampler sampler(String args, Sampler.Openers openers) {
    Sampler s = new Sampler(SamplerFakes.config(args), ledger, phases, log, 0, -1, clock, openers);
    clock.sampler = s;
    return s;
  }

  private Counter rapl() {
    return new Counter(clock, Domain.CPU, true, Long.MAX_VALUE, t -> 50 * t * 1e-9);
  }

  private Counter gpu() {
    return new Counter(clock, Domain.GPU, false, Long.MAX_VALUE, t -> 300 * t * 1e-9);
  }

  @Test
  void boundarySourcesAreReadWithinTheResolutionOfAChangeAndOthersOnlyAtTicks() {
    Sampler s = sampler("interval=100ms,boundary.resolution=1ms,attribution=host,gpu=off", NOTHING);
    Counter rapl = rapl();
    Counter gpu = gpu();
    s.add(rapl);
    s.add(gpu);
    ledger.seal();
    int a = registry.idOf("a");
    phases.at(30_400_000L, 0, a).at(250_700_000L, 0, PhaseRegistry.OTHER);
    clock.end = 400 * MS;

    s.loop();

    assertThat(gpu.reads).containsExactly(100 * MS, 200 * MS, 300 * MS, 400 * MS);
    assertThat(rapl.reads).anyMatch(t -> t > 30_400_000L && t <= 31_400_000L);
    assertThat(rapl.reads).anyMatch(t -> t > 250_700_000L && t <= 251_700_000L);
    assertThat(rapl.reads).hasSize(6); // 4 ticks and 2 boundaries
  }

  /**
   * A read during which the sampler's thread lost its core for 25 ms (a loaded host): stamped with
   * the middle of the read, the reading stood 12.5 ms after the instant of its value, and the
   * energy of those milliseconds went to the wrong side of the phase boundary that came between
   * them (a CI run of {@code FakeGpuIT} once gave a 0.6 s phase at 300 W 3.6 J too little). Such a
   * read is taken again at once, and the reading it gives stands where it was taken.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aReadInterruptedByTheSchedulerIsTakenAgain(boolean beforeTheValue) {
    Sampler s = sampler("interval=100ms,attribution=host,gpu=off", NOTHING);
    VirtualClock c = clock; // the counter's own field is a Sampler.Clock
    long[] interrupted = {Long.MIN_VALUE};
    Counter gpu =
        new Counter(clock, Domain.GPU, false, Long.MAX_VALUE, t -> 300 * t * 1e-9) {
          @Override
          public void sample(double[] joules) {
            boolean lose = interrupted[0] == Long.MIN_VALUE && c.now >= 300 * MS;
            if (lose) {
              interrupted[0] = c.now;
            }
            if (lose && beforeTheValue) {
              c.now += 25 * MS; // the value is read after the lost core
            }
            super.sample(joules);
            if (lose && !beforeTheValue) {
              c.now += 25 * MS; // the value was read before it
            }
          }
        };
    s.add(gpu);
    ledger.seal();
    int a = registry.idOf("a");
    // a first for 30 ms, where its power is learnt; then it opens again 5 ms after the interrupted
    // read began
    phases.at(30 * MS, 0, a).at(60 * MS, 0, PhaseRegistry.OTHER);
    phases.at(305 * MS, 0, a).at(905 * MS, 0, PhaseRegistry.OTHER);
    clock.end = 1_200 * MS;

    s.loop();
    s.lastTickSafely();

    assertThat(interrupted[0]).isEqualTo(300 * MS);
    assertThat(gpu.reads).contains(325 * MS); // taken again, once
    assertThat(s.requestDrains()).contains("1 reads taken again after losing the core");
    EnergySnapshot snap = ledger.snapshot(Instant.EPOCH, null, "training", Map.of(), "host");
    double truth = 300 * (0.03 + 0.6);
    assertThat(snap.phases())
        .filteredOn(p -> p.name().equals("a"))
        .singleElement()
        .satisfies(p -> assertThat(p.joules(Domain.GPU)).isCloseTo(truth, within(0.002 * truth)));
  }

  @Test
  void aSourceIsReadOftenEnoughToStayWrapSafe() {
    Sampler s = sampler("interval=100ms,attribution=host,gpu=off", NOTHING);
    Counter wrapping = new Counter(clock, Domain.CPU, false, 7 * MS, t -> t * 1e-9);
    s.add(wrapping);
    ledger.seal();
    clock.end = 300 * MS;

    s.loop();

    assertThat(wrapping.reads).hasSizeGreaterThan(300 / 7);
    for (int i = 1; i < wrapping.reads.size(); i++) {
      assertThat(wrapping.reads.get(i) - wrapping.reads.get(i - 1)).isLessThanOrEqualTo(7 * MS);
    }
  }

  @Test
  void withoutBoundarySourcesTheLoopSleepsFromTickToTick() {
    Sampler s = sampler("interval=100ms,boundary.resolution=1ms,attribution=host", NOTHING);
    s.add(gpu());
    ledger.seal();
    int a = registry.idOf("a");
    for (long t = 3 * MS; t < 300 * MS; t += 5 * MS) {
      phases.at(t, 0, (t / (5 * MS)) % 2 == 0 ? a : PhaseRegistry.OTHER);
    }
    clock.end = 300 * MS;

    s.loop();

    assertThat(clock.waits).containsOnly(100 * MS);
  }

  /**
   * A thread that changes phase faster than the ticks drain it asks for a drain before its ring is
   * full: the loop, asleep until the next tick, wakes and takes the changes at once (without
   * reading the counters, which only ticks do here), and sleeps again until that tick.
   */
  @Test
  void aThreadWhoseRingFillsBeforeTheTickIsDrainedWhenItAsks() {
    Sampler s = sampler("interval=100ms,attribution=host", NOTHING);
    Counter gpu = gpu();
    s.add(gpu);
    ledger.seal();
    clock.waker = phases;
    int a = registry.idOf("a");
    for (long t = 3 * MS; t < 300 * MS; t += 5 * MS) {
      phases.at(t, 0, (t / (5 * MS)) % 2 == 0 ? a : PhaseRegistry.OTHER);
    }
    phases.fillingAt(150 * MS).fillingAt(170 * MS);
    clock.end = 300 * MS;

    s.loop();

    assertThat(phases.drains).contains(150 * MS, 170 * MS);
    assertThat(phases.drains).filteredOn(t -> t % (100 * MS) != 0).hasSize(2);
    assertThat(gpu.reads).containsExactly(100 * MS, 200 * MS, 300 * MS);
  }

  /**
   * Drains on request, with their wake-ups, take at most half a percent of a core over time (a
   * bucket of 5 ms that fills at 0.5 % of the wall time; each drain counts its CPU time and 60 us
   * for its wake-up): requests every 100 us for a second get about 10 ms / 60 us = 166 drains, not
   * ten thousand.
   */
  @Test
  void drainsOnRequestStayWithinTheirBudget() {
    Sampler s = sampler("interval=100ms,attribution=host", NOTHING);
    s.add(gpu());
    ledger.seal();
    clock.waker = phases;
    clock.cpuPerWait = 0;
    for (long t = 100_000; t < 1_000 * MS; t += 100_000) {
      phases.fillingAt(t);
    }
    clock.end = 1_000 * MS;

    s.loop();

    long onRequest = phases.drains.stream().filter(t -> t % (100 * MS) != 0).count();
    assertThat(onRequest).isBetween(160L, 170L);
    assertThat(s.requestDrains()).startsWith(onRequest + " drains on request");
  }

  @Test
  void boundaryReadsPerIntervalStayWithinTheBudget() {
    Sampler s = sampler("interval=100ms,boundary.resolution=1ms,attribution=host", NOTHING);
    Counter rapl = rapl();
    s.add(rapl);
    ledger.seal();
    int a = registry.idOf("a");
    for (long t = MS / 2; t < 500 * MS; t += 2 * MS) {
      phases.at(t, 0, (t / (2 * MS)) % 2 == 0 ? a : PhaseRegistry.OTHER);
    }
    clock.end = 500 * MS;

    s.loop();

    for (long tick = 0; tick < 500 * MS; tick += 100 * MS) {
      long from = tick;
      long reads = rapl.reads.stream().filter(t -> t > from && t < from + 100 * MS).count();
      assertThat(reads).isLessThanOrEqualTo(SamplerLimits.MAX_BOUNDARY_READS_PER_TICK);
    }
  }

  /** This process's share over fake CPU times: the host a quarter busy, the process as given. */
  private CpuShare fakeCpu(long[] processCpu) {
    return new CpuShare(
        new CpuTimes() {
          @Override
          public HostTicks host() {
            long ms = clock.nanoTime() / MS;
            return new HostTicks(ms / 2, ms * 2); // the host: a quarter busy
          }

          @Override
          public long processCpuNanos() {
            return processCpu[0];
          }

          @Override
          public int logicalCpus() {
            return 2;
          }
        });
  }

  /** A host of two logical CPUs, all busy until {@code busyUntil}, a quarter busy after. */
  private static CpuShare hostBusyUntil(VirtualClock clock, long busyUntil) {
    return new CpuShare(
        new CpuTimes() {
          @Override
          public HostTicks host() {
            long ms = clock.nanoTime() / MS;
            long until = busyUntil / MS;
            long total = 2 * ms; // two CPUs
            long busy = ms <= until ? total : 2 * until + (total - 2 * until) / 4;
            return new HostTicks(busy, total);
          }

          @Override
          public long processCpuNanos() {
            return clock.nanoTime(); // one core's worth: never quiet
          }

          @Override
          public int logicalCpus() {
            return 2;
          }
        });
  }

  /**
   * Start-up work that can wait (the report's warm-up) waits for a tick at which the host had a
   * core to spare: not while every core is busy, from the first tick after one is idle.
   */
  @Test
  void spareCpuIsSignalledAtTheFirstTickWithAnIdleCore() {
    assertThat(spareCpuSeenAfter(Long.MAX_VALUE, 1_000 * MS)).isEqualTo(-1);
    // The tick at 500 ms closes a window of busy cores; the one at 600 ms, a window of idle ones.
    assertThat(spareCpuSeenAfter(500 * MS, 1_000 * MS)).isEqualTo(600 * MS);
  }

  /**
   * Runs a sampler on a host busy until {@code busyUntil}; returns the time of the tick after which
   * a spare core was first signalled, or -1.
   */
  private long spareCpuSeenAfter(long busyUntil, long end) {
    VirtualClock c = new VirtualClock();
    EnergyLedger l = SamplerFakes.ledger(registry);
    Sampler s =
        new Sampler(
            SamplerFakes.config("interval=100ms,boundary.resolution=off,gpu=off"),
            l,
            new ScriptedPhases(c),
            log,
            0,
            -1,
            c,
            NOTHING);
    c.sampler = s;
    s.useCpuShare(hostBusyUntil(c, busyUntil));
    s.add(new Counter(c, Domain.CPU, false, Long.MAX_VALUE, t -> 20 * t * 1e-9));
    l.seal();
    long[] lastClosed = {-1};
    boolean[] open = {false};
    c.onPark =
        t -> {
          if (!open[0] && s.awaitSpareCpu(0)) {
            open[0] = true;
          } else if (!open[0]) {
            lastClosed[0] = t; // the tick at t has not run yet
          }
        };
    c.end = end;
    s.loop();
    return open[0] ? lastClosed[0] : -1;
  }

  /** One run of {@link #manyThreads}: what the loop drained when, and what the phases got. */
  private record ManyThreadsRun(
      List<Long> drains, List<Long> reads, EnergySnapshot snapshot, String debug) {

    double joules(String phase) {
      return snapshot.phases().stream()
          .filter(p -> p.name().equals(phase))
          .mapToDouble(p -> p.joules(Domain.CPU))
          .sum();
    }
  }

  /**
   * Three thousand threads every 100 ms, each opening phase {@code a} for 5 ms (six thousand
   * changes a tick), with a 20 W counter that can be read at boundaries, on a host of two CPUs all
   * busy until {@code busyUntil} and a quarter busy after; the sampler at 100 ms. {@code setup}
   * gets the sampler and its clock before the loop runs.
   */
  private ManyThreadsRun manyThreads(String args, long busyUntil, long end, Setup setup) {
    VirtualClock c = new VirtualClock();
    PhaseRegistry reg = new PhaseRegistry(16, w -> {});
    EnergyLedger l = SamplerFakes.ledger(reg);
    ScriptedPhases p = new ScriptedPhases(c);
    Sampler s = new Sampler(SamplerFakes.config(args), l, p, log, 0, -1, c, NOTHING);
    c.sampler = s;
    c.waker = p;
    s.useCpuShare(hostBusyUntil(c, busyUntil));
    Counter cpu = new Counter(c, Domain.CPU, true, Long.MAX_VALUE, t -> 20 * t * 1e-9);
    s.add(cpu);
    l.seal();
    int a = reg.idOf("a");
    List<long[]> changes = new ArrayList<>();
    int slot = 0;
    for (long batch = 10 * MS; batch < end; batch += 100 * MS) {
      for (int i = 0; i < 3_000; i++, slot++) {
        long start = batch + i * 10_000L; // 10 us apart
        changes.add(new long[] {start, slot % 50_000, a});
        changes.add(new long[] {start + 5 * MS, slot % 50_000, PhaseRegistry.OTHER});
      }
    }
    changes.sort((x, y) -> Long.compare(x[0], y[0]));
    for (long[] e : changes) {
      p.at(e[0], (int) e[1], (int) e[2]);
    }
    setup.accept(s, p, c);
    c.end = end;
    s.loop();
    s.lastTickSafely();
    return new ManyThreadsRun(
        p.drains,
        cpu.reads,
        l.snapshot(Instant.EPOCH, null, "training", Map.of(), "process"),
        s.requestDrains());
  }

  /** What a test of {@link #manyThreads} adds before the loop runs. */
  private interface Setup {
    void accept(Sampler sampler, ScriptedPhases phases, VirtualClock clock);
  }

  private static final Setup AS_IS = (s, p, c) -> {};

  /**
   * While the host is saturated and each tick collects thousands of changes, the ticks still read
   * the counters but leave the changes and the attribution for the first tick with a core to spare:
   * the job's threads keep the CPU. The phases get the same energy as when every tick attributes at
   * once (the profiler's ticks do), and the job 15 J in its first second: 20 W at half the busy
   * host's CPU for 0.5 s, then at all of it for 0.5 s.
   */
  @Test
  void whileTheHostIsSaturatedTicksLeaveManyChangesForASpareCoreAndThePhasesGetTheSameEnergy() {
    // The loop stops at the tick at 1 s, the last before the end of 950 ms.
    ManyThreadsRun deferred =
        manyThreads("interval=100ms,boundary.resolution=off,gpu=off", 500 * MS, 950 * MS, AS_IS);
    ManyThreadsRun atOnce =
        manyThreads(
            "interval=100ms,boundary.resolution=off,gpu=off,profile=true",
            500 * MS,
            950 * MS,
            AS_IS);

    // Up to the tick at 100 ms six thousand changes were collected on a busy host: from the next
    // tick up to the one that closes a window with a spare core (600 ms) nothing is drained; then
    // every tick attributes again.
    assertThat(deferred.drains()).noneMatch(t -> t > 100 * MS && t < 600 * MS);
    assertThat(deferred.drains()).contains(600 * MS, 700 * MS, 800 * MS, 900 * MS, 1_000 * MS);
    // every tick reads the counter, the waiting ones too
    assertThat(deferred.reads())
        .isEqualTo(LongStream.rangeClosed(1, 10).mapToObj(k -> k * 100 * MS).toList());
    assertThat(deferred.debug()).endsWith("4 ticks in 1 waits for a spare core");
    assertThat(atOnce.drains()).contains(200 * MS, 300 * MS, 400 * MS, 500 * MS);
    assertThat(atOnce.debug()).endsWith("0 ticks in 0 waits for a spare core");

    assertThat(deferred.snapshot().totals().joules(Domain.CPU)).isCloseTo(15.0, within(1e-9));
    assertThat(atOnce.snapshot().totals().joules(Domain.CPU)).isCloseTo(15.0, within(1e-9));
    assertThat(deferred.joules("a")).isGreaterThan(1.0);
    assertThat(deferred.joules("a")).isCloseTo(atOnce.joules("a"), within(1e-9));
    assertThat(deferred.joules("other")).isCloseTo(atOnce.joules("other"), within(1e-9));
  }

  /**
   * One thread that changes phase every 50 us (two thousand changes a tick) on a saturated host:
   * its drains cost little, and every tick attributes at once, with reads at boundaries.
   */
  @Test
  void oneThreadChangingPhaseFastNeverWaits() {
    Sampler s = sampler("interval=100ms,boundary.resolution=1ms,gpu=off", NOTHING);
    s.useCpuShare(hostBusyUntil(clock, Long.MAX_VALUE));
    Counter rapl = rapl();
    s.add(rapl);
    ledger.seal();
    int a = registry.idOf("a");
    for (long t = 25_000; t < 1_000 * MS; t += 50_000) {
      phases.at(t, 0, (t / 50_000) % 2 == 0 ? a : PhaseRegistry.OTHER);
    }
    clock.end = 950 * MS;

    s.loop();

    assertThat(s.requestDrains()).endsWith("0 ticks in 0 waits for a spare core");
    for (long tick = 100 * MS; tick < 1_000 * MS; tick += 100 * MS) {
      assertThat(phases.drains).contains(tick);
    }
    assertThat(rapl.reads).anyMatch(t -> t > 500 * MS && t % (100 * MS) != 0);
  }

  /**
   * Three thousand threads new to phases since the last tick, on a saturated host: their first
   * changes are waiting, and the first tick of the burst already leaves them for a spare core.
   */
  @Test
  void aBurstOfNewThreadsWaitsFromItsFirstTick() {
    ManyThreadsRun run =
        manyThreads(
            "interval=100ms,boundary.resolution=off,gpu=off",
            500 * MS,
            950 * MS,
            (s, p, c) -> c.onPark = t -> p.highWater = 3_000 * (t / (100 * MS)));

    assertThat(run.drains()).noneMatch(t -> t < 600 * MS).contains(600 * MS, 700 * MS);
    assertThat(run.debug()).endsWith("5 ticks in 1 waits for a spare core");
  }

  /**
   * Counters that can be read at phase boundaries are not, while readings wait: with thousands of
   * threads changing phase, a boundary of one is no boundary of the job's energy. Once a core is
   * spare, they are again.
   */
  @Test
  void whileReadingsWaitNoCounterIsReadAtBoundaries() {
    ManyThreadsRun run =
        manyThreads("interval=100ms,boundary.resolution=1ms,gpu=off", 500 * MS, 950 * MS, AS_IS);

    assertThat(run.reads())
        .filteredOn(t -> t > 200 * MS && t <= 600 * MS)
        .containsExactly(300 * MS, 400 * MS, 500 * MS, 600 * MS);
    assertThat(run.reads()).anyMatch(t -> t > 600 * MS && t % (100 * MS) != 0);
    assertThat(run.reads()).anyMatch(t -> t < 200 * MS && t % (100 * MS) != 0);
  }

  /** A host saturated throughout: the readings wait two seconds at most, then again. */
  @Test
  void onAHostSaturatedThroughoutReadingsWaitTwoSecondsAtMost() {
    String args = "interval=100ms,boundary.resolution=off,gpu=off";
    ManyThreadsRun run = manyThreads(args, Long.MAX_VALUE, 4_950 * MS, AS_IS);
    ManyThreadsRun atOnce = manyThreads(args + ",profile=true", Long.MAX_VALUE, 4_950 * MS, AS_IS);

    // The tick at 200 ms is the first to wait; its reading is attributed two seconds later, with
    // the changes, and the next wait begins at the tick after.
    List<Long> ticks = run.drains().stream().filter(t -> t % (100 * MS) == 0).toList();
    assertThat(ticks).containsExactly(100 * MS, 2_200 * MS, 4_300 * MS, 5_000 * MS);
    // 20 W at half the host's busy CPU for 5 s; to each phase what ticks that attribute at once
    // give it
    assertThat(run.snapshot().totals().joules(Domain.CPU)).isCloseTo(50.0, within(1e-9));
    assertThat(run.joules("a")).isGreaterThan(1.0).isCloseTo(atOnce.joules("a"), within(1e-9));
  }

  /**
   * A reader of the live figures ends the wait at the next tick (here the one it asked for at
   * once), and so does a thread whose ring fills (at once, and the ticks then attribute at once for
   * two seconds).
   */
  @Test
  void aReaderOrAFillingRingEndsTheWait() {
    ManyThreadsRun read =
        manyThreads(
            "interval=100ms,gpu=off",
            Long.MAX_VALUE,
            1_000 * MS,
            (s, p, c) ->
                c.onPark =
                    t -> {
                      if (t == 500 * MS) {
                        s.freshen(0); // before the tick at 500 ms runs
                      }
                    });
    assertThat(read.drains()).noneMatch(t -> t > 200 * MS && t < 500 * MS).contains(500 * MS);

    ManyThreadsRun filling =
        manyThreads(
            "interval=100ms,gpu=off",
            Long.MAX_VALUE,
            1_000 * MS,
            (s, p, c) -> p.fillingAt(350 * MS));
    assertThat(filling.drains())
        .noneMatch(t -> t > 200 * MS && t < 350 * MS)
        .contains(350 * MS, 400 * MS, 500 * MS, 600 * MS, 1_000 * MS);
  }

  /** Exit never waits for a spare core: stopping the sampler ends the wait. */
  @Test
  void stoppingTheSamplerEndsTheWaitForASpareCore() {
    Sampler s = sampler("interval=100ms,boundary.resolution=off,gpu=off", NOTHING);
    s.useCpuShare(hostBusyUntil(clock, Long.MAX_VALUE));
    assertThat(s.awaitSpareCpu(0)).isFalse();
    s.stop(Thread.currentThread());
    assertThat(s.awaitSpareCpu(0)).isTrue();
  }

  /**
   * The profiler shares energy over windows an interval long, and JFR's events are a time series:
   * no quiet stretch while either runs.
   */
  @ParameterizedTest
  @ValueSource(strings = {"profile=true", "jfr=true"})
  void aQuietJobIsSampledAtEveryIntervalWhileTheProfilerRunsOrJfrReadsTheTicks(String key) {
    Sampler s = sampler("interval=100ms,boundary.resolution=off,gpu=off," + key, NOTHING);
    s.useCpuShare(fakeCpu(new long[] {0}));
    Counter cpu = new Counter(clock, Domain.CPU, false, Long.MAX_VALUE, t -> 20 * t * 1e-9);
    s.add(cpu);
    ledger.seal();
    phases.wakeable = true;
    clock.waker = phases;
    clock.end = 1_000 * MS;

    s.loop();

    assertThat(cpu.reads).hasSize(10).allMatch(t -> t % (100 * MS) == 0);
  }

  /** A sampler at 100 ms whose loop a phase change wakes, on a host a quarter busy (fakeCpu). */
  private Sampler wakeableSampler(long[] processCpu) {
    Sampler s = sampler("interval=100ms,boundary.resolution=off,gpu=off", NOTHING);
    s.useCpuShare(fakeCpu(processCpu));
    phases.wakeable = true;
    clock.waker = phases;
    return s;
  }

  /** A 20 W CPU counter added to the sampler, the ledger sealed. */
  private Counter cpu20W(Sampler s) {
    Counter cpu = new Counter(clock, Domain.CPU, false, Long.MAX_VALUE, t -> 20 * t * 1e-9);
    s.add(cpu);
    ledger.seal();
    return cpu;
  }

  /**
   * A job that does nothing (no phase, no CPU time) is sampled once a second rather than at every
   * interval; a phase change wakes the loop at once, the tick after it comes at the interval, and
   * once no phase has changed since a tick, ticks stretch to a second again, inside the phase as
   * outside (the phase's shares stay as they are until the next change, which wakes the loop).
   */
  @Test
  void aJobIsSampledEverySecondWhileNoPhaseChangesAndAChangeWakesTheLoop() {
    long[] processCpu = {0};
    Sampler s = wakeableSampler(processCpu); // the host: a quarter of two CPUs busy, half a CPU
    Counter cpu = cpu20W(s);
    int a = registry.idOf("a");
    // quiet up to 3.25 s, then phase a for 0.5 s (the process busy meanwhile), then quiet again
    phases.at(3_250 * MS, 0, a).at(3_750 * MS, 0, PhaseRegistry.OTHER);
    clock.end = 7_000 * MS;
    // the process uses half a CPU while the phase is open, however often the loop wakes
    clock.onPark = now -> processCpu[0] = Math.max(0, Math.min(now, 3_750 * MS) - 3_250 * MS) / 2;

    s.loop();

    // 100 ms; quiet from the second tick on (the first has no earlier one to compare): a tick a
    // second; woken by the change at 3.25 s: a tick at once, one at the interval after it, then
    // none until the close at 3.75 s wakes the loop; one at the interval after that, then a tick
    // a second again
    assertThat(cpu.reads)
        .containsExactly(
            100 * MS,
            200 * MS,
            1_200 * MS,
            2_200 * MS,
            3_200 * MS,
            3_250 * MS,
            3_350 * MS,
            3_750 * MS,
            3_850 * MS,
            4_850 * MS,
            5_850 * MS,
            6_850 * MS);
    EnergySnapshot snap = ledger.snapshot(Instant.EPOCH, null, "training", Map.of(), "process");
    assertThat(snap.phases())
        .filteredOn(p -> p.name().equals("a"))
        .singleElement()
        .satisfies(p -> assertThat(p.joules(Domain.CPU)).isCloseTo(10.0, within(1e-9)));
  }

  /**
   * A job that computes outside any phase is sampled once a second too: all of its energy goes to
   * {@code other} whatever the ticks, and its share of the host comes out the same over longer
   * windows of steady work. A phase wakes the loop and brings the interval back.
   */
  @Test
  void aBusyJobOutsideAnyPhaseIsSampledEverySecondWithTheSameEnergyAndShare() {
    long[] processCpu = {0};
    Sampler s = wakeableSampler(processCpu); // the host: a quarter of two CPUs busy, half a CPU
    Counter cpu = cpu20W(s);
    int a = registry.idOf("a");
    phases.at(4_250 * MS, 0, a).at(4_450 * MS, 0, PhaseRegistry.OTHER);
    clock.end = 6_000 * MS;
    // The process: a quarter of a CPU all along, half of the host's busy time.
    long[] lastPark = {0};
    clock.onPark =
        now -> {
          processCpu[0] += (now - lastPark[0]) / 4;
          lastPark[0] = now;
        };

    s.loop();

    assertThat(cpu.reads)
        .containsExactly(
            100 * MS,
            200 * MS,
            1_200 * MS,
            2_200 * MS,
            3_200 * MS,
            4_200 * MS,
            4_250 * MS,
            4_350 * MS,
            4_450 * MS,
            4_550 * MS,
            5_550 * MS);
    EnergySnapshot snap = ledger.snapshot(Instant.EPOCH, null, "training", Map.of(), "process");
    // 20 W over 5.55 s read, half of it the job's: 55.5 J, 2 J of them in phase a's 0.2 s.
    assertThat(snap.totals().joules(Domain.CPU)).isCloseTo(55.5, within(1e-6));
    assertThat(snap.phases())
        .filteredOn(p -> p.name().equals("a"))
        .singleElement()
        .satisfies(p -> assertThat(p.joules(Domain.CPU)).isCloseTo(2.0, within(1e-6)));
  }

  /**
   * Regression: a start-up failure inside {@link Sampler#open()} (here OSHI failing to start) left
   * the ledger unsealed, so that phase changes were kept from the start for good, and the CPU share
   * silently stayed 1.
   */
  @Test
  void startUpFailureInOpenStillSealsTheLedgerAndReportsTheCpuShare() {
    Sampler s = sampler("cpu.source=model,gpu=off,attribution=process", NOTHING);
    Throwable thrown = null;
    try {
      s.open();
    } catch (Throwable t) {
      thrown = t;
    }
    int a = registry.idOf("a");
    for (int i = 0; i < 50_000; i++) {
      phases.at(i * 100_000L, 0, i % 2 == 0 ? a : PhaseRegistry.OTHER);
    }
    for (clock.now = 0; clock.now <= 5_000 * MS; clock.now += 100 * MS) {
      s.tickSafely();
    }

    assertThat(thrown).isNull();
    assertThat(ledger.retainedEvents()).isLessThanOrEqualTo(8192);
    assertThat(lines)
        .anyMatch(l -> l.contains("CPU and DRAM energy unavailable") && l.contains("probe"))
        .anyMatch(l -> l.contains("share of the host's CPU cannot be measured"));
  }

  /**
   * Regression: NVML opened by the init thread after shutdown had started was never shut down
   * ({@link Sampler#close()} had already gone over the sources).
   */
  @Test
  void gpuOpenedAfterCloseIsClosed() throws Exception {
    CountDownLatch opening = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    Counter gpu = gpu();
    Sampler s =
        sampler(
            "cpu.source=model,gpu=on,attribution=host",
            new Sampler.Openers() {
              @Override
              public Sampler.Gpus gpus(AgentConfig config, Log log) {
                opening.countDown();
                try {
                  proceed.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                return new Sampler.Gpus(gpu, NO_PROCESSES);
              }

              @Override
              public OshiCpuTimes cpuTimes() {
                throw new IllegalStateException("no OSHI in this test");
              }
            });
    Thread init = new Thread(s::open, "test-init");
    init.start();
    assertThat(opening.await(10, TimeUnit.SECONDS)).isTrue();

    s.close(); // shutdown, while NVML is still opening
    proceed.countDown();
    init.join(10_000);

    assertThat(init.isAlive()).isFalse();
    assertThat(gpu.closed).isTrue();
  }

  /**
   * Regression: {@link Sampler#close()} went over the sources while the init thread could add one;
   * that source was then either missed or the iteration failed.
   */
  @Test
  void aSourceAddedWhileClosingIsClosedToo() throws Exception {
    CountDownLatch closing = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    Sampler s = sampler("attribution=host,gpu=off", NOTHING);
    Counter slow =
        new Counter(clock, Domain.CPU, true, Long.MAX_VALUE, t -> 0) {
          @Override
          public void close() {
            closing.countDown();
            try {
              proceed.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            super.close();
          }
        };
    s.add(slow);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread shutdown =
        new Thread(
            () -> {
              try {
                s.close();
              } catch (Throwable t) {
                failure.set(t);
              }
            });
    shutdown.start();
    assertThat(closing.await(10, TimeUnit.SECONDS)).isTrue();
    Counter late = gpu();
    Thread init = new Thread(() -> s.add(late));
    init.start(); // blocks until close() is done, or (before the fix) slipped in during it
    proceed.countDown();
    shutdown.join(10_000);
    init.join(10_000);

    assertThat(failure.get()).isNull();
    assertThat(slow.closed).isTrue();
    assertThat(late.closed).isTrue();
  }

  private static final GpuProcesses NO_PROCESSES =
      new GpuProcesses() {
        @Override
        public Set<Long> computeProcesses(int gpuIndex) {
          return Set.of();
        }

        @Override
        public List<Nvml.ProcessSample> smSamples(int gpuIndex, long sinceMicros) {
          return List.of();
        }
      };
}

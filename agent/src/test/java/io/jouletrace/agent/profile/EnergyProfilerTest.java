package io.jouletrace.agent.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.exporter.EnergyProfile;
import io.jouletrace.sources.Domain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnergyProfilerTest {

  private static final long MS = 1_000_000L;
  private static final long S = 1_000_000_000L;
  private static final long T0 = 1_000 * S;

  private final PhaseRegistry registry = new PhaseRegistry(16, w -> {});
  private final int train = registry.idOf("train");
  private final int load = registry.idOf("load");

  private EnergyProfiler profiler(int maxStacks) {
    return new EnergyProfiler(registry, 16, T0, S, maxStacks);
  }

  private static int stack(EnergyProfiler p, String... frames) {
    return p.intern(frames, frames.length, false);
  }

  @Test
  void energyIsSharedInProportionToSamples() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "Main.main", "Work.alpha");
    int b = stack(p, "Main.main", "Work.beta");
    // 2 s at 10 W in 10 ms windows, all in other; samples every 20 ms, 3 of alpha per beta
    for (long t = T0; t < T0 + 2 * S; t += 10 * MS) {
      p.energy(PhaseRegistry.OTHER, Domain.CPU, 0.1, t, t + 10 * MS);
    }
    int i = 0;
    for (long t = T0 + 5 * MS; t < T0 + 2 * S; t += 20 * MS) {
      p.sample(t, 7, i++ % 4 == 3 ? b : a);
    }
    p.sampledUpTo(T0 + 3 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    assertThat(f.get("other;Main.main;Work.alpha")).isCloseTo(15.0, within(1e-9));
    assertThat(f.get("other;Main.main;Work.beta")).isCloseTo(5.0, within(1e-9));
    EnergyProfile s = p.summary(null);
    assertThat(s.joules()).isCloseTo(20.0, within(1e-9));
    assertThat(s.samples()).isEqualTo(100);
    assertThat(s.overall().bySelf().get(0).method()).isEqualTo("Work.alpha");
    assertThat(s.overall().byTotal().get(0).method()).isEqualTo("Main.main");
    assertThat(s.overall().byTotal().get(0).totalJoules()).isCloseTo(20.0, within(1e-9));
    assertThat(s.overall().byTotal().get(0).selfJoules()).isZero();
  }

  @Test
  void threadsShareInProportionToTheirCpuTimeAndSamplesSayWhichMethodsUsedIt() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "Busy.run", "Work.alpha");
    int b = stack(p, "Busy.run", "Work.beta");
    int c = stack(p, "Half.run", "Work.gamma");
    int d = stack(p, "Virtual.run", "Work.delta");
    // 2 s at 10 W; JFR samples threads 1, 2 and 3 alike every 20 ms (thread 2 waits for a CPU
    // half of the time), but thread 1 uses 1 CPU-s per second and thread 2 0.5; thread 3 is
    // virtual (no CPU time): its samples weigh the mean of the others
    p.energy(PhaseRegistry.OTHER, Domain.CPU, 20, T0, T0 + 2 * S);
    int i = 0;
    for (long t = T0 + 5 * MS; t < T0 + 2 * S; t += 20 * MS) {
      p.sample(t, 1, i++ % 4 == 3 ? b : a);
      p.sample(t, 2, c);
      p.sample(t, 3, d);
    }
    long[] ids = {1, 2, 3};
    for (long t = T0 - 100 * MS; t <= T0 + 2200 * MS; t += 250 * MS) {
      long since = t - T0;
      p.threadCpu(t, ids, new long[] {5 * S + since, 7 * S + since / 2, -1}, 3, false);
    }
    p.sampledUpTo(T0 + 3 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    // per bucket: weights 1/50 (thread 1), 0.5/50 (thread 2), mean 0.75/50 (thread 3)
    double whole = 20.0 / (1 + 0.5 + 0.75);
    assertThat(f.get("other;Busy.run;Work.alpha")).isCloseTo(whole * 0.75, within(1e-9));
    assertThat(f.get("other;Busy.run;Work.beta")).isCloseTo(whole * 0.25, within(1e-9));
    assertThat(f.get("other;Half.run;Work.gamma")).isCloseTo(whole * 0.5, within(1e-9));
    assertThat(f.get("other;Virtual.run;Work.delta")).isCloseTo(whole * 0.75, within(1e-9));
  }

  @Test
  void aThreadStartedOrEndedInsideABucketIsWeighedByItsCpuTimeThere() {
    EnergyProfiler p = profiler(100);
    int steady = stack(p, "Steady.run");
    int born = stack(p, "Born.run");
    int dies = stack(p, "Dies.run");
    // one bucket of 10 J; thread 1 runs throughout at 1 CPU-s/s, thread 2 starts at 500 ms at
    // 1 CPU-s/s, thread 3 runs at 0.5 CPU-s/s and ends at 700 ms; all sampled alike every 20 ms
    p.energy(PhaseRegistry.OTHER, Domain.CPU, 10, T0, T0 + S);
    for (long t = T0 + 5 * MS; t < T0 + S; t += 20 * MS) {
      p.sample(t, 1, steady);
      if (t >= T0 + 500 * MS) {
        p.sample(t, 2, born);
      }
      if (t < T0 + 700 * MS) {
        p.sample(t, 3, dies);
      }
    }
    // every thread read every 250 ms, the live ones only
    for (long t = T0 - 100 * MS; t <= T0 + 1150 * MS; t += 250 * MS) {
      long at = t - T0;
      long cpu1 = 5 * S + at;
      long cpu2 = Math.max(0, at - 500 * MS);
      long cpu3 = 3 * S + at / 2;
      if (at < 500 * MS) {
        p.threadCpu(t, new long[] {1, 3}, new long[] {cpu1, cpu3}, 2, true);
      } else if (at < 700 * MS) {
        p.threadCpu(t, new long[] {3, 2, 1}, new long[] {cpu3, cpu2, cpu1}, 3, true);
      } else {
        p.threadCpu(t, new long[] {1, 2}, new long[] {cpu1, cpu2}, 2, true);
      }
    }
    p.sampledUpTo(T0 + 3 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    // CPU in the bucket: thread 1 1 s; thread 2 0.5 s (none before its first reading, as it was
    // not alive at the one before); thread 3 0.5 CPU-s/s from its last reading (650 ms) up to its
    // last sample (685 ms), 0.3425 s
    double sum = 1 + 0.5 + 0.3425;
    assertThat(f.get("other;Steady.run")).isCloseTo(10 * 1 / sum, within(1e-9));
    assertThat(f.get("other;Born.run")).isCloseTo(10 * 0.5 / sum, within(1e-9));
    assertThat(f.get("other;Dies.run")).isCloseTo(10 * 0.3425 / sum, within(1e-9));
  }

  @Test
  void aPhaseWhoseSamplesUsedNoCpuSharesItsEnergyEquallyAndKeepsIt() {
    EnergyProfiler p = profiler(100);
    int wait = stack(p, "Loader.run", "Socket.read");
    int other = stack(p, "Main.run");
    p.threadPhase(T0, 1, load);
    p.energy(load, Domain.CPU, 6, T0, T0 + S);
    p.energy(PhaseRegistry.OTHER, Domain.CPU, 4, T0, T0 + S);
    for (long t = T0 + 5 * MS; t < T0 + S; t += 20 * MS) {
      p.sample(t, 1, wait);
      p.sample(t, 2, other);
    }
    long[] ids = {1, 2};
    p.threadCpu(T0 - MS, ids, new long[] {S, S}, 2, false);
    p.threadCpu(T0 + S + MS, ids, new long[] {S, 2 * S}, 2, false);
    p.sampledUpTo(T0 + 2 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    assertThat(f.get("load;Loader.run;Socket.read")).isCloseTo(6, within(1e-9));
    assertThat(f.get("other;Main.run")).isCloseTo(4, within(1e-9));
  }

  @Test
  void aPhaseEnergyGoesOnlyToTheStacksOfThreadsInThatPhase() {
    EnergyProfiler p = profiler(100);
    int trainer = stack(p, "Trainer.run", "Net.forward");
    int loader = stack(p, "Loader.run", "Loader.next");
    int idle = stack(p, "Other.run");
    // thread 1 trains over [0.2 s, 1.6 s), thread 2 loads over [0.5 s, 1.0 s); thread 3 never
    p.threadPhase(T0 + 200 * MS, 1, train);
    p.threadPhase(T0 + 1600 * MS, 1, PhaseRegistry.OTHER);
    p.threadPhase(T0 + 500 * MS, 2, load);
    p.threadPhase(T0 + 1000 * MS, 2, PhaseRegistry.OTHER);
    p.energy(train, Domain.CPU, 30, T0 + 200 * MS, T0 + 1600 * MS);
    p.energy(load, Domain.CPU, 8, T0 + 500 * MS, T0 + 1000 * MS);
    p.energy(PhaseRegistry.OTHER, Domain.DRAM, 2, T0, T0 + 2 * S);
    for (long t = T0 + 10 * MS; t < T0 + 2 * S; t += 20 * MS) {
      p.sample(t, 1, trainer);
      p.sample(t, 2, loader);
      p.sample(t, 3, idle);
    }
    p.sampledUpTo(T0 + 3 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    assertThat(f.get("train;Trainer.run;Net.forward")).isCloseTo(30, within(1e-9));
    assertThat(f.get("load;Loader.run;Loader.next")).isCloseTo(8, within(1e-9));
    assertThat(f)
        .doesNotContainKeys("train;Loader.run;Loader.next", "load;Trainer.run;Net.forward");
    // other's energy goes to the samples taken outside any phase, on all three threads
    double other =
        f.getOrDefault("other;Trainer.run;Net.forward", 0.0)
            + f.getOrDefault("other;Loader.run;Loader.next", 0.0)
            + f.get("other;Other.run");
    assertThat(other).isCloseTo(2, within(1e-9));
    assertThat(f.get("other;Other.run")).isGreaterThan(f.get("other;Trainer.run;Net.forward"));
  }

  @Test
  void energyWithoutSamplesWaitsForTheNextSampleOfItsPhaseThenIsNamed() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "A.a");
    p.sample(T0 - 5 * MS, 1, a); // before the first bucket: counted as dropped
    p.energy(train, Domain.CPU, 4, T0, T0 + 2 * S); // buckets 0 and 1
    p.threadPhase(T0, 1, train);
    p.sample(T0 + 100 * MS, 2, a); // sampling has started, but not on a thread in train
    p.sample(T0 + 1500 * MS, 1, a); // only bucket 1 has a sample of train
    p.energy(load, Domain.CPU, 9, T0, T0 + 9 * S); // load never sampled
    p.sample(T0 + 8500 * MS, 2, a); // samples from other keep the buckets going
    p.sampledUpTo(T0 + 20 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    assertThat(f.get("train;A.a")).isCloseTo(4, within(1e-9));
    assertThat(f.get("load;" + EnergyProfiler.NO_SAMPLE)).isCloseTo(9, within(1e-9));
    assertThat(p.summary(null).droppedSamples()).isEqualTo(1);
  }

  @Test
  void energyAfterTheLastDeliveredSampleIsNamedAndDoesNotFavourWhatRanBefore() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "Work.alpha");
    int b = stack(p, "Work.beta");
    // 3 s at 10 W; alpha for 750 ms then beta for 250 ms, sampled every 10 ms; the stream
    // delivered samples up to 2.4 s, and a few of alpha's after it (flushed, but not marked)
    p.energy(PhaseRegistry.OTHER, Domain.CPU, 30, T0, T0 + 3 * S);
    for (long t = T0 + 5 * MS; t < T0 + 3 * S; t += 10 * MS) {
      boolean alpha = (t - T0) % S < 750 * MS;
      if (t < T0 + 2400 * MS || (alpha && t < T0 + 2600 * MS)) {
        p.sample(t, 1, alpha ? a : b);
      }
    }
    p.sampledUpTo(T0 + 2400 * MS);
    p.finishAt(T0 + 2400 * MS);
    Map<String, Double> f = p.folded(true);
    // 24 J before the cut: 2 s of 3:1 and 0.4 s of alpha; 6 J after it
    assertThat(f.get("other;Work.alpha")).isCloseTo(15 + 4, within(1e-9));
    assertThat(f.get("other;Work.beta")).isCloseTo(5, within(1e-9));
    assertThat(f.get("other;" + EnergyProfiler.NO_SAMPLE)).isCloseTo(6, within(1e-9));
    assertThat(p.summary(null).droppedSamples()).isEqualTo(20);
  }

  @Test
  void aCutInsideTheLastBucketKeepsTheEnergyBeforeItWhereTheLedgerHasNotFilledTheBucket() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "Work.alpha");
    // 2.3 s at 10 W in 100 ms windows; samples every 10 ms, delivered up to 2.2 s: the bucket from
    // 2 s on holds 0.3 s of energy, 0.2 s of it before the cut
    for (long t = T0; t < T0 + 2300 * MS; t += 100 * MS) {
      p.energy(PhaseRegistry.OTHER, Domain.CPU, 1, t, t + 100 * MS);
    }
    for (long t = T0 + 5 * MS; t < T0 + 2200 * MS; t += 10 * MS) {
      p.sample(t, 1, a);
    }
    p.sampledUpTo(T0 + 2200 * MS);
    p.finishAt(T0 + 2200 * MS);
    Map<String, Double> f = p.folded(true);
    assertThat(f.get("other;Work.alpha")).isCloseTo(22, within(1e-9));
    assertThat(f.get("other;" + EnergyProfiler.NO_SAMPLE)).isCloseTo(1, within(1e-9));
  }

  @Test
  void energyAfterTheRecordingStoppedIsNamedAsSuchWhetherItCameBeforeOrAfterTheStopWasKnown() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "Work.alpha");
    int b = stack(p, "Work.beta");
    // 10 W in 100 ms windows; alpha, then beta from 1.5 s, sampled every 10 ms up to the stop at
    // 2.25 s, which is told when the ledger has reached 2.3 s; the ledger goes on to 2.6 s
    for (long t = T0; t < T0 + 2300 * MS; t += 100 * MS) {
      p.energy(PhaseRegistry.OTHER, Domain.CPU, 1, t, t + 100 * MS);
    }
    for (long t = T0 + 5 * MS; t < T0 + 2250 * MS; t += 10 * MS) {
      p.sample(t, 1, t < T0 + 1500 * MS ? a : b);
    }
    p.samplingStopped(T0 + 2250 * MS);
    for (long t = T0 + 2300 * MS; t < T0 + 2600 * MS; t += 100 * MS) {
      p.energy(PhaseRegistry.OTHER, Domain.CPU, 1, t, t + 100 * MS);
    }
    p.sampledUpTo(T0 + 2250 * MS);
    p.finish();
    Map<String, Double> f = p.folded(true);
    // 0.35 s after the stop; before it, each bucket shared by its samples: 10 J of alpha in the
    // first second, 5 J of alpha and 5 J of beta in the second, 2.5 J of beta in the third
    assertThat(f.get("other;" + EnergyProfiler.STOPPED)).isCloseTo(3.5, within(1e-9));
    assertThat(f.get("other;Work.alpha")).isCloseTo(15, within(1e-9));
    assertThat(f.get("other;Work.beta")).isCloseTo(7.5, within(1e-9));
    assertThat(f).doesNotContainKey("other;" + EnergyProfiler.NO_SAMPLE);
    assertThat(p.summary(null).joules()).isCloseTo(26, within(1e-9));
  }

  @Test
  void energyBeforeTheRecordingStartedIsNamedAsSuchEvenInTheBucketOfTheFirstSamples() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "Train.step");
    // 10 W in 100 ms windows: other until 0.4 s, load until 0.5 s, train from 0.5 s to 2 s; the
    // recording starts at 0.5 s and says so when the ledger has reached 0.6 s; train is sampled
    // every 10 ms from then on. Nothing was sampled before the start, so neither load nor the
    // start-up in other had a sample: before, their energy went to [no sample].
    for (long t = T0; t < T0 + 600 * MS; t += 100 * MS) {
      p.energy(phaseAt(t), Domain.CPU, 1, t, t + 100 * MS);
    }
    p.samplingStarted(T0 + 500 * MS);
    for (long t = T0 + 600 * MS; t < T0 + 2 * S; t += 100 * MS) {
      p.energy(train, Domain.CPU, 1, t, t + 100 * MS);
    }
    p.threadPhase(T0 + 500 * MS, 1, train);
    for (long t = T0 + 505 * MS; t < T0 + 2 * S; t += 10 * MS) {
      p.sample(t, 1, a);
    }
    p.sampledUpTo(T0 + 3 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    assertThat(f.get("other;" + EnergyProfiler.STARTING)).isCloseTo(4, within(1e-9));
    assertThat(f.get("load;" + EnergyProfiler.STARTING)).isCloseTo(1, within(1e-9));
    assertThat(f.get("train;Train.step")).isCloseTo(15, within(1e-9));
    assertThat(f.keySet()).noneMatch(k -> k.contains(EnergyProfiler.NO_SAMPLE));
  }

  private int phaseAt(long t) {
    return t < T0 + 400 * MS ? PhaseRegistry.OTHER : t < T0 + 500 * MS ? load : train;
  }

  @Test
  void aStartToldAfterTheHeldWindowsRanOutIsCutFromTheBucketsAsEvenlySpread() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "A.a");
    // 10 W in 10 ms windows for 42 s, more than are held; the start at 40.5 s is told at 41 s
    long windows = 4100;
    assertThat(windows).isGreaterThan(EnergyProfiler.MAX_PENDING);
    for (long i = 0; i < windows; i++) {
      p.energy(PhaseRegistry.OTHER, Domain.CPU, 0.1, T0 + i * 10 * MS, T0 + (i + 1) * 10 * MS);
    }
    p.samplingStarted(T0 + 40_500 * MS);
    for (long i = windows; i < 4200; i++) {
      p.energy(PhaseRegistry.OTHER, Domain.CPU, 0.1, T0 + i * 10 * MS, T0 + (i + 1) * 10 * MS);
    }
    for (long t = T0 + 40_505 * MS; t < T0 + 42 * S; t += 10 * MS) {
      p.sample(t, 1, a);
    }
    p.sampledUpTo(T0 + 43 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    assertThat(f.get("other;" + EnergyProfiler.STARTING)).isCloseTo(405, within(1e-6));
    assertThat(f.get("other;A.a")).isCloseTo(15, within(1e-6));
  }

  @Test
  void energyBeforeTheFirstSampleIsNamedAsSuch() {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "A.a");
    p.energy(PhaseRegistry.OTHER, Domain.CPU, 3, T0, T0 + 3 * S);
    p.sample(T0 + 2500 * MS, 1, a);
    p.sampledUpTo(T0 + 4 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    assertThat(f.get("other;" + EnergyProfiler.STARTING)).isCloseTo(2, within(1e-9));
    assertThat(f.get("other;A.a")).isCloseTo(1, within(1e-9));
  }

  @Test
  void conservationUnderRandomWindowsSamplesAndPhases() {
    Random r = new Random(42);
    EnergyProfiler p = profiler(64);
    double given = 0;
    long t = T0;
    String[] names = {"A.a", "B.b", "C.c", "D.d", "E.e", "F.f"};
    while (t < T0 + 60 * S) {
      long w = (1 + r.nextInt(150)) * MS;
      int phase = r.nextInt(4);
      double j = r.nextDouble() * 3;
      p.energy(phase, Domain.values()[r.nextInt(3)], j, t, t + w);
      given += j;
      if (r.nextInt(3) == 0) {
        p.threadPhase(t, r.nextInt(3), r.nextInt(4));
      }
      for (int k = r.nextInt(4); k > 0; k--) {
        String[] frames = new String[1 + r.nextInt(8)];
        for (int f = 0; f < frames.length; f++) {
          frames[f] = names[r.nextInt(names.length)];
        }
        p.sample(t + r.nextInt((int) w), r.nextInt(4), p.intern(frames, frames.length, false));
      }
      t += w;
      if (r.nextInt(10) == 0) {
        p.sampledUpTo(t - 2 * S);
      }
    }
    p.finish();
    double sum = p.folded(true).values().stream().mapToDouble(Double::doubleValue).sum();
    assertThat(sum).isCloseTo(given, within(given * 1e-12));
    EnergyProfile s = p.summary(null);
    assertThat(s.joules()).isCloseTo(given, within(given * 1e-12));
    assertThat(s.stacks()).isLessThan(64);
    assertThat(s.truncatedSamples()).isPositive();
    double self = 0;
    for (EnergyProfile.PhaseMethods m : s.phases()) {
      self += m.joules();
    }
    assertThat(self).isCloseTo(given, within(given * 1e-12));
  }

  @Test
  void stacksBeyondTheCapAreCutToAKnownPrefixAndDeepStacksAreMarked() {
    EnergyProfiler p = profiler(16);
    for (int i = 0; i < 40; i++) {
      stack(p, "Main.main", "Work.m" + i);
    }
    String[] deep = new String[64];
    for (int i = 0; i < deep.length; i++) {
      deep[i] = "Rec.f";
    }
    int cut = p.intern(deep, deep.length, true);
    int late = stack(p, "Main.main", "Work.new");
    p.energy(PhaseRegistry.OTHER, Domain.CPU, 2, T0, T0 + S);
    p.sample(T0 + 100 * MS, 1, late);
    p.sample(T0 + 200 * MS, 1, cut);
    p.sampledUpTo(T0 + 2 * S);
    p.finish();
    Map<String, Double> f = p.folded(true);
    assertThat(f).containsKey("other;Main.main;" + StackTree.TRUNCATED);
    assertThat(f.keySet()).anyMatch(k -> k.startsWith("other;" + StackTree.TRUNCATED));
    EnergyProfile s = p.summary(null);
    assertThat(s.stacks()).isLessThan(16);
    assertThat(s.truncatedSamples()).isEqualTo(2);
    assertThat(s.joules()).isCloseTo(2, within(1e-12));
  }

  @Test
  void collapsedFileIsFoldedMillijoulesThatAddUpAndPerPhase(@TempDir Path dir) throws IOException {
    EnergyProfiler p = profiler(100);
    int a = stack(p, "Main.main", "Work.alpha");
    int b = stack(p, "Main.main", "Work.beta");
    p.threadPhase(T0, 1, train);
    p.energy(train, Domain.CPU, 1.0, T0, T0 + S);
    p.energy(PhaseRegistry.OTHER, Domain.CPU, 0.0005, T0, T0 + S);
    p.sample(T0 + 100 * MS, 1, a);
    p.sample(T0 + 200 * MS, 1, a);
    p.sample(T0 + 300 * MS, 1, b);
    p.sample(T0 + 400 * MS, 2, b);
    p.sampledUpTo(T0 + 2 * S);
    p.finish();
    Path file = dir.resolve("out.collapsed");
    p.writeCollapsed(file, null);
    List<String> lines = Files.readAllLines(file);
    assertThat(lines)
        .containsExactlyInAnyOrder(
            "train;Main.main;Work.alpha 667",
            "train;Main.main;Work.beta 333",
            "other;Main.main;Work.beta 1");
    Path per = dir.resolve("train.collapsed");
    p.writeCollapsed(per, "train");
    assertThat(Files.readAllLines(per))
        .containsExactlyInAnyOrder("Main.main;Work.alpha 667", "Main.main;Work.beta 333");
    assertThat(p.phases()).containsExactly("other", "train");
    Path blocked = dir.resolve("plain-file");
    Files.writeString(blocked, "x");
    assertThatThrownBy(() -> p.writeCollapsed(blocked.resolve("sub/out.collapsed"), null))
        .isInstanceOf(IOException.class);
  }

  @Test
  void roundingKeepsTheTotal() {
    long[] mj = Rounding.millijoules(List.of(0.0004, 0.0004, 0.0004, 1.2345));
    assertThat(mj[0] + mj[1] + mj[2] + mj[3]).isEqualTo(1236);
  }

  @Test
  void memoryStaysFlatOverHoursOfSamplesPhasesAndNewStacks() {
    EnergyProfiler p = profiler(500);
    Random r = new Random(7);
    long[] after = new long[3];
    long t = T0;
    for (int hour = 0; hour < 3; hour++) {
      for (int tick = 0; tick < 36_000; tick++) { // 100 ms windows
        p.energy(r.nextInt(4), Domain.CPU, 0.5, t, t + 100 * MS);
        for (int k = 0; k < 4; k++) {
          p.threadPhase(t + k * 20 * MS, r.nextInt(50), r.nextInt(4)); // threads come and go
        }
        for (int k = 0; k < 5; k++) { // every sample a stack never seen before
          String[] frames = {"Main.main", "Gen.m" + r.nextInt(1_000_000), "Leaf.x" + tick};
          p.sample(t + k * 20 * MS, hour * 10_000 + r.nextInt(50), p.intern(frames, 3, false));
        }
        if (tick % 3 == 0) { // the CPU time of the threads sampled lately
          long[] ids = p.sampledThreads();
          long[] cpu = new long[ids.length];
          Arrays.fill(cpu, tick * 30 * MS);
          p.threadCpu(t, ids, cpu, ids.length, false);
        }
        t += 100 * MS;
        if (tick % 10 == 0) {
          p.sampledUpTo(t - 2 * S);
        }
      }
      after[hour] = p.footprint();
    }
    // bounded by the caps, not by the hours: the same after the third hour as after the first
    assertThat(after[2]).isLessThanOrEqualTo(after[0] + 500);
    assertThat(after[2]).isLessThan(4 * 500 * 4 + 500 + 2_000);
    assertThat(p.summary(null).stacks()).isLessThan(500);
  }
}

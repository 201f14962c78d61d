package io.jouletrace.bench;

import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.api.JouleTrace;
import io.jouletrace.bridge.Dispatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One phase enter + exit as an application thread pays it with the agent recording: {@code
 * Dispatch.enter("train-step")} then {@code Dispatch.exit(token)} into a {@link PhaseRecorder}
 * installed with {@link Dispatch#install}, and the same through the public API, {@code
 * JouleTrace.phase("train-step").close()} (the API binds to the bridge, which is on this class
 * path, through the system class loader; the setup checks that it did).
 *
 * <p>Target: 0 B/op after warm-up and a median (SampleTime p0.50) of at most 50 ns.
 *
 * <pre>java -jar src/bench/target/benchmarks.jar PhaseBoundaryBenchmark -prof gc</pre>
 *
 * <p>Variants: one thread ({@code enterExit}, {@code apiPhaseClose}); two threads entering the same
 * phase name ({@code enterExitTwoThreadsSameName}) and each its own name ({@code
 * enterExitTwoThreadsOwnName}); each in AverageTime (ns/op) and SampleTime (median, p0.99...); add
 * {@code -bm avgt} or {@code -bm sample} for one mode only. {@code emptyBaseline} shows the floor
 * of SampleTime: every sampled op is timed with two {@code System.nanoTime()} calls, so its median
 * includes about one clock read and is quantised to the clock's granularity. {@code twoClockReads}
 * is the floor of an enter/exit pair: the recorder reads {@code System.nanoTime()} once on enter
 * and once on exit, and on virtual machines that read can be most of the cost.
 *
 * <p>Draining: the recorder publishes into a ring per thread (1024 events) that the sampler drains;
 * a benchmark that never drained would measure the ring-full (overflow) path, which skips the ring
 * writes. A {@link RecorderDrainer} thread drains it here, paced to collect about half a ring each
 * time. Each iteration it prints two lines. The first: drains, events, <em>overflows</em> (drains
 * that found a ring had been full: 0 means no op took the overflow path) and the bytes the drainer
 * allocated itself, which {@code -prof gc} counts into {@code gc.alloc.rate.norm}, a JVM-wide
 * figure ({@code PhaseRecorder.drain} allocates nothing; what shows there is the drainer's own
 * bookkeeping, if any). The second: the benchmark threads' ops (counted in their own state, one
 * increment per op), the events lost to full rings, and the bytes these threads allocated
 * themselves, i.e. the enter/exit path's own allocation plus JMH's bookkeeping (~2 KB per iteration
 * in AverageTime; a few hundred KB in SampleTime, whose sample buffers live on those threads: read
 * allocation from an AverageTime run). The drainer needs a core of its own: with fewer free cores
 * than benchmark threads + 1 it falls behind, rings overflow, and the scores mix in the overflow
 * path and the time slices the spinning drainer takes; check the events lost before trusting a
 * score. With {@code -jvmArgsAppend -Djouletrace.bench.drainParkUs=50} it parks a fixed 50 µs
 * instead. After each iteration a third line gives a cache line's round trip between two threads
 * ({@link CoreRoundTrip}): each drain takes the lines of the ring it reads to the drainer's core,
 * and the benchmark thread pays a round trip for each line it writes again, so on a virtual machine
 * the score follows where the host runs the two vCPUs at the time.
 *
 * <p>{@code enterExitUndrained} is the same op with no drainer: after 512 ops its ring is full and
 * every op takes the overflow path, so it is not the normal path's cost, but its {@code
 * gc.alloc.rate.norm} has no drainer share: the clean 0 B/op check of the registry lookup, the
 * thread-local lookup, the push and pop and the token encoding.
 */
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PhaseBoundaryBenchmark {

  static final String PHASE = "train-step";

  /** The installed recorder and the thread that drains it, like the agent's sampler. */
  @State(Scope.Benchmark)
  public static class Recording {

    PhaseRecorder recorder;
    RecorderDrainer drainer;

    @Setup(Level.Trial)
    public void install() {
      recorder =
          new PhaseRecorder(new PhaseRegistry(256, System.err::println), System.err::println);
      Dispatch.install(recorder);
      long token = Dispatch.enter(PHASE);
      if (token == 0L) {
        throw new IllegalStateException("the recorder did not record: Dispatch is not bound");
      }
      Dispatch.exit(token);
      if (!JouleTrace.isRecording()) {
        throw new IllegalStateException("the API did not bind to io.jouletrace.bridge.Dispatch");
      }
      drainer = RecorderDrainer.start(recorder);
    }

    @TearDown(Level.Iteration)
    public void report() throws InterruptedException {
      drainer.reportIteration();
      Thread.sleep(5); // the drainer, with nothing to drain, goes from spinning to parking
      System.out.println(CoreRoundTrip.line());
    }

    @TearDown(Level.Trial)
    public void remove() {
      Dispatch.install(null);
      drainer.stop();
      drainer.reportTrial();
    }
  }

  /** A recorder installed and never drained: its rings stay full. */
  @State(Scope.Benchmark)
  public static class Undrained {

    @Setup(Level.Trial)
    public void install() {
      Dispatch.install(
          new PhaseRecorder(new PhaseRegistry(256, System.err::println), System.err::println));
      if (!Dispatch.isRecording()) {
        throw new IllegalStateException("the recorder is not installed");
      }
    }

    @TearDown(Level.Trial)
    public void remove() {
      Dispatch.install(null);
    }
  }

  /**
   * A benchmark thread: a phase name of its own, and a count of its ops (one increment of a field
   * of this thread's own state per op) so that the drainer's reports can tell how many events were
   * lost to full rings; its allocation is shown there too.
   */
  @State(Scope.Thread)
  public static class Worker {

    private static final AtomicInteger NEXT = new AtomicInteger();

    String name;
    long ops;

    @Setup(Level.Trial)
    public void register(Recording r) {
      name = PHASE + "-" + NEXT.getAndIncrement();
      r.drainer.watch(Thread.currentThread(), () -> ops);
    }
  }

  @Benchmark
  @Threads(1)
  public void enterExit(Recording r, Worker w) {
    long token = Dispatch.enter(PHASE);
    Dispatch.exit(token);
    w.ops++;
  }

  @Benchmark
  @Threads(2)
  public void enterExitTwoThreadsSameName(Recording r, Worker w) {
    long token = Dispatch.enter(PHASE);
    Dispatch.exit(token);
    w.ops++;
  }

  @Benchmark
  @Threads(2)
  public void enterExitTwoThreadsOwnName(Recording r, Worker w) {
    long token = Dispatch.enter(w.name);
    Dispatch.exit(token);
    w.ops++;
  }

  @Benchmark
  @Threads(1)
  public void apiPhaseClose(Recording r, Worker w) {
    JouleTrace.phase(PHASE).close();
    w.ops++;
  }

  @Benchmark
  @Threads(1)
  public void enterExitUndrained(Undrained u) {
    long token = Dispatch.enter(PHASE);
    Dispatch.exit(token);
  }

  @Benchmark
  @Threads(1)
  public void emptyBaseline() {}

  @Benchmark
  @Threads(1)
  public long twoClockReads() {
    return System.nanoTime() + System.nanoTime();
  }

  /**
   * The floor of {@code enterExit} as it runs: two clock reads while the drainer works on the other
   * core (on a virtual machine the two vCPUs may share a physical core, and a busy sibling slows
   * this one down whatever it does).
   */
  @Benchmark
  @Threads(1)
  public long twoClockReadsWhileDraining(Recording r) {
    return System.nanoTime() + System.nanoTime();
  }
}

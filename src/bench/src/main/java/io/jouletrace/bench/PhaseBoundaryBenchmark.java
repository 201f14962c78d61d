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
 * path, through the system class loader).
 *
 * <p>Target: 0 B/op after warm-up ({@code gc.alloc.rate.norm} under {@code -prof gc}) and a median
 * (SampleTime p0.50) of at most 50 ns.
 *
 * <pre>java -jar src/bench/target/benchmarks.jar PhaseBoundaryBenchmark -prof gc</pre>
 *
 * <p>Variants: one thread ({@code enterExit}, {@code apiPhaseClose}); two threads entering the same
 * phase name ({@code enterExitTwoThreadsSameName}) and each its own name ({@code
 * enterExitTwoThreadsOwnName}); each in AverageTime (ns/op) and SampleTime (median, p0.99...);
 * add {@code -bm avgt} or {@code -bm sample} for one mode only. {@code emptyBaseline} shows the
 * floor of SampleTime: every sampled op is timed with two {@code System.nanoTime()} calls, so its
 * median includes about one clock read and is quantised to the clock's granularity. {@code
 * twoClockReads} is the floor of an enter/exit pair: the recorder reads {@code System.nanoTime()}
 * once on enter and once on exit, and on virtual machines that read can be most of the cost.
 *
 * <p>Draining: the recorder publishes into a 4096-event ring per thread that the sampler drains.
 * A {@link RecorderDrainer} thread drains it here, paced to collect about half a ring each time,
 * so the measured path is the normal one. It prints one line per iteration with the overflows it
 * saw (0 means no op took the ring-full path) and the bytes it allocated itself, which {@code
 * -prof gc} includes in {@code gc.alloc.rate.norm} (a JVM-wide figure), and a second line with
 * what the benchmark threads themselves allocated: the enter/exit path's own allocation. {@code -jvmArgsAppend -Djouletrace.bench.drainParkUs=50}
 * drains with a fixed 50 µs park instead. On a machine with fewer cores than benchmark threads +
 * 1, the drainer competes with the benchmark threads for CPU and may fall behind (overflows).
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
      recorder = new PhaseRecorder(new PhaseRegistry(256, System.err::println),
          System.err::println);
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
    public void report() {
      drainer.reportIteration();
    }

    @TearDown(Level.Trial)
    public void remove() {
      Dispatch.install(null);
      drainer.stop();
      drainer.reportTrial();
    }
  }

  /**
   * A benchmark thread: a phase name of its own, and its allocation shown in the drainer's
   * reports.
   */
  @State(Scope.Thread)
  public static class Worker {

    private static final AtomicInteger NEXT = new AtomicInteger();

    String name;

    @Setup(Level.Trial)
    public void register(Recording r) {
      name = PHASE + "-" + NEXT.getAndIncrement();
      r.drainer.watch(Thread.currentThread());
    }
  }

  @Benchmark
  @Threads(1)
  public void enterExit(Recording r, Worker w) {
    long token = Dispatch.enter(PHASE);
    Dispatch.exit(token);
  }

  @Benchmark
  @Threads(2)
  public void enterExitTwoThreadsSameName(Recording r, Worker w) {
    long token = Dispatch.enter(PHASE);
    Dispatch.exit(token);
  }

  @Benchmark
  @Threads(2)
  public void enterExitTwoThreadsOwnName(Recording r, Worker w) {
    long token = Dispatch.enter(w.name);
    Dispatch.exit(token);
  }

  @Benchmark
  @Threads(1)
  public void apiPhaseClose(Recording r, Worker w) {
    JouleTrace.phase(PHASE).close();
  }

  @Benchmark
  @Threads(1)
  public void emptyBaseline() {}

  @Benchmark
  @Threads(1)
  public long twoClockReads() {
    return System.nanoTime() + System.nanoTime();
  }
}

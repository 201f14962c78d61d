package io.jouletrace.bench;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.bridge.Dispatch;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The public API when nothing records: {@code JouleTrace.phase("train-step").close()} must cost
 * nothing measurable, i.e. the same as an empty method.
 *
 * <p>Target: {@code apiNoAgent} and {@code apiBridgeNoRecorder} within noise of {@code baseline}
 * (ns/op), and 0 B/op ({@code gc.alloc.rate.norm} under {@code -prof gc}).
 *
 * <pre>java -jar src/bench/target/benchmarks.jar ApiNoAgentBenchmark -prof gc</pre>
 *
 * <p>Two cases are measured, each checked in its {@code @Setup} so that a run cannot silently
 * measure the other one:
 *
 * <ul>
 *   <li>{@code apiNoAgent}: the real no-agent JVM. The bridge is in this jar, so the fork runs with
 *       {@code -Djava.system.class.loader=}{@link NoBridgeClassLoader}, which hides {@code
 *       io.jouletrace.bridge.*} from the system class loader through which {@code JouleTrace} looks
 *       it up; {@code JouleTrace} then holds no method handles and {@code phase} returns the shared
 *       no-op phase without calling anything. The setup fails if the bridge is visible (e.g. when
 *       {@code -jvmArgsAppend} on the command line replaced this fork's arguments).
 *   <li>{@code apiBridgeNoRecorder}: an agent jar present but not recording (no recorder
 *       installed): {@code JouleTrace} is bound to {@code Dispatch}, whose {@code enter} reads its
 *       volatile recorder field, finds none and returns 0, so {@code phase} again returns the no-op
 *       phase. Its own plain fork; the setup fails unless the bridge is bound and idle.
 * </ul>
 *
 * <p>{@code baseline} (empty, void) and {@code baselineConstant} (returns a constant, which JMH
 * sinks into its blackhole) run in forks configured like {@code apiNoAgent}'s. Those forks print a
 * JVM warning that archived (CDS) non-system classes are disabled because {@code
 * java.system.class.loader} is set: start-up only, harmless here.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ApiNoAgentBenchmark {

  static final String PHASE = "train-step";

  /** The fork argument that hides the bridge (a method's {@code @Fork} adds to the class's). */
  static final String NO_BRIDGE =
      "-Djava.system.class.loader=io.jouletrace.bench.NoBridgeClassLoader";

  /** Checks that the system class loader cannot see the bridge, as without the agent. */
  @State(Scope.Benchmark)
  public static class NoBridge {

    @Setup(Level.Trial)
    public void check() {
      try {
        Class.forName("io.jouletrace.bridge.Dispatch", false, ClassLoader.getSystemClassLoader());
      } catch (ClassNotFoundException expected) {
        if (JouleTrace.isRecording()) {
          throw new IllegalStateException("JouleTrace records although no bridge is visible");
        }
        return;
      }
      throw new IllegalStateException(
          "the bridge is visible to the system class loader ("
              + ClassLoader.getSystemClassLoader()
              + "): run with -Djava.system.class.loader="
              + NoBridgeClassLoader.class.getName());
    }
  }

  /** Checks that the API is bound to the bridge and that no recorder is installed. */
  @State(Scope.Benchmark)
  public static class BridgeNoRecorder {

    @Setup(Level.Trial)
    public void check() throws ClassNotFoundException {
      Class<?> bridge =
          Class.forName("io.jouletrace.bridge.Dispatch", false, ClassLoader.getSystemClassLoader());
      if (bridge != Dispatch.class) {
        throw new IllegalStateException("the API would bind to another Dispatch: " + bridge);
      }
      Dispatch.install(null);
      if (Dispatch.isRecording() || JouleTrace.isRecording()) {
        throw new IllegalStateException("a recorder is installed");
      }
    }
  }

  @Benchmark
  @Fork(value = 1, jvmArgsAppend = NO_BRIDGE)
  public void baseline() {}

  @Benchmark
  @Fork(value = 1, jvmArgsAppend = NO_BRIDGE)
  public int baselineConstant() {
    return 42;
  }

  @Benchmark
  @Fork(value = 1, jvmArgsAppend = NO_BRIDGE)
  public void apiNoAgent(NoBridge state) {
    JouleTrace.phase(PHASE).close();
  }

  @Benchmark
  public void apiBridgeNoRecorder(BridgeNoRecorder state) {
    JouleTrace.phase(PHASE).close();
  }
}

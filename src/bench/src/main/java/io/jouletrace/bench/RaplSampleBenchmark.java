package io.jouletrace.bench;

import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.rapl.RaplSysfsSource;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One sample of every zone of a two-socket powercap tree (4 counted zones, 3 detail zones), as the
 * sampler takes it each interval. Sample-time mode reports the median (p0.50).
 *
 * <pre>java -jar src/bench/target/benchmarks.jar RaplSampleBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RaplSampleBenchmark {

  private RaplSysfsSource source;
  private final double[] joules = new double[4];

  @Setup
  public void open() throws Exception {
    Path root = FakeTree.create();
    source = RaplSysfsSource.open(root, Diagnostics.NONE);
  }

  @Benchmark
  public double sampleAllZones() {
    source.sample(joules);
    return joules[0];
  }
}

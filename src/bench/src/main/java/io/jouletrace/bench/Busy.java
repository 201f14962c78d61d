package io.jouletrace.bench;

/**
 * A JVM that computes for a given number of milliseconds and exits: the shortest jobs, whose exit
 * can come while the agent is still starting (with {@code profile=true}, while JFR starts).
 *
 * <pre>
 * java -javaagent:... -cp src/bench/target/benchmarks.jar io.jouletrace.bench.Busy MILLIS
 * </pre>
 */
public final class Busy {

  static volatile double sink;

  private Busy() {}

  public static void main(String[] args) {
    long end = System.nanoTime() + Long.parseLong(args[0]) * 1_000_000L;
    double x = 0;
    while (System.nanoTime() - end < 0) {
      x += Math.sqrt(x + 1);
    }
    sink = x;
  }
}

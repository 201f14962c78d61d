package io.jouletrace.bench;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.util.Locale;

/**
 * What a thread's first phases cost, before the JIT has compiled the phase path: one phase, then
 * {@code chunks} chunks of 250 phases back to back on the main thread, each chunk's mean time per
 * phase (open + close) printed in microseconds. Run it with the agent attached:
 *
 * <pre>
 * java -javaagent:agent/target/jouletrace-agent.jar=prometheus.port=off \
 *     -cp src/bench/target/benchmarks.jar io.jouletrace.bench.FirstPhases [chunks]
 * </pre>
 */
public final class FirstPhases {

  private FirstPhases() {}

  public static void main(String[] args) {
    int chunks = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    try (Phase p = JouleTrace.phase("x")) {
      // the first one: the API class is instrumented as it loads
    }
    StringBuilder line = new StringBuilder("us per phase, by chunk of 250:");
    for (int c = 0; c < chunks; c++) {
      long start = System.nanoTime();
      for (int i = 0; i < 250; i++) {
        try (Phase p = JouleTrace.phase("x")) {
          // nothing: the boundary alone
        }
      }
      line.append(String.format(Locale.ROOT, " %.1f", (System.nanoTime() - start) / 250e3));
    }
    System.out.println(line + (JouleTrace.isRecording() ? "" : " (no agent: not recording)"));
  }
}

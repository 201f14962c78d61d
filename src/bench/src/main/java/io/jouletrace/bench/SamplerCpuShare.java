package io.jouletrace.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The CPU the agent's sampler thread uses at a given interval, on a two-socket fake powercap tree
 * (RAPL path: 7 zones read per tick) or, with {@code --model}, on the estimation model. Starts a
 * child JVM with the agent that idles for the given time and reports its agent threads' CPU time.
 *
 * <pre>java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.SamplerCpuShare [seconds]
 *     [--interval 100ms] [--agent agent/target/jouletrace-agent.jar] [--model]</pre>
 */
public final class SamplerCpuShare {

  private SamplerCpuShare() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(Double.parseDouble(args[1]));
      return;
    }
    double seconds = 20;
    String interval = "100ms";
    String agent = "agent/target/jouletrace-agent.jar";
    boolean model = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--interval" -> interval = args[++i];
        case "--agent" -> agent = args[++i];
        case "--model" -> model = true;
        default -> seconds = Double.parseDouble(args[i]);
      }
    }
    Path root = FakeTree.create();
    String self =
        Path.of(SamplerCpuShare.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:"
                    + agent
                    + "=interval="
                    + interval
                    + ",prometheus.port=off,"
                    + System.getProperty("extra", "")
                    + "report.json="
                    + root.resolve("r.json")
                    + (model ? ",cpu.source=model" : ",powercap.root=" + root),
                "-cp",
                self,
                SamplerCpuShare.class.getName(),
                "--child",
                Double.toString(seconds)));
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    System.exit(p.waitFor());
  }

  private static void child(double seconds) throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Thread.sleep(2000); // let start-up finish: it is not the steady state being measured
    long[] before = cpu(mx);
    long start = System.nanoTime();
    Thread.sleep((long) (seconds * 1000));
    long[] after = cpu(mx);
    double wall = (System.nanoTime() - start) * 1e-9;
    double sampler = (after[0] - before[0]) * 1e-9;
    System.out.printf(
        Locale.ROOT,
        "sampler thread: %.1f ms CPU in %.1f s = %.3f %% of one core" + " (%.1f us per second)%n",
        sampler * 1000,
        wall,
        sampler / wall * 100,
        sampler / wall * 1e6);
  }

  private static long[] cpu(ThreadMXBean mx) {
    long[] out = new long[1];
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("jouletrace-sampler")) {
        out[0] = mx.getThreadCpuTime(t.getId());
      }
    }
    return out;
  }
}

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
 * <p>The application idles, or with {@code --busy} keeps one thread computing; with {@code --phase}
 * as well, that thread computes inside a phase that stays open, so that the sampler ticks at every
 * interval (outside any phase it ticks once a second, whether the job computes or not). The
 * measurement starts after {@code --skip} seconds (2 by default, the agent's start-up). With {@code
 * --sysfs} the fake tree's counters are links to a real sysfs counter, so that each read costs what
 * it costs on a machine with RAPL (see {@link FakeTree}).
 *
 * <pre>java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.SamplerCpuShare [seconds]
 *     [--interval 100ms] [--agent agent/target/jouletrace-agent.jar] [--model] [--sysfs]
 *     [--skip 2] [--busy [--phase]]</pre>
 */
public final class SamplerCpuShare {

  private SamplerCpuShare() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(
          Double.parseDouble(args[1]),
          Long.parseLong(args[2]),
          Boolean.parseBoolean(args[3]),
          args.length > 4 && Boolean.parseBoolean(args[4]));
      return;
    }
    double seconds = 20;
    String interval = "100ms";
    String agent = "agent/target/jouletrace-agent.jar";
    boolean model = false;
    boolean sysfs = false;
    boolean busy = false;
    boolean phase = false;
    long skip = 2000;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--interval" -> interval = args[++i];
        case "--agent" -> agent = args[++i];
        case "--model" -> model = true;
        case "--sysfs" -> sysfs = true;
        case "--busy" -> busy = true;
        case "--phase" -> phase = true;
        case "--skip" -> skip = (long) (Double.parseDouble(args[++i]) * 1000);
        default -> seconds = Double.parseDouble(args[i]);
      }
    }
    Path root = FakeTree.create(sysfs);
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
                Double.toString(seconds),
                Long.toString(skip),
                Boolean.toString(busy),
                Boolean.toString(phase)));
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    System.exit(p.waitFor());
  }

  private static void child(double seconds, long skipMillis, boolean busy, boolean phase)
      throws Exception {
    if (busy) {
      // One thread that computes all the time; with --phase inside a phase that stays open, so
      // that the sampler ticks at every interval (outside any phase it ticks once a second).
      Thread spin =
          new Thread(
              () -> {
                io.jouletrace.api.Phase open =
                    phase ? io.jouletrace.api.JouleTrace.phase("work") : null;
                double x = 1;
                while (x != 0) {
                  x = Math.sin(x) + 1.5;
                }
                if (open != null) {
                  open.close();
                }
              },
              "busy");
      spin.setDaemon(true);
      spin.start();
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Thread.sleep(skipMillis); // start-up, and the first minute if asked: not the steady state
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

package io.jouletrace.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the same workload with and without the agent, alternating, in one run, and reports medians
 * and their ratio. Two workloads: the DJL training example (wall time of the whole JVM, and the
 * example's own timing, which leaves out JVM start-up) and an empty main (the agent's start-up and
 * exit cost). With {@code --epochs N} the example trains N epochs, and the time of epochs 2..N is
 * reported too: the steady state, without start-up. Each JVM's CPU time (user + system, its threads
 * and children) comes from {@code /usr/bin/time} where it exists, and the machine's load average is
 * recorded before every run. The agent runs with its default configuration (the {@code /metrics}
 * endpoint on) unless {@code --agent-args} says otherwise.
 *
 * <pre>
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.OverheadHarness [--runs 5]
 *     [--agent agent/target/jouletrace-agent.jar] [--example src/examples/djl-training/target/djl-training.jar]
 *     [--agent-args key=value,...] [--java /path/to/bin/java] [--epochs 3]
 * </pre>
 */
public final class OverheadHarness {

  private static final Pattern FINISHED = Pattern.compile("DJL example finished in ([0-9.]+) s");
  private static final Pattern EPOCH =
      Pattern.compile("(?m)^epoch (\\d+)/\\d+: .*\\| ([0-9.]+) s \\(total");

  private OverheadHarness() {}

  public static void main(String[] args) throws Exception {
    int runs = 5;
    int epochs = 3;
    String agent = "agent/target/jouletrace-agent.jar";
    String example = "src/examples/djl-training/target/djl-training.jar";
    String agentArgs = "";
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    for (int i = 0; i < args.length - 1; i += 2) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[i + 1]);
        case "--epochs" -> epochs = Integer.parseInt(args[i + 1]);
        case "--agent" -> agent = args[i + 1];
        case "--example" -> example = args[i + 1];
        case "--agent-args" -> agentArgs = args[i + 1];
        case "--java" -> java = args[i + 1];
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Path tmp = Files.createTempDirectory("jouletrace-overhead");
    String agentOpt =
        "-javaagent:"
            + agent
            + "="
            + (agentArgs.isEmpty() ? "" : agentArgs + ",")
            + "report.json="
            + tmp.resolve("r.json");
    String self =
        Path.of(OverheadHarness.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();

    System.out.printf(
        Locale.ROOT,
        "JouleTrace overhead, %d alternating runs each, %s%n",
        runs,
        Runtime.version());
    double[][] djl = new double[8][runs];
    double[][] hello = new double[4][runs];
    List<Double> load = new ArrayList<>();
    // warm the OS caches and DJL's native cache once, unmeasured
    run(tmp, java, null, "-jar", example, "--epochs", "1");
    for (int i = 0; i < runs; i++) {
      boolean agentFirst = i % 2 == 1;
      for (int k = 0; k < 2; k++) {
        boolean withAgent = (k == 0) == agentFirst;
        Result r =
            run(
                tmp,
                java,
                withAgent ? agentOpt : null,
                "-jar",
                example,
                "--epochs",
                Integer.toString(epochs));
        djl[withAgent ? 1 : 0][i] = r.wallSeconds;
        djl[withAgent ? 3 : 2][i] = r.innerSeconds;
        djl[withAgent ? 5 : 4][i] = r.laterEpochsSeconds;
        djl[withAgent ? 7 : 6][i] = r.cpuSeconds;
        load.add(r.load);
      }
      for (int k = 0; k < 2; k++) {
        boolean withAgent = (k == 0) == agentFirst;
        Result r = run(tmp, java, withAgent ? agentOpt : null, "-cp", self, Hello.class.getName());
        hello[withAgent ? 1 : 0][i] = r.wallSeconds;
        hello[withAgent ? 3 : 2][i] = r.cpuSeconds;
        load.add(r.load);
      }
    }
    report("DJL example, JVM wall time", djl[0], djl[1], "s");
    report("DJL example, its own timing", djl[2], djl[3], "s");
    if (epochs > 1) {
      report("DJL epochs 2.." + epochs, djl[4], djl[5], "s");
    }
    report("DJL example, JVM CPU time", djl[6], djl[7], "s");
    report("empty main, JVM wall time", hello[0], hello[1], "s");
    report("empty main, JVM CPU time", hello[2], hello[3], "s");
    System.out.printf(
        Locale.ROOT,
        "added by the agent (medians): DJL %+.3f s wall, %+.3f CPU-s (%.1f %% of the job's CPU);"
            + " empty main %+.0f ms wall, %+.3f CPU-s%n",
        median(djl[1]) - median(djl[0]),
        median(djl[7]) - median(djl[6]),
        (median(djl[7]) - median(djl[6])) / median(djl[6]) * 100,
        (median(hello[1]) - median(hello[0])) * 1000,
        median(hello[3]) - median(hello[2]));
    System.out.printf(
        Locale.ROOT,
        "machine load (1-min average before each run): median %.2f, max %.2f, on %d CPUs%n",
        median(load.stream().mapToDouble(Double::doubleValue).toArray()),
        load.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
        Runtime.getRuntime().availableProcessors());
  }

  /**
   * One run: the JVM's wall time, the example's own timing, and the time of its epochs after the
   * first (the steady state, once start-up is over and the code is compiled).
   */
  private record Result(
      double wallSeconds,
      double innerSeconds,
      double laterEpochsSeconds,
      double cpuSeconds,
      double load) {}

  private static final Path TIME = Path.of("/usr/bin/time");

  private static Result run(Path dir, String java, String agentOpt, String... rest)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    Path cpuFile = dir.resolve("cpu.txt");
    Files.deleteIfExists(cpuFile);
    if (Files.isExecutable(TIME)) {
      cmd.addAll(List.of(TIME.toString(), "-o", cpuFile.toString(), "-f", "%U %S"));
    }
    cmd.add(java);
    if (agentOpt != null) {
      cmd.add(agentOpt);
    }
    cmd.addAll(List.of(rest));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("DJL_OFFLINE", "true");
    pb.environment().put("OPT_OUT_TRACKING", "true");
    Path log = dir.resolve("out.txt");
    pb.redirectOutput(log.toFile());
    double load = loadAverage();
    long start = System.nanoTime();
    int code = pb.start().waitFor();
    double wall = (System.nanoTime() - start) * 1e-9;
    String out = Files.readString(log, StandardCharsets.UTF_8);
    if (code != 0) {
      throw new IllegalStateException("run failed (" + code + "): " + cmd + "\n" + out);
    }
    Matcher m = FINISHED.matcher(out);
    double inner = m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    double later = 0;
    Matcher e = EPOCH.matcher(out);
    while (e.find()) {
      if (Integer.parseInt(e.group(1)) > 1) {
        later += Double.parseDouble(e.group(2));
      }
    }
    double cpu = Double.NaN;
    if (Files.exists(cpuFile)) {
      String[] f = Files.readString(cpuFile).trim().split("\\s+");
      cpu = Double.parseDouble(f[f.length - 2]) + Double.parseDouble(f[f.length - 1]);
    }
    return new Result(wall, inner, later, cpu, load);
  }

  private static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  private static void report(String what, double[] without, double[] with, String unit) {
    System.out.printf(
        Locale.ROOT,
        "%-28s without %s  with %s  median ratio %.3f%n",
        what,
        fmt(without),
        fmt(with),
        median(with) / median(without));
  }

  private static String fmt(double[] v) {
    StringBuilder b = new StringBuilder("median ");
    b.append(String.format(Locale.ROOT, "%.3f", median(v))).append(" [");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.2f", v[i]));
    }
    return b.append("]").toString();
  }

  static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}

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
 * reported too: the steady state, without start-up.
 *
 * <pre>
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.OverheadHarness [--runs 5]
 *     [--agent agent/target/jouletrace-agent.jar] [--example src/examples/djl-training/target/djl-training.jar]
 *     [--agent-args key=value,...] [--java /path/to/bin/java] [--epochs 3] [--omp N]
 *     [--no-hello | --hello-only] [--arm name=key=value,...]... [--jfr-floor] [--floor]
 *     [--other-agent name=path/to/agent.jar]...
 * </pre>
 *
 * <p>The DJL runs get {@code --agent-args} (default {@code prometheus.port=off}); the empty main
 * runs with the default configuration ({@code /metrics} on), its report written to a temporary
 * folder. {@code --hello-only} runs the empty main alone.
 *
 * <p>Each {@code --arm} adds a DJL run per round with the agent and those arguments (e.g. {@code
 * --arm profile=prometheus.port=off,profile=true}); {@code --jfr-floor} adds one without the agent
 * but with a JFR recording that takes only the profiler's two sample events at its default 20 ms:
 * the cost of JFR's sampling itself, below which no JFR-based profiler can go. {@code --floor} adds
 * two arms, to both workloads, with agents that measure nothing ({@link FloorAgents}): one whose
 * {@code premain} returns at once, and one that registers a transformer that changes nothing; the
 * cost of any Java agent, below which this one cannot go. Each {@code --other-agent} adds an arm,
 * to both workloads, with another build of the agent (the same arguments). The runs of a round go
 * in a rotating order, and every arm is reported against the runs without the agent.
 *
 * <p>Each run's CPU time (user + system, all of the JVM's threads, native ones included) comes from
 * the shell's {@code time}; {@code --omp N} sets {@code OMP_NUM_THREADS} for the runs.
 */
public final class OverheadHarness {

  private static final Pattern CPU =
      Pattern.compile("(?m)^jouletrace-harness-cpu ([0-9.]+) ([0-9.]+)$");
  private static final Pattern FINISHED = Pattern.compile("DJL example finished in ([0-9.]+) s");
  private static final Pattern EPOCH =
      Pattern.compile("(?m)^epoch (\\d+)/\\d+: .*\\| ([0-9.]+) s \\(total");

  private OverheadHarness() {}

  public static void main(String[] args) throws Exception {
    int runs = 5;
    int epochs = 3;
    String agent = "agent/target/jouletrace-agent.jar";
    String example = "src/examples/djl-training/target/djl-training.jar";
    String agentArgs = "prometheus.port=off";
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    boolean helloToo = true;
    boolean djlToo = true;
    boolean jfrFloor = false;
    boolean floor = false;
    List<String[]> extra = new ArrayList<>();
    List<String[]> others = new ArrayList<>();
    List<String> rest = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--no-hello" -> helloToo = false;
        case "--hello-only" -> djlToo = false;
        case "--jfr-floor" -> jfrFloor = true;
        case "--floor" -> floor = true;
        case "--other-agent" -> others.add(args[++i].split("=", 2));
        case "--arm" -> extra.add(args[++i].split("=", 2));
        default -> rest.add(args[i]);
      }
    }
    args = rest.toArray(new String[0]);
    for (int i = 0; i < args.length - 1; i += 2) {
      switch (args[i]) {
        case "--omp" -> omp = args[i + 1];
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
        "-javaagent:" + agent + "=" + agentArgs + ",report.json=" + tmp.resolve("r.json");
    String self =
        Path.of(OverheadHarness.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();

    System.out.printf(
        Locale.ROOT,
        "JouleTrace overhead, %d alternating runs each, %s%n",
        runs,
        Runtime.version());
    List<String> names = new ArrayList<>(List.of("plain", "agent"));
    // The empty main runs with the default configuration (the endpoint on), as a user starts it;
    // only its report goes to the temporary folder.
    List<String> helloNames = new ArrayList<>(List.of("plain", "agent"));
    List<String> helloOpts =
        new ArrayList<>(
            Arrays.asList(null, "-javaagent:" + agent + "=report.json=" + tmp.resolve("h.json")));
    List<String> opts = new ArrayList<>(Arrays.asList(null, agentOpt));
    for (String[] other : others) {
      names.add(other[0]);
      opts.add(
          "-javaagent:" + other[1] + "=" + agentArgs + ",report.json=" + tmp.resolve("r.json"));
      helloNames.add(other[0]);
      helloOpts.add("-javaagent:" + other[1] + "=report.json=" + tmp.resolve("h.json"));
    }
    if (floor) {
      for (Class<?> a : List.of(FloorAgents.PremainOnly.class, FloorAgents.TransformerOnly.class)) {
        String name = a == FloorAgents.PremainOnly.class ? "premain-only" : "transformer-only";
        String opt = "-javaagent:" + FloorAgents.write(tmp.resolve(name + ".jar"), a);
        names.add(name);
        opts.add(opt);
        helloNames.add(name);
        helloOpts.add(opt);
      }
    }
    for (String[] arm : extra) {
      names.add(arm[0]);
      opts.add("-javaagent:" + agent + "=" + arm[1] + ",report.json=" + tmp.resolve("r.json"));
    }
    if (jfrFloor) {
      Path jfc = tmp.resolve("samples.jfc");
      Files.writeString(
          jfc,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration version=\"2.0\">\n"
              + "<event name=\"jdk.ExecutionSample\"><setting name=\"enabled\">true</setting>"
              + "<setting name=\"period\">20 ms</setting></event>\n"
              + "<event name=\"jdk.NativeMethodSample\"><setting name=\"enabled\">true</setting>"
              + "<setting name=\"period\">20 ms</setting></event>\n</configuration>\n");
      names.add("jfr-only");
      opts.add("-XX:StartFlightRecording=settings=" + jfc + ",filename=" + tmp.resolve("f.jfr"));
    }
    int arms = names.size();
    // per arm: wall, inner, later epochs, cpu
    double[][][] djl = new double[arms][4][runs];
    int helloArms = helloNames.size();
    double[][] hello = new double[helloArms][runs];
    double[][] helloCpu = new double[helloArms][runs];
    // warm the OS caches and DJL's native cache once, unmeasured
    if (djlToo) {
      run(tmp, java, null, "-jar", example, "--epochs", "1");
    }
    for (int i = 0; i < runs; i++) {
      for (int k = 0; k < arms && djlToo; k++) {
        int a = (k + i) % arms;
        Result r =
            run(tmp, java, opts.get(a), "-jar", example, "--epochs", Integer.toString(epochs));
        djl[a][0][i] = r.wallSeconds;
        djl[a][1][i] = r.innerSeconds;
        djl[a][2][i] = r.laterEpochsSeconds;
        djl[a][3][i] = r.cpuSeconds;
        System.out.printf(
            Locale.ROOT,
            "run %d %s: wall %.2f s, cpu %.2f s, load %s%n",
            i,
            names.get(a),
            r.wallSeconds,
            r.cpuSeconds,
            Files.readString(Path.of("/proc/loadavg")).trim());
      }
      for (int k = 0; k < helloArms && helloToo; k++) {
        int a = (k + i) % helloArms;
        Result r = run(tmp, java, helloOpts.get(a), "-cp", self, Hello.class.getName());
        hello[a][i] = r.wallSeconds;
        helloCpu[a][i] = r.cpuSeconds;
      }
    }
    for (int a = 1; a < arms && djlToo; a++) {
      String tag = arms > 2 ? " [" + names.get(a) + "]" : "";
      report("DJL example, JVM wall time" + tag, djl[0][0], djl[a][0], "s");
      report("DJL example, JVM CPU time" + tag, djl[0][3], djl[a][3], "s");
      report("DJL example, its own timing" + tag, djl[0][1], djl[a][1], "s");
      if (epochs > 1) {
        report("DJL epochs 2.." + epochs + tag, djl[0][2], djl[a][2], "s");
      }
    }
    if (!helloToo) {
      return;
    }
    for (int a = 1; a < helloArms; a++) {
      String tag = helloArms > 2 ? " [" + helloNames.get(a) + "]" : "";
      report("empty main, JVM wall time" + tag, hello[0], hello[a], "s");
      report("empty main, JVM CPU time" + tag, helloCpu[0], helloCpu[a], "s");
      System.out.printf(
          Locale.ROOT,
          "%s start-up and exit cost (median difference): %.0f ms wall, %.3f CPU-s%n",
          a == 1 ? "agent" : helloNames.get(a),
          (median(hello[a]) - median(hello[0])) * 1000,
          median(helloCpu[a]) - median(helloCpu[0]));
    }
  }

  /**
   * One run: the JVM's wall time, the example's own timing, and the time of its epochs after the
   * first (the steady state, once start-up is over and the code is compiled).
   */
  private record Result(
      double wallSeconds, double innerSeconds, double laterEpochsSeconds, double cpuSeconds) {}

  private static String omp;

  private static String[] remove(String[] a, int i) {
    List<String> l = new ArrayList<>(Arrays.asList(a));
    l.remove(i);
    return l.toArray(new String[0]);
  }

  private static Result run(Path dir, String java, String agentOpt, String... rest)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("bash");
    cmd.add("-c");
    cmd.add("TIMEFORMAT='jouletrace-harness-cpu %3U %3S'; time \"$@\"");
    cmd.add("harness");
    cmd.add(java);
    if (agentOpt != null) {
      cmd.add(agentOpt);
    }
    cmd.addAll(List.of(rest));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("DJL_OFFLINE", "true");
    pb.environment().put("OPT_OUT_TRACKING", "true");
    if (omp != null) {
      pb.environment().put("OMP_NUM_THREADS", omp);
    }
    Path log = dir.resolve("out.txt");
    pb.redirectOutput(log.toFile());
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
    Matcher c = CPU.matcher(out);
    double cpu =
        c.find() ? Double.parseDouble(c.group(1)) + Double.parseDouble(c.group(2)) : Double.NaN;
    return new Result(wall, inner, later, cpu);
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

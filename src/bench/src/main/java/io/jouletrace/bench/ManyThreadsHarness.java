package io.jouletrace.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Many short-lived threads, each opening one phase, with and without the agent: the {@link
 * ManyThreads} workload run in rounds of JVMs, reporting the medians of the workload's own time and
 * of the JVM's wall time, their ratio, and the heap. A third run in each round has the agent and
 * threads that open no phase: the agent's own start-up cost on this workload, apart from what its
 * phases cost. The three runs of a round take turns: each runs first, second and third in as many
 * rounds as the others. Each run with the agent and phases is checked: every phase closed, its JSON
 * report conserves energy (the phases' joules add up to the total) and its standard error holds no
 * error line.
 *
 * <pre>
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.ManyThreadsHarness
 *     [--kind virtual|platform] [--threads 100000] [--sleep-ms 5] [--runs 5]
 *     [--java /usr/lib/jvm/temurin-25-jdk-amd64/bin/java] [--agent agent/target/jouletrace-agent.jar]
 *     [--agent-args prometheus.port=off] [--jvm-arg -Xmx512m] [--rapl true] [--rounds 1]
 * </pre>
 *
 * <p>With {@code --rounds N} each JVM runs the workload N times in a row and the last round is
 * reported too: the steady state, without the agent's start-up (Byte Buddy, OSHI and the JIT
 * compiling the agent's code take about a second of CPU on a small machine, and a workload of a
 * second or two shares the cores with them).
 *
 * <p>With {@code --rapl true} the agent reads a fake powercap tree (one package at a known power)
 * instead of estimating: it then reads the counters at phase boundaries, and the conservation check
 * has real joules to add up.
 *
 * <p>On Java 24 and later add {@code --jvm-arg --enable-native-access=ALL-UNNAMED} (for the agent's
 * JNA; both runs get it).
 *
 * <p>The workload runs from a class directory that holds only it and the public API (copied out of
 * this jar), so that without the agent {@code JouleTrace} finds no bridge, as in a real
 * application.
 */
public final class ManyThreadsHarness {

  private static final Pattern LINE =
      Pattern.compile(
          "workload-s ([0-9.]+) last-round-s ([0-9.]+) phases (\\d+) peak-heap-mb ([0-9.]+)"
              + " heap-after-gc-mb ([0-9.]+) recording (true|false)(?: gcs (\\d+) gc-ms (\\d+))?");

  private ManyThreadsHarness() {}

  private record Run(
      double workload,
      double lastRound,
      double wall,
      double peakMb,
      double afterGcMb,
      double gcs,
      double gcSeconds) {

    /** The workload's time less the collectors' time during it. */
    double workloadLessGc() {
      return workload - gcSeconds;
    }
  }

  public static void main(String[] args) throws Exception {
    String kind = "virtual";
    int threads = 100_000;
    int sleepMs = 5;
    int runs = 5;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String agent = "agent/target/jouletrace-agent.jar";
    String agentArgs = "prometheus.port=off";
    List<String> jvmArgs = new ArrayList<>();
    boolean rapl = false;
    int rounds = 1;
    for (int i = 0; i < args.length - 1; i += 2) {
      switch (args[i]) {
        case "--kind" -> kind = args[i + 1];
        case "--threads" -> threads = Integer.parseInt(args[i + 1]);
        case "--sleep-ms" -> sleepMs = Integer.parseInt(args[i + 1]);
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--runs" -> runs = Integer.parseInt(args[i + 1]);
        case "--java" -> java = args[i + 1];
        case "--agent" -> agent = args[i + 1];
        case "--agent-args" -> agentArgs = args[i + 1];
        case "--jvm-arg" -> jvmArgs.add(args[i + 1]);
        case "--rapl" -> rapl = Boolean.parseBoolean(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Path tmp = Files.createTempDirectory("jouletrace-threads");
    Path classes = WorkloadClasses.extract(tmp.resolve("classes"), ManyThreads.class);
    Thread writer = null;
    if (rapl) {
      Path root = tmp.resolve("powercap");
      writer = startFakeRapl(root);
      agentArgs += ",powercap.root=" + root;
    }
    System.out.printf(
        Locale.ROOT,
        "JouleTrace, %d %s threads each opening one phase around a %d ms sleep;"
            + " %d pairs of runs, %s%n",
        threads,
        kind,
        sleepMs,
        runs,
        java);
    Run[][] r = new Run[3][runs];
    int failures = 0;
    for (int i = 0; i < runs; i++) {
      for (int position = 0; position < 3; position++) {
        // Arm 0: no agent; 1: the agent; 2: the agent, threads that open no phase. The order
        // rotates from round to round, so that each arm runs first, second and third equally
        // often: a JVM's time depends on what ran just before it on a small machine.
        int arm = (position + i) % 3;
        boolean withAgent = arm != 0;
        boolean phases = arm != 2;
        Path report = tmp.resolve("r-" + i + ".json");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmArgs);
        if (withAgent) {
          cmd.add("-javaagent:" + agent + "=" + agentArgs + ",report.json=" + report);
        }
        cmd.addAll(
            List.of(
                "-cp",
                classes.toString(),
                ManyThreads.class.getName(),
                kind,
                Integer.toString(threads),
                Integer.toString(sleepMs),
                Integer.toString(rounds),
                Boolean.toString(phases)));
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        long start = System.nanoTime();
        int code =
            new ProcessBuilder(cmd)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start()
                .waitFor();
        double wall = (System.nanoTime() - start) * 1e-9;
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        Matcher m = LINE.matcher(stdout);
        if (code != 0 || !m.find()) {
          throw new IllegalStateException(
              "run failed (" + code + "): " + cmd + "\n" + stdout + stderr);
        }
        r[arm][i] =
            new Run(
                Double.parseDouble(m.group(1)),
                Double.parseDouble(m.group(2)),
                wall,
                Double.parseDouble(m.group(4)),
                Double.parseDouble(m.group(5)),
                m.group(7) == null ? Double.NaN : Double.parseDouble(m.group(7)),
                m.group(8) == null ? Double.NaN : Double.parseDouble(m.group(8)) / 1000);
        List<String> problems = new ArrayList<>();
        if (Long.parseLong(m.group(3)) != (long) threads * rounds) {
          problems.add("phases closed: " + m.group(3));
        }
        if (Boolean.parseBoolean(m.group(6)) != withAgent) {
          problems.add("recording " + m.group(6));
        }
        if (withAgent && phases) {
          stderr
              .lines()
              .filter(l -> l.matches("(?i).*(exception|error|failed|not recorded).*"))
              .forEach(l -> problems.add("stderr: " + l));
          double[] c = conservation(report);
          if (Math.abs(c[0] - c[1]) > 1e-9 * Math.abs(c[0]) + 1e-12) {
            problems.add("phases sum to " + c[1] + " J, total " + c[0] + " J");
          }
          System.out.printf(
              Locale.ROOT,
              "  pair %d with agent: total %.3f J, phases sum %.3f J, phase x %.3f s%n",
              i,
              c[0],
              c[1],
              c[2]);
        }
        for (String p : problems) {
          System.out.println("  PROBLEM (pair " + i + (withAgent ? ", agent" : "") + "): " + p);
          failures++;
        }
      }
    }
    report("workload (own timing), s", r, Run::workload);
    counts("collections in the workload", r, Run::gcs);
    report("workload less collections, s", r, Run::workloadLessGc);
    if (rounds > 1) {
      report("last of " + rounds + " rounds, s", r, Run::lastRound);
    }
    report("JVM wall time, s", r, Run::wall);
    report("peak heap, MB", r, Run::peakMb);
    report("heap after GC, MB", r, Run::afterGcMb);
    System.out.println(failures == 0 ? "checks: all passed" : "checks: " + failures + " problems");
    if (writer != null) {
      writer.interrupt();
    }
  }

  /** Watts of the fake RAPL package with {@code --rapl true}. */
  private static final double FAKE_WATTS = 20;

  /**
   * A one-package powercap tree whose counter advances at {@value #FAKE_WATTS} W, rewritten every
   * millisecond (write, then rename: a reader never sees half a file), for both runs of each pair:
   * with it, the agent reads RAPL at phase boundaries, the path that many threads load most.
   */
  private static Thread startFakeRapl(Path root) throws IOException {
    Path zone = Files.createDirectories(root.resolve("intel-rapl:0"));
    Files.writeString(zone.resolve("name"), "package-0\n");
    Files.writeString(zone.resolve("max_energy_range_uj"), "262143328850\n");
    long t0 = System.nanoTime();
    Runnable write =
        () -> {
          long uj = (long) (FAKE_WATTS * (System.nanoTime() - t0) * 1e-3);
          try {
            Path tmp = zone.resolve("energy_uj.tmp");
            Files.writeString(tmp, uj + "\n", StandardCharsets.US_ASCII);
            Files.move(
                tmp,
                zone.resolve("energy_uj"),
                StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        };
    write.run();
    Thread t =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                write.run();
                LockSupport.parkNanos(1_000_000L);
              }
            },
            "fake-rapl-writer");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private interface Field {
    double of(Run run);
  }

  /** Like {@link #report}, without ratios: for counts that may be zero. */
  private static void counts(String what, Run[][] r, Field f) {
    String[] arms = {"without agent:", "with agent:   ", "agent, no phases:"};
    double[][] v = field(r, f);
    for (int k = 0; k < 3; k++) {
      System.out.printf(
          Locale.ROOT,
          "%-26s %s median %.1f %s%n",
          k == 0 ? what : "",
          arms[k],
          OverheadHarness.median(v[k]),
          values(v[k]));
    }
  }

  /** One field of every run, per arm. */
  private static double[][] field(Run[][] r, Field f) {
    double[][] v = new double[r.length][];
    for (int k = 0; k < r.length; k++) {
      v[k] = new double[r[k].length];
      for (int i = 0; i < v[k].length; i++) {
        v[k][i] = f.of(r[k][i]);
      }
    }
    return v;
  }

  private static void report(String what, Run[][] r, Field f) {
    double[][] v = field(r, f);
    double without = OverheadHarness.median(v[0]);
    double with = OverheadHarness.median(v[1]);
    double idle = OverheadHarness.median(v[2]);
    System.out.printf(
        Locale.ROOT,
        "%-26s without agent: median %.3f %s%n"
            + "%-26s with agent:    median %.3f %s  ratio %.3f, median of rounds' ratios %.3f%n"
            + "%-26s agent, no phases: median %.3f %s  ratio %.3f, median of rounds' ratios %.3f%n",
        what,
        without,
        values(v[0]),
        "",
        with,
        values(v[1]),
        with / without,
        pairedRatio(v[1], v[0]),
        "",
        idle,
        values(v[2]),
        idle / without,
        pairedRatio(v[2], v[0]));
  }

  /**
   * The median over the rounds of each round's own ratio: the runs of a round follow each other
   * within seconds, so a slow stretch of the machine weighs on both sides of the ratio.
   */
  static double pairedRatio(double[] with, double[] without) {
    double[] ratios = new double[with.length];
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = with[i] / without[i];
    }
    return OverheadHarness.median(ratios);
  }

  private static String values(double[] v) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.3f", v[i]));
    }
    return b.append("]").toString();
  }

  /** The report's total joules, the sum of its phases' joules, and phase x's seconds. */
  private static double[] conservation(Path report) throws IOException {
    double total = Double.NaN;
    double sum = 0;
    double x = 0;
    String name = null;
    try (JsonParser p = new JsonFactory().createParser(report.toFile())) {
      for (JsonToken t; (t = p.nextToken()) != null; ) {
        String path = p.getParsingContext().pathAsPointer().toString();
        if (t == JsonToken.VALUE_STRING && path.matches("/phases/\\d+/name")) {
          name = p.getText();
        } else if (t.isNumeric()) {
          if (path.equals("/totals/joules/total")) {
            total = p.getDoubleValue();
          } else if (path.matches("/phases/\\d+/joules/total")) {
            sum += p.getDoubleValue();
          } else if (path.matches("/phases/\\d+/wallSeconds") && "x".equals(name)) {
            x = p.getDoubleValue();
          }
        }
      }
    }
    return new double[] {total, sum, x};
  }
}

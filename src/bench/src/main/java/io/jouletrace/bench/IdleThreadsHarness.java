package io.jouletrace.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sampler's CPU with many threads alive outside any phase: the {@link IdleThreads} workload
 * (virtual threads that each opened and closed a phase, then idle) under each agent jar given, the
 * jars taking turns run after run, on the two-socket fake powercap tree of {@link FakeTree}.
 * Reports each jar's median share of one core over {@code --seconds}, measured from {@code --skip}
 * seconds after every thread opened and closed its phase.
 *
 * <pre>
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.IdleThreadsHarness
 *     [--threads 100000] [--seconds 5] [--skip 1.5] [--runs 3]
 *     [--java /usr/lib/jvm/temurin-25-jdk-amd64/bin/java]
 *     [--agent agent/target/jouletrace-agent.jar]...
 * </pre>
 */
public final class IdleThreadsHarness {

  private static final Pattern LINE =
      Pattern.compile("idle-threads \\d+ sampler-share-percent ([-0-9.]+) recording (true|false)");

  private IdleThreadsHarness() {}

  public static void main(String[] args) throws Exception {
    int threads = 100_000;
    double seconds = 5;
    double skip = 1.5;
    int runs = 3;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> agents = new ArrayList<>();
    for (int i = 0; i < args.length - 1; i += 2) {
      switch (args[i]) {
        case "--threads" -> threads = Integer.parseInt(args[i + 1]);
        case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
        case "--skip" -> skip = Double.parseDouble(args[i + 1]);
        case "--runs" -> runs = Integer.parseInt(args[i + 1]);
        case "--java" -> java = args[i + 1];
        case "--agent" -> agents.add(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (agents.isEmpty()) {
      agents.add("agent/target/jouletrace-agent.jar");
    }
    Path tmp = Files.createTempDirectory("jouletrace-idle-threads");
    Path classes = WorkloadClasses.extract(tmp.resolve("classes"), IdleThreads.class);
    Path root = FakeTree.create();
    double[][] share = new double[agents.size()][runs];
    for (int run = 0; run < runs; run++) {
      for (int k = 0; k < agents.size(); k++) {
        int a = (k + run) % agents.size(); // the order turns from run to run
        List<String> cmd =
            List.of(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-javaagent:"
                    + agents.get(a)
                    + "=prometheus.port=off,powercap.root="
                    + root
                    + ",report.json="
                    + tmp.resolve("r.json"),
                "-cp",
                classes.toString(),
                IdleThreads.class.getName(),
                Integer.toString(threads),
                Double.toString(seconds),
                Double.toString(skip));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        Matcher m = LINE.matcher(out);
        if (!m.find() || !m.group(2).equals("true")) {
          throw new IllegalStateException("run failed with " + agents.get(a) + ":\n" + out);
        }
        share[a][run] = Double.parseDouble(m.group(1));
        System.out.printf(
            Locale.ROOT,
            "run %d %s: sampler %.3f %% of one core%n",
            run,
            agents.get(a),
            share[a][run]);
      }
    }
    for (int a = 0; a < agents.size(); a++) {
      double[] v = share[a].clone();
      Arrays.sort(v);
      System.out.printf(
          Locale.ROOT,
          "%s: %d idle threads, sampler median %.3f %% of one core %s%n",
          agents.get(a),
          threads,
          v[v.length / 2],
          Arrays.toString(share[a]));
    }
  }
}

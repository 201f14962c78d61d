package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The energy profiler in a forked JVM on a fake powercap tree at constant power: the energy of
 * methods with a known split of CPU time, a JFR recording of the user's beside it (stopped
 * mid-run), the agent's own JFR events in that recording, and bad input (JFR disabled, a stack
 * deeper than JFR keeps, an output file that cannot be written).
 */
class ProfilerIT {

  private static final String APP = "io.jouletrace.it.apps.ProfileApp";
  private static final double WATTS = 20;

  private static FakePowercap rapl(Path dir) throws java.io.IOException {
    return new FakePowercap(dir.resolve("powercap"))
        .zone("intel-rapl:0", "package-0", WATTS, 262_143_328_850L, 0)
        .start();
  }

  private static String agentArgs(FakePowercap rapl, Path dir, String more) {
    return "powercap.root="
        + rapl.root()
        + ",attribution=host,prometheus.port=off,profile=true,report.json="
        + dir.resolve("report.json")
        + (more.isEmpty() ? "" : "," + more);
  }

  /**
   * Runs {@link #APP} under the agent with the profiler on, on a fake powercap tree; asserts that
   * it exits with 0.
   */
  private static ForkedJvm.Result runApp(
      Path dir, String agentMore, List<String> jvmArgs, String... appArgs) throws Exception {
    return runApp(ForkedJvm.javaExecutable(), dir, agentMore, jvmArgs, appArgs);
  }

  /** {@link #runApp(Path, String, List, String...)} with a given {@code java}. */
  private static ForkedJvm.Result runApp(
      String java, Path dir, String agentMore, List<String> jvmArgs, String... appArgs)
      throws Exception {
    return runApp(120, java, dir, agentMore, jvmArgs, appArgs);
  }

  /** {@link #runApp(String, Path, String, List, String...)} within a given time. */
  private static ForkedJvm.Result runApp(
      int timeoutSeconds,
      String java,
      Path dir,
      String agentMore,
      List<String> jvmArgs,
      String... appArgs)
      throws Exception {
    try (FakePowercap rapl = rapl(dir)) {
      List<String> args = new ArrayList<>(jvmArgs);
      args.addAll(List.of("-cp", ForkedJvm.appClassPath(), APP));
      args.addAll(List.of(appArgs));
      ForkedJvm.Result r =
          new ForkedJvm(dir, java)
              .agent(agentArgs(rapl, dir, agentMore))
              .arg(args.toArray(String[]::new))
              .run(timeoutSeconds);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      return r;
    }
  }

  /** Millijoules of the folded lines in which {@code frame} is on the stack. */
  static double inclusive(List<String> folded, String frame) {
    double sum = 0;
    for (String line : folded) {
      int space = line.lastIndexOf(' ');
      List<String> frames = List.of(line.substring(0, space).split(";"));
      if (frames.contains(frame)) {
        sum += Double.parseDouble(line.substring(space + 1));
      }
    }
    return sum;
  }

  /**
   * Each method's wall time in its calls, from the application's own clock. JFR samples a thread
   * that is running Java whether or not the OS has it on a CPU, so on a machine whose load
   * deschedules the JVM for long stretches, samples follow the time in each method, not its CPU
   * time; on an idle machine the two are the same for these CPU-bound calls.
   */
  static Map<String, Double> truth(Path file) throws Exception {
    Map<String, Double> m = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      String[] p = line.split(" ");
      m.put(p[0], Double.parseDouble(p[p.length - 1]));
    }
    return m;
  }

  private static JsonNode report(Path dir) throws Exception {
    return new ObjectMapper().readTree(dir.resolve("report.json").toFile());
  }

  /** The profile hands out exactly the energy the phases got. */
  private static void conserves(JsonNode report) {
    double total = report.at("/totals/joules/total").asDouble();
    assertThat(total).isPositive();
    assertThat(report.at("/profile/joules").asDouble()).isCloseTo(total, within(total * 1e-9));
  }

  /**
   * Java 20 and later: JFR's own shutdown hook stops the stream's recording, usually before the
   * agent's hook can, and the stream then hands out the recording's last segment only after a nap
   * of up to a second, and never ends. The profiler waits for that segment, so the samples up to
   * exit still count: before it did, the energy since the stream's last delivery (up to a second of
   * this four-second run, 0 to 25 %) went to {@code [no sample]}.
   */
  @Test
  void samplesUpToExitCountOnJava25(@TempDir Path dir) throws Exception {
    samplesUpToExitCount(dir, List.of(), "split", "4", 0.6);
  }

  /**
   * Runs a {@link #APP} workload on Java 25 with samples every 10 ms, and checks that the samples
   * up to exit count: less than 0.5 % of {@code [no sample]}, and of {@code [profiler stopped]}
   * (the few milliseconds from the recording's stop to the agent's last reading), no warning, and
   * at least {@code split} of the profile in the split's two methods (the rest is the JVM's
   * start-up, in {@code [profiler starting]}, and the workload's unmeasured tail).
   */
  private static void samplesUpToExitCount(
      Path dir, List<String> jvmArgs, String workload, String seconds, double split)
      throws Exception {
    String java25 = Java25IT.java25();
    Path folded = dir.resolve("out.collapsed");
    List<String> args = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
    args.addAll(jvmArgs);
    ForkedJvm.Result r =
        runApp(
            java25,
            dir,
            "profile.interval=10ms,profile.collapsed=" + folded,
            args,
            workload,
            seconds,
            dir.resolve("truth.txt").toString());
    assertThat(r.stderr()).doesNotContain("profile", "WARNING");
    JsonNode rep = report(dir);
    conserves(rep);
    double total = rep.at("/profile/joules").asDouble() * 1000;
    List<String> lines = Files.readAllLines(folded);
    assertThat(inclusive(lines, "[no sample]")).as("no sample").isLessThan(0.005 * total);
    assertThat(inclusive(lines, "[profiler stopped]")).as("stopped").isLessThan(0.005 * total);
    assertThat(inclusive(lines, APP + ".alpha") + inclusive(lines, APP + ".beta"))
        .isGreaterThan(split * total);
  }

  /**
   * Java 20 and later, when JFR's own shutdown holds JFR's lock long enough (a cold machine's
   * teardown) for the stream to hand out the stopped recording's last segment while the agent's
   * {@code RecordingStream.stop()} waits for that lock: the stream then flushes no more, and looks
   * for a next chunk. The profiler waited for a flush after its stop failed, ran out its 1.5 s, and
   * cut the profile at the last clock event: 3.9 to 4.1 % of this run went to {@code [no sample]}
   * (3 of 3 runs). The app stops the recording as JFR's hook does and holds the lock 1.5 s.
   */
  @Test
  void samplesUpToExitCountWhenJfrsShutdownHoldsItsLock(@TempDir Path dir) throws Exception {
    samplesUpToExitCount(
        dir, List.of("--add-opens=jdk.jfr/jdk.jfr=ALL-UNNAMED"), "slow-jfr-exit", "3", 0.5);
  }

  /**
   * A JVM that exits while the profiler's recording starts still exits. JFR's own shutdown hook can
   * then remove its repository under a stream that has not found its first file, which it looks for
   * again for ever, while the JDK's {@code RecordingStream.stop()} waits for it; or the recording
   * starts after JFR's recorder thread has stopped, and waits for it with JFR's lock held. The
   * agent's shutdown hook waited for ever in either, and the JVM with it. This is a race: JVMs that
   * left {@code main} at this frame hung 1 to 3 times in 5 on Java 25 outside the suite, and less
   * often here (18 runs of the build before, none hung), so the check holds the exit to a bound
   * rather than reproducing the hang each time.
   */
  @Test
  void theJvmExitsWhileTheProfilersRecordingStarts(@TempDir Path dir) throws Exception {
    String java25 = Java25IT.java25();
    for (int run = 0; run < 6; run++) {
      Path runDir = Files.createDirectories(dir.resolve("run" + run));
      ForkedJvm.Result r =
          runApp(
              20,
              java25,
              runDir,
              "",
              List.of("--enable-native-access=ALL-UNNAMED"),
              "exit-at",
              "jdk.jfr.consumer.RecordingStream.start");
      assertThat(r.stdout()).contains("exiting in jdk.jfr.consumer.RecordingStream.start");
      assertThat(r.stderr()).doesNotContain("Exception");
      conserves(report(runDir));
    }
  }

  /**
   * A stream cannot read its chunk before JFR's first flush, about a second after the recording
   * starts, and at exit JFR's own shutdown hook finishes the chunk and deletes the repository: a
   * stream that had not opened the file by then handed out nothing, and the whole profile went to
   * {@code [profiler starting]} (with the build before, 2 runs in 6 of this workload on Java 17, 2
   * in 8 on Java 25, and about one DJL example run in ten). A copy that JFR writes at exit before
   * it deletes anything now hands the samples over. Each run works half a second in {@code alpha}
   * and leaves {@code main} while the stream still waits for its chunk's header; 8 runs on the
   * suite's Java and 8 on Java 25.
   */
  @Test
  void aRunThatEndsBeforeJfrsFirstFlushKeepsItsSamples(@TempDir Path dir) throws Exception {
    String java25 = Java25IT.java25();
    for (int run = 0; run < 16; run++) {
      Path runDir = Files.createDirectories(dir.resolve("run" + run));
      String java = run < 8 ? ForkedJvm.javaExecutable() : java25;
      List<String> jvmArgs = run < 8 ? List.of() : List.of("--enable-native-access=ALL-UNNAMED");
      Path folded = runDir.resolve("out.collapsed");
      ForkedJvm.Result r =
          runApp(
              java,
              runDir,
              "profile.interval=10ms,profile.collapsed=" + folded,
              jvmArgs,
              "exit-before-first-flush",
              "0.5");
      assertThat(r.stdout()).contains("stream waits for its chunk: true");
      JsonNode rep = report(runDir);
      conserves(rep);
      assertThat(rep.at("/profile/samples").asLong())
          .as("run %d: %s", run, r.stderr())
          .isGreaterThan(10);
      List<String> lines = Files.readAllLines(folded);
      double total = rep.at("/profile/joules").asDouble() * 1000;
      double alpha = inclusive(lines, APP + ".alpha");
      double sampled = total - inclusive(lines, "[profiler starting]");
      // The samples were handed over: what the profiler's start-up did not take is mostly alpha's
      // (81 to 100 % in 17 runs; the rest the agent's and JFR's threads at start and exit). The
      // start-up's own part moves with the machine's speed (on a slow day alpha 27 to 46 % of
      // the whole, the start-up 52 to 69 %), and without the copy it was everything.
      assertThat(alpha).as("run %d: alpha of what was sampled", run).isGreaterThan(0.6 * sampled);
      assertThat(alpha).as("run %d: alpha of the whole", run).isGreaterThan(0.15 * total);
    }
  }

  @Test
  void oneThreadsThreeToOneSplitIsInItsMethodsEnergy(@TempDir Path dir) throws Exception {
    Path folded = dir.resolve("out.collapsed");
    Path truth = dir.resolve("truth.txt");
    ForkedJvm.Result r =
        runApp(
            dir,
            "profile.interval=10ms,profile.collapsed=" + folded,
            List.of(),
            "split",
            "8",
            truth.toString());
    assertThat(r.stderr()).doesNotContain("profile");
    List<String> lines = Files.readAllLines(folded);
    double alpha = inclusive(lines, APP + ".alpha");
    double beta = inclusive(lines, APP + ".beta");
    Map<String, Double> t = truth(truth);
    double expected = t.get("alpha") / t.get("beta");
    // alpha does three times beta's work; under load the time split strays from 3:1 (3.74 with
    // two busy loops on two cores). Any split well away from 1:1 tells samples from stacks.
    assertThat(expected).isBetween(2.0, 5.0);
    // Generous: a few hundred samples on a shared 2-core machine whose load descheduled the JVM
    // at random give about 10 % of noise on a 3:1 ratio. A split by stacks (1:1) or by anything but
    // samples is still far outside.
    assertThat(alpha / beta)
        .as("alpha/beta %s vs time %s", alpha / beta, expected)
        .isCloseTo(expected, within(0.3 * expected));
    JsonNode rep = report(dir);
    conserves(rep);
    // every sample up to exit was delivered (on Java 17 too, where the stream is not stopped but
    // ends with JFR's own shutdown): no stretch of energy without samples at the end
    double total = rep.at("/profile/joules").asDouble() * 1000;
    assertThat(inclusive(lines, "[no sample]")).as("no sample").isLessThan(0.02 * total);
    assertThat(rep.at("/profile/collapsedFile").asText()).isEqualTo(folded.toString());
    long fileTotal = 0;
    for (String line : lines) {
      fileTotal += Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
    }
    assertThat((double) fileTotal)
        .isCloseTo(rep.at("/profile/joules").asDouble() * 1000, within(1.0));
  }

  /**
   * With JFR running for the profile, the JIT's time on the agent's code and JFR's threads are
   * counted among the agent's cost. Ground truth from the JVM's own compilation log ({@code
   * -XX:+LogCompilation}: each compilation's method, compiler thread, start and end) and the
   * application's readings of each compiler thread's CPU time every 5 ms: the CPU time a thread
   * used between two readings goes to the compilations it ran in that span, in proportion to their
   * time in it, and the truth is what went to the agent's classes (by name: the agent's, JFR's, and
   * the libraries the agent carries, none of which the application uses) from when the profile's
   * recording started (JFR says when) to the last reading (at shutdown).
   */
  @Test
  void theJitsTimeOnTheAgentsCodeAndJfrsThreadsAreCounted(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("compilers.txt");
    Path log = dir.resolve("compilation.log");
    runApp(
        dir,
        "",
        // The log keeps no record of a compiler thread that ends before the JVM does: the JVM
        // keeps all of them (more than two on machines with more cores).
        List.of(
            "-XX:-UseDynamicNumberOfCompilerThreads",
            "-XX:+UnlockDiagnosticVMOptions",
            "-XX:+LogCompilation",
            "-XX:LogFile=" + log),
        "compilers",
        "3",
        out.toString());
    double running =
        Long.parseLong(Files.readString(dir.resolve("compilers.txt.running")).trim()) * 1e-3;
    Map<Long, List<double[]>> readings = new HashMap<>(); // per thread: uptime s, CPU s
    double first = Double.MAX_VALUE;
    double last = 0;
    for (String line : Files.readAllLines(out)) {
      String[] p = line.split(" ");
      double at = Long.parseLong(p[0]) * 1e-3;
      readings
          .computeIfAbsent(Long.parseLong(p[1]), t -> new ArrayList<>())
          .add(new double[] {at, Long.parseLong(p[2]) * 1e-9});
      first = Math.min(first, at);
      last = Math.max(last, at);
    }
    assertThat(running).isGreaterThan(first);
    Map<Long, List<double[]>> tasks = compilations(log); // per thread: start, end, agent's
    double expected = 0;
    // The CPU time, after the recording started, of the compilations under way at its start:
    // those have no event, and the agent hands that time to the first delivery's compilations.
    double inFlight = 0;
    for (Map.Entry<Long, List<double[]>> t : readings.entrySet()) {
      List<double[]> r = t.getValue();
      List<double[]> ran = tasks.getOrDefault(t.getKey(), List.of());
      for (int i = 1; i < r.size(); i++) {
        double from = Math.max(running, r.get(i - 1)[0]);
        double to = Math.min(last, r.get(i)[0]);
        if (to <= from) {
          continue;
        }
        double all = 0;
        double agent = 0;
        double before = 0;
        for (double[] task : ran) {
          double overlap = Math.min(to, task[1]) - Math.max(from, task[0]);
          if (overlap > 0) {
            all += overlap;
            agent += overlap * task[2];
            before += task[0] < running ? overlap : 0;
          }
        }
        if (all > 0) {
          double cpu =
              (r.get(i)[1] - r.get(i - 1)[1]) * (to - from) / (r.get(i)[0] - r.get(i - 1)[0]);
          expected += cpu * agent / all;
          inFlight += cpu * before / all;
        }
      }
    }
    JsonNode threads = report(dir).at("/agent/threads");
    double jit = threads.path("jit").asDouble();
    System.out.printf(
        "jit: agent %.3f CPU-s, from the compilation log and the readings %.3f;"
            + " compilations under way at the recording's start %.3f CPU-s after it%n",
        jit, expected, inFlight);
    assertThat(expected).as("truth").isPositive();
    // The agent counts each compilation's duration at its thread's CPU rate between two of JFR's
    // deliveries; the truth takes each 5 ms of CPU time as it went. Within 20 %, or 20 ms where
    // that is more, plus what the compilations under way when the recording started took after
    // it: they have no event, and the agent hands that time to the first delivery's compilations
    // where their thread did not run at full rate (on a loaded machine, 0.020 and 0.025 CPU-s too
    // many in runs whose agent compilations took 0.085 and 0.119 by the truth).
    assertThat(jit)
        .as(threads + " against " + expected + ", in flight " + inFlight)
        .isCloseTo(expected, within(Math.max(0.2 * expected, 0.020) + inFlight));
    assertThat(threads.path("jfr").asDouble()).as(threads.toString()).isPositive();
  }

  /**
   * The compilations in a {@code -XX:+LogCompilation} file, per compiler thread (its Linux thread
   * id): start and end in seconds of uptime, and 1 for the agent's classes, 0 for others.
   */
  private static Map<Long, List<double[]>> compilations(Path log) throws java.io.IOException {
    List<String> names =
        List.of(
            "io.jouletrace.agent.",
            "io.jouletrace.bridge.",
            "io.jouletrace.sources.",
            "io.jouletrace.exporter.",
            "jdk.jfr.",
            "com.fasterxml.",
            "io.prometheus.",
            "oshi.",
            "com.sun.jna.",
            "net.bytebuddy.",
            "org.slf4j.");
    Map<Long, List<double[]>> tasks = new HashMap<>();
    long thread = -1;
    String method = null;
    double started = 0;
    for (String line : Files.readAllLines(log, java.nio.charset.StandardCharsets.ISO_8859_1)) {
      if (line.startsWith("<compilation_log ")) {
        thread = Long.parseLong(attribute(line, "thread"));
      } else if (line.startsWith("<task ")) {
        method = attribute(line, "method");
        started = Double.parseDouble(attribute(line, "stamp"));
      } else if (line.startsWith("<task_done ") && method != null && thread > 0) {
        String m = method;
        boolean agents = names.stream().anyMatch(m::startsWith);
        tasks
            .computeIfAbsent(thread, t -> new ArrayList<>())
            .add(
                new double[] {
                  started, Double.parseDouble(attribute(line, "stamp")), agents ? 1 : 0
                });
        method = null;
      }
    }
    return tasks;
  }

  private static String attribute(String line, String name) {
    int at = line.indexOf(" " + name + "='") + name.length() + 3;
    return line.substring(at, line.indexOf('\'', at));
  }

  @Test
  void twoThreadsAtDifferentLoadsShareByTheirCpu(@TempDir Path dir) throws Exception {
    Path folded = dir.resolve("out.collapsed");
    Path truth = dir.resolve("truth.txt");
    runApp(
        dir,
        "profile.interval=10ms,profile.collapsed=" + folded,
        List.of(),
        "two",
        "8",
        truth.toString());
    List<String> lines = Files.readAllLines(folded);
    double gamma = inclusive(lines, APP + ".gamma");
    double delta = inclusive(lines, APP + ".delta");
    Map<String, Double> cpu = new HashMap<>();
    for (String line : Files.readAllLines(truth)) {
      String[] p = line.split(" ");
      cpu.put(p[0], Double.parseDouble(p[1]));
    }
    double expected = cpu.get("gamma") / cpu.get("delta");
    System.out.printf("two threads: gamma/delta %.3f, CPU %.3f%n", gamma / delta, expected);
    // Each thread's samples weigh its CPU time, so the threads' split follows their CPU time even
    // when the machine's load keeps them waiting for a CPU (JFR samples a waiting thread too);
    // sharing by samples alone was 20-40 % off on this machine.
    assertThat(gamma / delta)
        .as("gamma/delta %s vs CPU %s", gamma / delta, expected)
        .isCloseTo(expected, within(0.1 * expected));
    conserves(report(dir));
  }

  @Test
  void aUserRecordingRunsBesideItStopsMidRunAndShowsTheAgentsEvents(@TempDir Path dir)
      throws Exception {
    Path user = dir.resolve("user.jfr");
    Path truth = dir.resolve("truth.txt");
    ForkedJvm.Result r =
        runApp(
            dir,
            "jfr=true,interval=50ms",
            List.of("-XX:StartFlightRecording:name=user,settings=default,filename=" + user),
            "stop-user",
            "8",
            truth.toString());
    assertThat(r.stdout()).contains("stopped [user]");
    assertThat(r.stderr()).doesNotContain("profile", "jfr=", "Exception");
    // the user's recording: its own samples, and the agent's phase and power events
    Map<String, Integer> counts = new HashMap<>();
    List<Double> watts = new ArrayList<>();
    double phaseJoules = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(user)) {
      String name = e.getEventType().getName();
      counts.merge(name, 1, Integer::sum);
      if (name.equals("io.jouletrace.Power")) {
        assertThat(e.getString("device")).isEqualTo("package-0");
        if (e.getDuration().toMillis() >= 40) {
          watts.add(e.getDouble("watts"));
        }
      } else if (name.equals("io.jouletrace.Phase")) {
        assertThat(e.getString("phase")).isNotBlank();
        phaseJoules += e.getDouble("joules");
      }
    }
    assertThat(counts).containsKeys("jdk.ExecutionSample", "io.jouletrace.Phase");
    assertThat(watts).isNotEmpty();
    watts.sort(null);
    assertThat(watts.get(watts.size() / 2)).isCloseTo(WATTS, within(WATTS * 0.2));
    assertThat(phaseJoules).isPositive();
    // the profiler went on after the user's recording stopped
    JsonNode rep = report(dir);
    conserves(rep);
    double after = 0;
    for (JsonNode m : rep.at("/profile/overall/topTotal")) {
      if (m.get("method").asText().equals(APP + ".afterStop")) {
        after = m.get("totalJoules").asDouble();
      }
    }
    assertThat(after).isPositive();
  }

  /**
   * A recording started on the command line starts after the agent's {@code premain}, so JFR was
   * not running when the profiler looked: JFR's threads are the user's too, and not counted.
   */
  @Test
  void jfrsThreadsAreNotCountedWhileAUserRecordingRuns(@TempDir Path dir) throws Exception {
    runApp(
        dir,
        "",
        List.of("-XX:StartFlightRecording:name=user,settings=default"),
        "split",
        "2",
        dir.resolve("truth.txt").toString());
    JsonNode threads = report(dir).at("/agent/threads");
    assertThat(threads.has("profiler")).as(threads.toString()).isTrue();
    assertThat(threads.has("jfr")).as(threads.toString()).isFalse();
  }

  @Test
  void withJfrDisabledOneLineAndTheRestIsMeasured(@TempDir Path dir) throws Exception {
    Path truth = dir.resolve("truth.txt");
    ForkedJvm.Result r =
        runApp(dir, "jfr=true", List.of("-XX:-FlightRecorder"), "split", "2", truth.toString());
    assertThat(r.stdout()).contains("profile app done");
    assertThat(r.stderr().lines().filter(l -> l.contains("JFR")).toList())
        .singleElement()
        .asString()
        .contains("profile=true", "not available");
    JsonNode rep = report(dir);
    assertThat(rep.has("profile")).isFalse();
    assertThat(rep.at("/totals/joules/total").asDouble()).isPositive();
  }

  @Test
  void aDeepStackAndAnUnwritableFileCostOneLine(@TempDir Path dir) throws Exception {
    Path blocker = dir.resolve("not-a-folder");
    Files.writeString(blocker, "x");
    ForkedJvm.Result r =
        runApp(
            dir,
            "profile.collapsed=" + blocker.resolve("out.collapsed"),
            List.of(),
            "deep",
            "300",
            "4");
    assertThat(r.stderr().lines().filter(l -> l.contains("profile")).toList())
        .singleElement()
        .asString()
        .contains("profile.collapsed", "not written", "not-a-folder");
    JsonNode rep = report(dir);
    conserves(rep);
    assertThat(rep.at("/profile/truncatedSamples").asLong()).isPositive();
    assertThat(rep.at("/profile/collapsedFile").isNull()).isTrue();
    boolean truncatedFrame = false;
    for (JsonNode m : rep.at("/profile/overall/topTotal")) {
      truncatedFrame |= m.get("method").asText().equals("[truncated]");
    }
    assertThat(truncatedFrame).isTrue();
  }
}

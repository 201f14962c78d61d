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
    try (FakePowercap rapl = rapl(dir)) {
      List<String> args = new ArrayList<>(jvmArgs);
      args.addAll(List.of("-cp", ForkedJvm.appClassPath(), APP));
      args.addAll(List.of(appArgs));
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .agent(agentArgs(rapl, dir, agentMore))
              .arg(args.toArray(String[]::new))
              .run(120);
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
   * -XX:+LogCompilation}: each compilation's method, compiler, start and end) and the application's
   * readings of the C1 and C2 threads' CPU time every 5 ms: from when the profile's recording runs
   * (the application waits for it, polling every 10 ms) to the last reading (at shutdown), the
   * durations of the compilations of the agent's classes (by name: the agent's, JFR's, and the
   * libraries the agent carries, none of which the application uses), each at its compiler's CPU
   * time per second of compiling in that span.
   */
  @Test
  void theJitsTimeOnTheAgentsCodeAndJfrsThreadsAreCounted(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("compilers.txt");
    Path log = dir.resolve("compilation.log");
    runApp(
        dir,
        "",
        List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:+LogCompilation", "-XX:LogFile=" + log),
        "compilers",
        "3",
        out.toString());
    List<long[]> readings = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      String[] p = line.split(" ");
      readings.add(new long[] {Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])});
    }
    long[] last = readings.get(readings.size() - 1);
    double running =
        Long.parseLong(Files.readString(dir.resolve("compilers.txt.running")).trim()) * 1e-3;
    assertThat(running).isGreaterThan(readings.get(0)[0] * 1e-3);
    Compilations c = compilations(log, running, last[0] * 1e-3);
    double expected = 0;
    for (int k = 0; k < 2; k++) {
      double cpu = (last[k + 1] - cpuAt(readings, running, k + 1)) * 1e-9;
      expected += c.agent[k] * Math.min(1, cpu / c.all[k]);
    }
    JsonNode threads = report(dir).at("/agent/threads");
    double jit = threads.path("jit").asDouble();
    System.out.printf("jit: agent %.3f CPU-s, from the compilation log %.3f%n", jit, expected);
    assertThat(expected).as("truth").isPositive();
    // JFR's durations against the log's, per compiler thread against per compiler, the rate
    // measured over a slightly different span, and JFR's compilations before its recording runs.
    assertThat(jit)
        .as(threads + " against " + expected)
        .isCloseTo(expected, within(0.25 * expected));
    assertThat(threads.path("jfr").asDouble()).as(threads.toString()).isPositive();
  }

  /** A compiler's CPU time at an uptime, interpolated between the readings around it. */
  private static double cpuAt(List<long[]> readings, double seconds, int compiler) {
    double ms = seconds * 1e3;
    for (int i = 1; i < readings.size(); i++) {
      long[] a = readings.get(i - 1);
      long[] b = readings.get(i);
      if (b[0] >= ms) {
        double f = b[0] == a[0] ? 1 : (ms - a[0]) / (b[0] - a[0]);
        return a[compiler] + f * (b[compiler] - a[compiler]);
      }
    }
    return readings.get(readings.size() - 1)[compiler];
  }

  private static final class Compilations {
    /** Seconds of C1's and C2's compiling, of all methods and of the agent's. */
    final double[] all = new double[2];

    final double[] agent = new double[2];
  }

  /**
   * C1's and C2's compiling between two uptimes (of the compilations that started between them),
   * from a {@code -XX:+LogCompilation} file.
   */
  private static Compilations compilations(Path log, double from, double to)
      throws java.io.IOException {
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
    List<double[]> tasks = new ArrayList<>(); // compiler, start, took, agent's (1) or not (0)
    Compilations c = new Compilations();
    int compiler = -1;
    String method = null;
    double started = 0;
    for (String line : Files.readAllLines(log, java.nio.charset.StandardCharsets.ISO_8859_1)) {
      if (line.startsWith("<start_compile_thread ")) {
        String name = attribute(line, "name");
        compiler = name.startsWith("C1 ") ? 0 : name.startsWith("C2 ") ? 1 : -1;
      } else if (line.startsWith("<task ")) {
        method = attribute(line, "method");
        started = Double.parseDouble(attribute(line, "stamp"));
      } else if (line.startsWith("<task_done ") && method != null && compiler >= 0) {
        String m = method;
        double took = Double.parseDouble(attribute(line, "stamp")) - started;
        boolean agents = names.stream().anyMatch(m::startsWith);
        tasks.add(new double[] {compiler, started, took, agents ? 1 : 0});
        method = null;
      }
    }
    for (double[] t : tasks) {
      if (t[1] >= from && t[1] <= to) {
        c.all[(int) t[0]] += t[2];
        c.agent[(int) t[0]] += t[2] * t[3];
      }
    }
    return c;
  }

  private static String attribute(String line, String name) {
    int at = line.indexOf(" " + name + "='") + name.length() + 3;
    return line.substring(at, line.indexOf('\'', at));
  }

  @Test
  void twoThreadsAtDifferentLoadsShareByTheirCpu(@TempDir Path dir) throws Exception {
    Path folded = dir.resolve("out.collapsed");
    Path truth = dir.resolve("truth.txt");
    try (FakePowercap rapl = rapl(dir)) {
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .agent(agentArgs(rapl, dir, "profile.interval=10ms,profile.collapsed=" + folded))
              .arg("-cp", ForkedJvm.appClassPath(), APP, "two", "8", truth.toString())
              .run(120);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
    }
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
    try (FakePowercap rapl = rapl(dir)) {
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .agent(agentArgs(rapl, dir, "jfr=true,interval=50ms"))
              .arg(
                  "-XX:StartFlightRecording:name=user,settings=default,filename=" + user,
                  "-cp",
                  ForkedJvm.appClassPath(),
                  APP,
                  "stop-user",
                  "8",
                  truth.toString())
              .run(120);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stdout()).contains("stopped [user]");
      assertThat(r.stderr()).doesNotContain("profile", "jfr=", "Exception");
    }
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

  @Test
  void withJfrDisabledOneLineAndTheRestIsMeasured(@TempDir Path dir) throws Exception {
    Path truth = dir.resolve("truth.txt");
    try (FakePowercap rapl = rapl(dir)) {
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .agent(agentArgs(rapl, dir, "jfr=true"))
              .arg(
                  "-XX:-FlightRecorder",
                  "-cp",
                  ForkedJvm.appClassPath(),
                  APP,
                  "split",
                  "2",
                  truth.toString())
              .run(120);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stdout()).contains("profile app done");
      assertThat(r.stderr().lines().filter(l -> l.contains("JFR")).toList())
          .singleElement()
          .asString()
          .contains("profile=true", "not available");
    }
    JsonNode rep = report(dir);
    assertThat(rep.has("profile")).isFalse();
    assertThat(rep.at("/totals/joules/total").asDouble()).isPositive();
  }

  @Test
  void aDeepStackAndAnUnwritableFileCostOneLine(@TempDir Path dir) throws Exception {
    Path blocker = dir.resolve("not-a-folder");
    Files.writeString(blocker, "x");
    try (FakePowercap rapl = rapl(dir)) {
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .agent(agentArgs(rapl, dir, "profile.collapsed=" + blocker.resolve("out.collapsed")))
              .arg("-cp", ForkedJvm.appClassPath(), APP, "deep", "300", "4")
              .run(120);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stderr().lines().filter(l -> l.contains("profile")).toList())
          .singleElement()
          .asString()
          .contains("profile.collapsed", "not written", "not-a-folder");
    }
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

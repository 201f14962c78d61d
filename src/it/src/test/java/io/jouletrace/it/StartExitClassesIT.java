package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a short job pays for at start-up and exit: the classes the JVM loads there. Each of these
 * costs a cold JVM milliseconds of interpreted code (and the JIT's work after it), which the agent
 * no longer spends; this keeps them out.
 */
class StartExitClassesIT {

  /**
   * The classes whose code runs in {@code premain}, on the phase path, while the first class is
   * woven and at exit.
   */
  private static final Pattern START_AND_EXIT_LAMBDA =
      Pattern.compile(
          "io\\.jouletrace\\.(agent\\.(AgentRuntime|AgentThreads|Log|Sampler|instrument\\.Instrumenter"
              + "|instrument\\.Weaver"
              + "|instrument\\.SparkTasks|config\\.ConfigLoader|carbon\\.CarbonStage"
              + "|carbon\\.EmbodiedTable|timeline\\.EnergyLedger|phase\\.\\w+)"
              + "|exporter\\.(JsonReport|PhaseTable|CarbonStatement|IsoInstant|AtomicWrite)"
              + "|sources\\.(rapl\\.RaplSysfsSource|msr\\.RaplMsrSource|msr\\.CpuPackages"
              + "|cpu\\.\\w+|model\\.\\w+))\\$\\$Lambda\\S*");

  /**
   * Runs one of the test apps under the agent, its report in {@code dir}, and requires that it
   * exits normally.
   *
   * @param classLog where {@code -Xlog:class+load} writes, or null for no log
   */
  private static ForkedJvm.Result app(
      Path dir, Path classLog, String agentArgs, String app, String arg) throws Exception {
    ForkedJvm jvm = new ForkedJvm(dir);
    if (classLog != null) {
      jvm.arg("-Xlog:class+load:file=" + classLog);
    }
    ForkedJvm.Result r =
        jvm.agent(agentArgs + ",report.json=" + dir.resolve("r.json"))
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps." + app, arg)
            .run(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    return r;
  }

  @Test
  void aShortJobsStartAndExitSpinNoLambdaAndStartNoJmx(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("classes.txt");
    ForkedJvm.Result r = app(dir, log, "prometheus.port=off", "EndApp", "0");
    String loaded = Files.readString(log);
    // the run itself went through premain, a phase and exit
    assertThat(loaded)
        .contains("io.jouletrace.agent.AgentRuntime ")
        .contains("io.jouletrace.exporter.JsonReport ")
        .contains("io.jouletrace.exporter.PhaseTable ");
    assertThat(r.stderr()).contains("work", "total");
    Matcher m = START_AND_EXIT_LAMBDA.matcher(loaded);
    List<String> lambdas = m.results().map(x -> x.group()).toList();
    assertThat(lambdas).as("lambdas spun by the agent at start-up or exit").isEmpty();
    // JMX's platform beans, the JDK's process support and java.time's formatter each cost a cold
    // JVM 10 to 30 ms; the agent reads /proc and formats instants itself
    assertThat(loaded)
        .doesNotContain("java.lang.management.ManagementFactory ")
        .doesNotContain("java.lang.ProcessHandleImpl ")
        .doesNotContain("java.time.format.DateTimeFormatter ");
    // the regular-expression engine's first use costs a cold JVM several milliseconds: the
    // configuration, /proc and the default rules are parsed without it
    assertThat(loaded).doesNotContain("java.util.regex.Pattern ");
  }

  /**
   * A record's generated {@code equals}, {@code hashCode} and {@code toString} are bootstrapped
   * through method handles at their first call (tens of milliseconds of a cold JVM's CPU), and each
   * lambda is a class spun at its first call: none of either runs at start-up, while weaving a
   * class, on the phase path or at exit.
   */
  @Test
  void aJobWithAWovenClassBootstrapsNoRecordMethods(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("classes.txt");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .arg("-Xlog:class+load:file=" + log + ":tid")
            .agent(
                "prometheus.port=off,phase.woven=io.jouletrace.it.apps.EndApp#main,report.json="
                    + dir.resolve("r.json"))
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.EndApp", "0")
            .run(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stderr()).contains("woven", "work", "total");
    String loaded = Files.readString(log);
    assertThat(loaded)
        .contains(" io.jouletrace.agent.instrument.Weaver ")
        .doesNotContain(" java.lang.runtime.ObjectMethods ");
    List<String> lambdas =
        START_AND_EXIT_LAMBDA.matcher(loaded).results().map(x -> x.group()).toList();
    assertThat(lambdas).as("lambdas spun by the agent").isEmpty();
    // The weaver's start looks for classes to retransform among those loaded before the gate, the
    // agent's own never among them: its thread loads the weaver's classes and the JDK's only, not
    // the classes that reflection on the agent's would load.
    List<String> lines = Files.readAllLines(log);
    String first = lines.get(indexOf(lines, " io.jouletrace.agent.instrument.Weaver "));
    String weaver = first.substring(0, first.indexOf(']') + 1); // its thread: "[tid]"
    List<String> others =
        lines.stream()
            .filter(l -> l.startsWith(weaver))
            .map(l -> l.substring(weaver.length()).trim().split(" ")[0])
            .filter(
                c ->
                    !c.startsWith("io.jouletrace.agent.instrument.")
                        && !c.startsWith("net.bytebuddy.")
                        && !c.startsWith("java.")
                        && !c.startsWith("jdk.")
                        && !c.startsWith("sun."))
            .toList();
    assertThat(others).as("classes the instrument thread loaded").isEmpty();
  }

  /**
   * A job that ends while its start-up still keeps every core busy is never served: starting the
   * endpoint (its classes loaded and run for the first time) would only compete with the job.
   */
  @Test
  void aJobThatEndsWhileItKeepsEveryCoreBusyStartsNoEndpoint(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("classes.txt");
    ForkedJvm.Result r = app(dir, log, "prometheus.port=0,log.level=debug", "BusyApp", "600");
    assertThat(r.stdout()).contains("busy-end");
    assertThat(r.stderr()).contains("total").doesNotContain("/metrics served on");
    assertThat(Files.readString(log)).doesNotContain("io.jouletrace.exporter.PrometheusEndpoint ");
  }

  /**
   * What start-up does for the outputs (the CSV's CPU model, the Pushgateway's pushes) does not
   * wait with the endpoint: a short job that keeps every core busy still gets it.
   */
  @Test
  void aShortBusyJobStillGetsItsOutputsStarted(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("runs.csv");
    ForkedJvm.Result r = app(dir, null, "prometheus.port=0,csv=" + csv, "BusyApp", "800");
    List<String> rows = Files.readAllLines(csv);
    assertThat(rows).hasSize(2);
    List<String> header = List.of(rows.get(0).split(",", -1));
    String model = rows.get(1).split(",", -1)[header.indexOf("cpu_model")];
    assertThat(model).as(rows.get(1)).isNotBlank();
  }

  /** The counterpart: a job that leaves a core idle is served while it runs. */
  @Test
  void aJobThatLeavesACoreIdleIsServed(@TempDir Path dir) throws Exception {
    ForkedJvm.Result r = app(dir, null, "prometheus.port=0,log.level=debug", "EndApp", "1500");
    assertThat(r.stderr()).contains("/metrics served on");
  }

  /**
   * On Java 18 and later a reflective call runs through method handles that the JVM spins at the
   * first call (about 14 ms of start-up on Java 25): the agent's entry hands over to its isolated
   * class loader through an interface instead. No method-handle class may be spun on the main
   * thread between loading {@code AgentRuntime} and reading the configuration.
   */
  @Test
  void theAgentStartsWithoutSpinningMethodHandlesOnJava25(@TempDir Path dir) throws Exception {
    String java25 = Java25IT.java25();
    Path log = dir.resolve("classes.txt");
    ForkedJvm.Result r =
        new ForkedJvm(dir, java25)
            .arg("--enable-native-access=ALL-UNNAMED")
            .arg("-Xlog:class+load:file=" + log + ":tid")
            .agent("prometheus.port=off,report.json=" + dir.resolve("r.json"))
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.EndApp", "0")
            .run(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    List<String> lines = Files.readAllLines(log);
    int runtime = indexOf(lines, " io.jouletrace.agent.AgentRuntime ");
    int config = indexOf(lines, " io.jouletrace.agent.config.ConfigLoader ");
    assertThat(runtime).as("AgentRuntime loaded").isNotNegative();
    assertThat(config).as("configuration read after AgentRuntime loaded").isGreaterThan(runtime);
    String mainThread = lines.get(runtime).substring(0, lines.get(runtime).indexOf(']') + 1);
    List<String> spun =
        lines.subList(runtime, config).stream()
            .filter(l -> l.startsWith(mainThread) && l.contains("__JVM_LookupDefineClass__"))
            .toList();
    assertThat(spun).as("method-handle classes spun to start the agent").isEmpty();
  }

  private static int indexOf(List<String> lines, String part) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(part)) {
        return i;
      }
    }
    return -1;
  }
}

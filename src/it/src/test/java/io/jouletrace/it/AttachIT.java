package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar jouletrace-agent.jar attach <pid>} and {@code list}: the agent loaded into JVMs
 * that were started without it, as a user would do it, from a second process.
 */
class AttachIT {

  /** The java that runs this test (the project's baseline, Java 17, on this project's machines). */
  static final Path BUILD_JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

  @Test
  void attachToDjlMidTrainingRefuseASecondAttachAndList(@TempDir Path dir) throws Exception {
    Path pidFile = dir.resolve("djl.pid");
    Path report = dir.resolve("attached-report.json");
    String java = ForkedJvm.javaExecutable();
    ForkedJvm.Running job =
        target(dir, java)
            .env("DJL_OFFLINE", "true")
            .env("OPT_OUT_TRACKING", "true")
            // One intra-op thread: PyTorch's OpenMP workers spin while they wait for each other,
            // and on
            // a loaded 2-core machine that turns seconds of training into minutes.
            .env("OMP_NUM_THREADS", "1")
            .arg(
                "-jar",
                ForkedJvm.DJL_JAR.toString(),
                "--epochs",
                "30",
                "--pid-file",
                pidFile.toString())
            .start();
    long pid = awaitPid(pidFile, job);

    ForkedJvm.Result first =
        cli(dir, java, "attach", Long.toString(pid), "prometheus.port=off,report.json=" + report);
    ForkedJvm.Result second = cli(dir, java, "attach", Long.toString(pid));
    ForkedJvm.Result list = cli(dir, java, "list");
    ForkedJvm.Result r = job.await(120);

    assertThat(first.exitCode()).as(first.stdout() + first.stderr()).isZero();
    assertThat(first.stdout()).contains("jouletrace: agent started in JVM " + pid);
    assertThat(second.exitCode()).as(second.stdout() + second.stderr()).isEqualTo(2);
    assertThat(second.stderr().strip())
        .startsWith("jouletrace: JVM " + pid + " already runs the JouleTrace agent (")
        .endsWith("); not attached again")
        .doesNotContain("\n", "Exception");
    assertThat(list.exitCode()).as(list.stderr()).isZero();
    assertThat(list.stdout().lines())
        .as(list.stdout())
        .anyMatch(line -> line.matches(pid + " +[0-9]+ +yes \\S+ +.*djl-training\\.jar.*"));

    assertThat(r.exitCode()).as(r.stderr()).isZero();
    // The second attach was refused by the command, before anything was loaded into the job.
    assertThat(r.stderr()).doesNotContain("already running in this JVM", "agent not started");
    assertThat(r.stderr()).contains("train-step", "jouletrace: report " + report);
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    Map<String, JsonNode> phases = new HashMap<>();
    root.get("phases").forEach(p -> phases.put(p.get("name").asText(), p));
    assertThat(phases).containsKey("train-step");
    assertThat(phases.get("train-step").at("/joules/total").asDouble()).isPositive();
    assertThat(phases.get("train-step").at("/wallSeconds").asDouble()).isPositive();
  }

  @Test
  void commandOnJava25AttachesToJava17(@TempDir Path dir) throws Exception {
    attachAcrossVersions(dir, Java25IT.java25(), BUILD_JAVA.toString());
  }

  @Test
  void commandOnJava17AttachesToJava25(@TempDir Path dir) throws Exception {
    attachAcrossVersions(dir, BUILD_JAVA.toString(), Java25IT.java25());
  }

  @Test
  void pidThatIsNoJvmGivesOneLineAndNonZeroExit(@TempDir Path dir) throws Exception {
    ForkedJvm.Result gone = cli(dir, BUILD_JAVA.toString(), "attach", "2147483646");
    assertThat(gone.exitCode()).isEqualTo(1);
    assertThat(gone.stderr())
        .isEqualTo(
            "jouletrace: no process 2147483646; 'list' shows the JVMs" + System.lineSeparator());
    ForkedJvm.Result bad = cli(dir, BUILD_JAVA.toString(), "attach", "twelve");
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.stderr())
        .isEqualTo(
            "jouletrace: 'twelve' is not a process id; 'list' shows the JVMs"
                + System.lineSeparator());
    // arguments are checked here as well as in the target, whose stderr may be out of sight
    ForkedJvm.Result typo =
        cli(dir, BUILD_JAVA.toString(), "attach", "2147483646", "prometheus.prot=off");
    assertThat(typo.stderr())
        .startsWith("jouletrace: unknown configuration key 'prometheus.prot' (agent arguments)");
    ForkedJvm.Result version = cli(dir, BUILD_JAVA.toString(), "version");
    assertThat(version.stdout().trim()).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
  }

  private static void attachAcrossVersions(Path dir, String cliJava, String targetJava)
      throws Exception {
    Path pidFile = dir.resolve("app.pid");
    Path report = dir.resolve("r.json");
    ForkedJvm.Running app =
        target(dir, targetJava)
            .arg(
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.AttachTargetApp",
                pidFile.toString(),
                "attached-work")
            .start();
    long pid = awaitPid(pidFile, app);

    ForkedJvm.Result attach =
        cli(
            dir,
            cliJava,
            "attach",
            Long.toString(pid),
            "prometheus.port=off,report.json=" + report);
    ForkedJvm.Result r = app.await(60);

    assertThat(attach.exitCode()).as(attach.stdout() + attach.stderr()).isZero();
    assertThat(attach.stdout())
        .contains("jouletrace: agent started in JVM " + pid)
        .contains("Java " + featureVersion(targetJava));
    // The target was started with -XX:+EnableDynamicAgentLoading where it knows the flag.
    assertThat(attach.stdout()).doesNotContain("prints a warning");
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
    assertThat(r.stdout()).contains("recording after");
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    Map<String, JsonNode> phases = new HashMap<>();
    root.get("phases").forEach(p -> phases.put(p.get("name").asText(), p));
    assertThat(phases).as(root.toString()).containsKey("attached-work");
    // About a second of the phase is recorded, from the moment the agent came.
    assertThat(phases.get("attached-work").at("/wallSeconds").asDouble()).isBetween(0.9, 3.0);
    assertThat(phases.get("attached-work").at("/joules/total").asDouble()).isPositive();
  }

  /** A JVM without the agent, ready to receive one quietly on Java 21 and later. */
  private static ForkedJvm target(Path dir, String java) throws Exception {
    ForkedJvm jvm = new ForkedJvm(dir, java);
    int feature = featureVersion(java);
    if (feature >= 21) {
      jvm.arg("-XX:+EnableDynamicAgentLoading");
    }
    if (feature >= 24) {
      jvm.arg("--enable-native-access=ALL-UNNAMED");
    }
    return jvm;
  }

  private static ForkedJvm.Result cli(Path dir, String java, String... args) throws Exception {
    return new ForkedJvm(dir, java).arg("-jar", ForkedJvm.AGENT_JAR.toString()).arg(args).run(60);
  }

  /**
   * Waits for the pid the target writes once its main method runs, the moment it can be attached.
   */
  private static long awaitPid(Path pidFile, ForkedJvm.Running target) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (Files.exists(pidFile)) {
        String text = Files.readString(pidFile, StandardCharsets.US_ASCII);
        if (text.endsWith("\n")) {
          long pid = Long.parseLong(text.strip());
          assertThat(pid).isEqualTo(target.process().pid());
          return pid;
        }
      }
      if (!target.process().isAlive()) {
        ForkedJvm.Result r = target.await(1);
        throw new AssertionError("the target ended before writing its pid: " + r.stderr());
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no pid in " + pidFile + " within 60 s");
  }

  /** The feature version of a JDK, from the {@code release} file next to its {@code bin}. */
  static int featureVersion(String java) throws Exception {
    Path release = Path.of(java).toAbsolutePath().getParent().getParent().resolve("release");
    for (String line : Files.readAllLines(release)) {
      if (line.startsWith("JAVA_VERSION=")) {
        String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
        List<String> parts = List.of(v.split("[.+-]"));
        return Integer.parseInt(parts.get(0).equals("1") ? parts.get(1) : parts.get(0));
      }
    }
    throw new AssertionError("no JAVA_VERSION in " + release);
  }
}

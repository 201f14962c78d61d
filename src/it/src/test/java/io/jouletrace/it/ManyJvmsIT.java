package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several agent JVMs on one host: target files for Prometheus' file discovery, a JVM killed with
 * SIGKILL, a folder that cannot be written, a port range with no free port, and {@code
 * attribution=host} next to another agent.
 */
class ManyJvmsIT {

  private static final Pattern TARGET = Pattern.compile("\"targets\":\\[\"([^\"]+)\"\\]");

  private static ForkedJvm.Running waitingApp(Path dir, String agentArgs) throws IOException {
    return new ForkedJvm(dir)
        .agent(agentArgs)
        .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.ExitApp", "wait")
        .start();
  }

  private static ForkedJvm.Result shortApp(Path dir, String agentArgs) throws Exception {
    return new ForkedJvm(dir)
        .agent(agentArgs)
        .arg(
            "-cp",
            ForkedJvm.appClassPath(),
            "io.jouletrace.it.apps.PhasesApp",
            dir.resolve("t.txt").toString(),
            "alpha:300")
        .run(60);
  }

  /** Waits for a JVM's target file: written by the agent once its endpoint is up. */
  private static Path targetOf(Path sd, long pid, ForkedJvm.Running jvm) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline && jvm.process().isAlive()) {
      if (!Files.isDirectory(sd)) { // the agent creates it
        Thread.sleep(50);
        continue;
      }
      try (Stream<Path> files = Files.list(sd)) {
        List<Path> mine =
            files.filter(p -> p.getFileName().toString().endsWith("-" + pid + ".json")).toList();
        if (!mine.isEmpty()) {
          return mine.get(0);
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no target file for pid " + pid + ": " + Files.readString(jvm.err()));
  }

  /** Waits for a line on a running JVM's stderr (the agent's start-up runs on its own thread). */
  private static String lineOf(ForkedJvm.Running jvm, String needle) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline && jvm.process().isAlive()) {
      List<String> lines =
          Files.readString(jvm.err()).lines().filter(l -> l.contains(needle)).toList();
      if (!lines.isEmpty()) {
        return lines.get(0);
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no line with '" + needle + "': " + Files.readString(jvm.err()));
  }

  /** Ends a JVM with SIGTERM (its shutdown hook runs) and returns its stderr. */
  private static String terminate(ForkedJvm.Running jvm) throws Exception {
    jvm.process().destroy();
    jvm.process().waitFor();
    return Files.readString(jvm.err());
  }

  @Test
  void targetFileServesThenAKilledJvmsStaleFileIsRemovedByTheNextAgent(@TempDir Path dir)
      throws Exception {
    Path sd = dir.resolve("sd");
    String args =
        "prometheus.port=0,prometheus.host=127.0.0.1,prometheus.sd-file="
            + sd
            + ",labels=app=a1;executor=3,report.json="
            + dir.resolve("r.json");
    ForkedJvm.Running killed = waitingApp(dir, args);
    long pid = killed.process().pid();
    Path file = targetOf(sd, pid, killed);
    String json = Files.readString(file);
    assertThat(json).contains("\"app\":\"a1\"", "\"executor\":\"3\"", "\"stage\":\"training\"");
    Matcher m = TARGET.matcher(json);
    assertThat(m.find()).as(json).isTrue();
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://" + m.group(1) + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("executor=\"3\"");
    try (Stream<Path> files = Files.list(sd)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactly(file.getFileName().toString());
    }

    killed.process().destroyForcibly(); // SIGKILL: no shutdown hook runs
    killed.process().waitFor();
    assertThat(file).exists(); // stale now: Prometheus would see up == 0 for it

    ForkedJvm.Running next = waitingApp(dir, args.replace("executor=3", "executor=4"));
    Path nextFile = targetOf(sd, next.process().pid(), next);
    assertThat(lineOf(next, "removed stale Prometheus target"))
        .contains(file + " (its process is gone)");
    assertThat(file).doesNotExist();
    assertThat(nextFile).exists();
    terminate(next);
    try (Stream<Path> files = Files.list(sd)) {
      assertThat(files).isEmpty(); // the next JVM removed its own at exit
    }
  }

  @Test
  void anUnwritableFolderIsOneLineAndMetricsAndReportCarryOn(@TempDir Path dir) throws Exception {
    Path notAFolder = Files.writeString(dir.resolve("plain-file"), "x");
    ForkedJvm.Running jvm =
        waitingApp(
            dir,
            "prometheus.port=0,prometheus.host=127.0.0.1,prometheus.sd-file="
                + notAFolder.resolve("sd")
                + ",report.json="
                + dir.resolve("r.json"));
    assertThat(lineOf(jvm, "Prometheus target file not written"))
        .contains("prometheus.sd-file", "/metrics is still served");
    String err = terminate(jvm);
    assertThat(err.lines().filter(l -> l.contains("Prometheus target file not written")))
        .hasSize(1);
    assertThat(Files.readString(dir.resolve("r.json"))).contains("\"unfinished\"");
  }

  @Test
  void aRangeWithNoFreePortIsOneLineAndTheJobRunsOn(@TempDir Path dir) throws Exception {
    InetAddress lo = InetAddress.getByName("127.0.0.1");
    ServerSocket[] two = twoConsecutivePorts(lo);
    int p = two[0].getLocalPort();
    try {
      ForkedJvm.Running jvm =
          waitingApp(
              dir,
              "prometheus.port="
                  + p
                  + "-"
                  + (p + 1)
                  + ",prometheus.host=127.0.0.1,prometheus.sd-file="
                  + dir.resolve("sd")
                  + ",report.json="
                  + dir.resolve("r.json"));
      assertThat(lineOf(jvm, "Prometheus endpoint not started"))
          .contains("no free port in " + p + "-" + (p + 1), "Measurement continues");
      terminate(jvm);
      assertThat(dir.resolve("sd")).doesNotExist(); // no endpoint, no target
      assertThat(Files.readString(dir.resolve("r.json"))).contains("\"unfinished\"");
    } finally {
      two[0].close();
      two[1].close();
    }
  }

  private static ServerSocket[] twoConsecutivePorts(InetAddress lo) throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      ServerSocket a = new ServerSocket(0, 1, lo);
      try {
        return new ServerSocket[] {a, new ServerSocket(a.getLocalPort() + 1, 1, lo)};
      } catch (IOException taken) {
        a.close();
      }
    }
    throw new IllegalStateException("no two consecutive free ports");
  }

  @Test
  void hostAttributionNextToAnotherAgentWarnsOnce(@TempDir Path dir) throws Exception {
    Path sd = dir.resolve("sd");
    String common = "prometheus.port=0,prometheus.host=127.0.0.1,prometheus.sd-file=" + sd;
    ForkedJvm.Running other = waitingApp(dir, common + ",report.json=" + dir.resolve("o.json"));
    try {
      targetOf(sd, other.process().pid(), other);
      ForkedJvm.Result host =
          shortApp(dir, common + ",attribution=host,report.json=" + dir.resolve("h.json"));
      assertThat(host.exitCode()).as(host.stderr()).isZero();
      assertThat(host.stderr().lines().filter(l -> l.contains("attribution=host with")))
          .singleElement()
          .satisfies(
              l ->
                  assertThat(l)
                      .contains(Long.toString(other.process().pid()), "attribution=process"));
      assertThat(Files.readString(dir.resolve("h.json"))).contains("attribution=host with");
      ForkedJvm.Result process = shortApp(dir, common + ",report.json=" + dir.resolve("p.json"));
      assertThat(process.stderr()).doesNotContain("attribution=host with");
    } finally {
      other.process().destroyForcibly();
      other.process().waitFor();
    }
  }
}

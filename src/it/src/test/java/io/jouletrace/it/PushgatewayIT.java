package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent pushes to the real Debian Pushgateway; a gateway that is down or silent never holds
 * exit.
 */
class PushgatewayIT {

  /**
   * Exit delay beyond push.timeout allowed for the shutdown hook's own work on a loaded 2-core VM.
   */
  static final long HOOK_MARGIN_MS = 1_500;

  /** Extra exit delay a push may add beyond its deadline (thread start, scheduling noise). */
  static final long PUSH_SLACK_MS = 1_000;

  /**
   * How a run of {@link io.jouletrace.it.apps.EndApp} ended.
   *
   * @param result exit status and output
   * @param delayMs from the application's last line to the JVM's exit
   * @param afterReportMs from the agent's {@code jouletrace: report} line (printed just before the
   *     CSV, HTML and push outputs) to the JVM's exit: what those outputs cost at exit
   */
  record Exit(ForkedJvm.Result result, long delayMs, long afterReportMs) {}

  /**
   * Runs {@link io.jouletrace.it.apps.EndApp} and measures from its last line to the JVM's exit.
   */
  static Exit runEndApp(Path dir, String agentArgs, long workMs) throws Exception {
    return runEndApp(dir, agentArgs, workMs, null);
  }

  /**
   * Runs {@link io.jouletrace.it.apps.EndApp}, timing the arrival of each line it and the agent
   * print; with {@code awaitLine}, the application runs on until its standard error holds that text
   * (the agent's start-up reached that point), at most 120 s.
   */
  static Exit runEndApp(Path dir, String agentArgs, long workMs, String awaitLine)
      throws Exception {
    Path go = dir.resolve("go-" + System.nanoTime());
    Process p =
        new ProcessBuilder(
                ForkedJvm.javaExecutable(),
                "-javaagent:" + ForkedJvm.AGENT_JAR + "=" + agentArgs,
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.EndApp",
                "" + workMs,
                go.toString())
            .directory(dir.toFile())
            .start();
    StringBuffer out = new StringBuffer();
    StringBuffer err = new StringBuffer();
    long[] reportAt = {-1};
    long[] mainEndAt = {-1};
    Thread o = reader(p.getInputStream(), out, "main-end ", mainEndAt);
    Thread e = reader(p.getErrorStream(), err, "jouletrace: report ", reportAt);
    if (awaitLine == null) {
      Files.writeString(go, "go");
    } else {
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (System.nanoTime() < deadline && p.isAlive() && !err.toString().contains(awaitLine)) {
        Thread.sleep(50);
      }
      Files.writeString(go, "go");
    }
    boolean done = p.waitFor(180, java.util.concurrent.TimeUnit.SECONDS);
    long exited = System.nanoTime();
    assertThat(done).as(err.toString()).isTrue();
    o.join(10_000);
    e.join(10_000);
    ForkedJvm.Result r = new ForkedJvm.Result(p.exitValue(), out.toString(), err.toString());
    assertThat(mainEndAt[0]).as(r.stdout() + r.stderr()).isPositive();
    assertThat(reportAt[0]).as(r.stderr()).isPositive();
    return new Exit(r, (exited - mainEndAt[0]) / 1_000_000, (exited - reportAt[0]) / 1_000_000);
  }

  /** Copies a stream, noting when the first line starting with {@code mark} arrived. */
  private static Thread reader(
      java.io.InputStream in, StringBuffer into, String mark, long[] arrivedAt) {
    Thread t =
        new Thread(
            () -> {
              try (java.io.BufferedReader r =
                  new java.io.BufferedReader(
                      new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (arrivedAt[0] < 0 && line.startsWith(mark)) {
                    arrivedAt[0] = System.nanoTime();
                  }
                  into.append(line).append('\n');
                }
              } catch (java.io.IOException ended) {
                // the process is gone
              }
            });
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Test
  void pushesPeriodicallyAndAtExitGroupedByJobInstanceAndRunId(@TempDir Path dir) throws Exception {
    try (Servers.Server gw = Servers.pushgateway(dir)) {
      Path report = dir.resolve("r.json");
      Path go = dir.resolve("go");
      ForkedJvm.Running run =
          new ForkedJvm(dir)
              .agent(
                  "prometheus.port=off,report.json="
                      + report
                      + ",labels=job_name=push-it;rank=1,push.url="
                      + gw.url()
                      + ",push.interval=300ms,push.instance=node-a:1")
              .arg(
                  "-cp",
                  ForkedJvm.appClassPath(),
                  "io.jouletrace.it.apps.EndApp",
                  "500",
                  go.toString())
              .start();
      // Periodic pushes: the group, energy included, appears while the JVM still runs (it runs
      // on until the test has seen that).
      String during = "";
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (System.nanoTime() < deadline && run.process().isAlive()) {
        during = Servers.get(gw.url() + "/metrics");
        if (during.contains("jouletrace_energy_joules_total{")) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(run.process().isAlive()).as("group pushed before exit").isTrue();
      assertThat(during).contains("jouletrace_phase_seconds_total{");
      Files.writeString(go, "go");
      ForkedJvm.Result r = run.await(60);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stderr()).doesNotContain("push to");

      JsonNode root = new ObjectMapper().readTree(report.toFile());
      String runId = root.at("/run/runId").asText();
      assertThat(runId).matches("[0-9a-f-]{36}");
      String after = Servers.get(gw.url() + "/metrics");
      // The final push holds the report's figures, under job, instance and run_id.
      double pushed = 0;
      Matcher m =
          Pattern.compile("(?m)^jouletrace_energy_joules_total\\{([^}]*)} (\\S+)$").matcher(after);
      int series = 0;
      while (m.find()) {
        String labels = m.group(1);
        assertThat(labels)
            .contains(
                "job=\"push-it\"",
                "instance=\"node-a:1\"",
                "run_id=\"" + runId + "\"",
                "rank=\"1\"",
                "job_name=\"push-it\"");
        pushed += Double.parseDouble(m.group(2));
        series++;
      }
      assertThat(series).isPositive();
      double total = root.at("/totals/joules/total").asDouble();
      assertThat(pushed).isCloseTo(total, within(1e-9 * Math.max(1, total)));
    }
  }

  @Test
  void gatewayDownNeverHoldsExit(@TempDir Path dir) throws Exception {
    int closed = DjlExampleIT.freePort(); // nothing listens there
    Path report = dir.resolve("r.json");
    Exit e =
        runEndApp(
            dir,
            "prometheus.port=off,report.json="
                + report
                + ",push.url=http://127.0.0.1:"
                + closed
                + ",csv="
                + dir.resolve("runs.csv"),
            500);
    System.out.println(
        "exit with the Pushgateway down: "
            + e.delayMs()
            + " ms after main, "
            + e.afterReportMs()
            + " ms after the report line");
    assertThat(e.result().exitCode()).isZero();
    // CSV and push after the report line: well within push.timeout (2 s by default).
    assertThat(e.afterReportMs()).isLessThan(2_000);
    assertThat(lines(e.result().stderr(), "push to"))
        .singleElement()
        .asString()
        .contains("http://127.0.0.1:" + closed + "/metrics/job/jouletrace/instance/")
        .contains("failed (push.url)", "Connection refused");
    assertThat(report).exists();
    List<String> csv = Files.readAllLines(dir.resolve("runs.csv"));
    assertThat(csv).hasSize(2);
    // The last two columns: what measuring cost, in CPU-s and kWh.
    assertThat(csv.get(0)).endsWith(",agent_cpu_seconds,agent_energy");
    String[] row = csv.get(1).split(",");
    assertThat(Double.parseDouble(row[row.length - 2])).isPositive();
    assertThat(Double.parseDouble(row[row.length - 1])).isPositive();
  }

  @Test
  void silentGatewayIsAbandonedAtPushTimeout(@TempDir Path dir) throws Exception {
    // Accepts connections and never answers.
    try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      List<Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (!silent.isClosed()) {
                    held.add(silent.accept());
                  }
                } catch (java.io.IOException closedNow) {
                  // test over
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      long timeout = 1_500;
      Path report = dir.resolve("r.json");
      Exit e =
          runEndApp(
              dir,
              "prometheus.port=off,report.json="
                  + report
                  + ",push.timeout="
                  + timeout
                  + "ms,push.url=http://127.0.0.1:"
                  + silent.getLocalPort(),
              500);
      System.out.println(
          "exit with a silent Pushgateway: "
              + e.delayMs()
              + " ms after main, "
              + e.afterReportMs()
              + " ms after the report line");
      assertThat(e.result().exitCode()).isZero();
      // It did wait for the gateway (so the deadline is what ended the wait) ...
      assertThat(e.afterReportMs()).isGreaterThanOrEqualTo(timeout - 100);
      // ... and no longer than the deadline.
      assertThat(e.afterReportMs()).isLessThan(timeout + PUSH_SLACK_MS);
      assertThat(lines(e.result().stderr(), "push to"))
          .singleElement()
          .asString()
          .contains("did not finish within 1500 ms (push.timeout)");
      assertThat(report).exists();
      assertThat(held).isNotEmpty();
      for (Socket s : List.copyOf(held)) {
        s.close();
      }
    }
  }

  static List<String> lines(String text, String needle) {
    return text.lines().filter(l -> l.contains(needle)).toList();
  }
}

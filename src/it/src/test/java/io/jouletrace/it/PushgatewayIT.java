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

  record Exit(ForkedJvm.Result result, long delayMs) {}

  /**
   * Runs {@link io.jouletrace.it.apps.EndApp} and measures from its last line to the JVM's exit.
   */
  static Exit runEndApp(Path dir, String agentArgs, long workMs) throws Exception {
    ForkedJvm.Running run =
        new ForkedJvm(dir)
            .agent(agentArgs)
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.EndApp", "" + workMs)
            .start();
    run.process().waitFor();
    long exited = System.currentTimeMillis();
    ForkedJvm.Result r = run.await(1);
    Matcher m = Pattern.compile("main-end (\\d+)").matcher(r.stdout());
    assertThat(m.find()).as(r.stdout() + r.stderr()).isTrue();
    return new Exit(r, exited - Long.parseLong(m.group(1)));
  }

  @Test
  void pushesPeriodicallyAndAtExitGroupedByJobInstanceAndRunId(@TempDir Path dir) throws Exception {
    try (Servers.Server gw = Servers.pushgateway(dir)) {
      Path report = dir.resolve("r.json");
      ForkedJvm.Running run =
          new ForkedJvm(dir)
              .agent(
                  "prometheus.port=off,report.json="
                      + report
                      + ",labels=job_name=push-it;rank=1,push.url="
                      + gw.url()
                      + ",push.interval=300ms,push.instance=node-a:1")
              .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.EndApp", "4000")
              .start();
      // Periodic pushes: the group appears while the JVM still runs.
      String during = "";
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (System.nanoTime() < deadline && run.process().isAlive()) {
        during = Servers.get(gw.url() + "/metrics");
        if (during.contains("jouletrace_phase_seconds_total{")) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(run.process().isAlive()).as("group pushed before exit").isTrue();
      assertThat(during).contains("jouletrace_phase_seconds_total{");
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
    Exit baseline = runEndApp(dir, "prometheus.port=off,report.json=" + dir.resolve("b.json"), 500);
    System.out.println("exit delay without push: " + baseline.delayMs() + " ms");
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
    System.out.println("exit delay with the Pushgateway down: " + e.delayMs() + " ms");
    assertThat(e.result().exitCode()).isZero();
    // Within push.timeout (2 s by default) of a run without push; in practice a refused
    // connection adds only the cost of building the client and the one line at exit.
    assertThat(e.delayMs() - baseline.delayMs()).isLessThan(2_000);
    assertThat(e.delayMs()).isLessThan(2_000 + HOOK_MARGIN_MS);
    assertThat(lines(e.result().stderr(), "push to"))
        .singleElement()
        .asString()
        .contains("http://127.0.0.1:" + closed + "/metrics/job/jouletrace/instance/")
        .contains("failed (push.url)", "Connection refused");
    assertThat(report).exists();
    assertThat(Files.readAllLines(dir.resolve("runs.csv"))).hasSize(2);
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
      Exit baseline =
          runEndApp(dir, "prometheus.port=off,report.json=" + dir.resolve("b.json"), 500);
      System.out.println("exit delay without push: " + baseline.delayMs() + " ms");
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
      System.out.println("exit delay with a silent Pushgateway: " + e.delayMs() + " ms");
      assertThat(e.result().exitCode()).isZero();
      // It did wait for the gateway (so the deadline is what ended the wait) ...
      assertThat(e.delayMs()).isGreaterThanOrEqualTo(timeout - 100);
      // ... and no longer than the deadline, beyond what exit costs without a push.
      assertThat(e.delayMs() - baseline.delayMs()).isLessThan(timeout + PUSH_SLACK_MS);
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

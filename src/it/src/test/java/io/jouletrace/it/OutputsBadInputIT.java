package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad output settings: each gives one line naming its culprit, the other outputs are still written,
 * and exit is not held up.
 */
class OutputsBadInputIT {

  @Test
  void missingTlsFilesMissingFoldersAndAnUnreachableGateway(@TempDir Path dir) throws Exception {
    int closed = DjlExampleIT.freePort();
    Path report = dir.resolve("r.json");
    Path html = dir.resolve("ok.html");
    PushgatewayIT.Exit e =
        PushgatewayIT.runEndApp(
            dir,
            "prometheus.host=127.0.0.1,prometheus.port="
                + DjlExampleIT.freePort()
                + ",prometheus.tls.cert="
                + dir.resolve("missing-cert.pem")
                + ",prometheus.tls.key="
                + dir.resolve("missing-key.pem")
                + ",csv="
                + dir.resolve("no-such-folder/runs.csv")
                + ",report.html="
                + html
                + ",report.json="
                + report
                + ",push.url=http://127.0.0.1:"
                + closed,
            500,
            "Prometheus endpoint not started");
    String err = e.result().stderr();
    assertThat(e.result().exitCode()).as(err).isZero();
    assertThat(one(err, "Prometheus endpoint not started"))
        .contains("missing-cert.pem", "prometheus.tls.cert");
    assertThat(one(err, "CSV run log not written"))
        .contains("no-such-folder", "(key csv)", "does not exist");
    assertThat(one(err, "push to")).contains("127.0.0.1:" + closed, "push.url");
    // The outputs that could be written were.
    assertThat(report).exists();
    assertThat(Files.readString(html)).contains("JouleTrace run report", "work");
    // CSV, HTML and the refused push after the report line: within push.timeout (2 s).
    assertThat(e.afterReportMs()).isLessThan(2_000);
  }

  @Test
  void passwordWithoutUserReadOnlyCsvUnwritableHtmlAndAWrongUrl(@TempDir Path dir)
      throws Exception {
    Path report = dir.resolve("r.json");
    PushgatewayIT.Exit e =
        PushgatewayIT.runEndApp(
            dir,
            "prometheus.host=127.0.0.1,prometheus.port="
                + DjlExampleIT.freePort()
                + ",prometheus.user=prom"
                // read-only for every user, root included
                + ",csv=/proc/version"
                + ",report.html=/proc/jouletrace-report.html"
                + ",report.json="
                + report
                + ",push.url=gateway:9091",
            500,
            "Prometheus endpoint not started");
    String err = e.result().stderr();
    assertThat(e.result().exitCode()).as(err).isZero();
    assertThat(one(err, "Prometheus endpoint not started"))
        .contains("prometheus.user is set but no password", "JOULETRACE_PROMETHEUS_PASSWORD");
    assertThat(one(err, "CSV run log not written")).contains("/proc/version", "(key csv)");
    assertThat(one(err, "HTML report not written"))
        .contains("/proc/jouletrace-report.html", "(key report.html)");
    assertThat(one(err, "'push.url'")).contains("gateway:9091", "http(s)://host:port");
    assertThat(err).doesNotContain("push to");
    assertThat(report).exists();
  }

  @Test
  void thePasswordIsNeverPrinted(@TempDir Path dir) throws Exception {
    String secret = "never-print-me-42";
    Path go = dir.resolve("go");
    ForkedJvm.Running run =
        new ForkedJvm(dir)
            .env("JOULETRACE_PROMETHEUS_PASSWORD", secret)
            .env("JOULETRACE_PROMETHEUS_TLS_KEYSTORE_PASSWORD", secret)
            .agent(
                "prometheus.host=127.0.0.1,prometheus.port="
                    + DjlExampleIT.freePort()
                    + ",prometheus.tls.keystore="
                    + dir.resolve("missing.p12")
                    + ",report.json="
                    + dir.resolve("r.json"))
            .arg(
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.EndApp",
                "500",
                go.toString())
            .start();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline
        && run.process().isAlive()
        && !Files.readString(run.err()).contains("Prometheus endpoint not started")) {
      Thread.sleep(50);
    }
    Files.writeString(go, "go");
    ForkedJvm.Result r = run.await(60);
    assertThat(r.exitCode()).isZero();
    assertThat(one(r.stderr(), "Prometheus endpoint not started"))
        .contains("missing.p12", "prometheus.tls.keystore");
    assertThat(r.stderr() + r.stdout()).doesNotContain(secret);
    assertThat(Files.readString(dir.resolve("r.json"))).doesNotContain(secret);
  }

  @Test
  void theClosingLineNamesOnlyTheFilesThatWereWritten(@TempDir Path dir) throws Exception {
    // A report in a folder that cannot be made (under /proc, for every user, root included).
    ForkedJvm.Result none =
        new ForkedJvm(dir)
            .agent("prometheus.port=off,report.json=/proc/1/jouletrace-report.json")
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.ExitApp", "exit")
            .run(60);
    assertThat(none.exitCode()).as(none.stderr()).isEqualTo(3);
    assertThat(one(none.stderr(), "report not written to")).contains("/proc/1/");
    assertThat(one(none.stderr(), "statement not written to")).contains("/proc/1/");
    assertThat(none.stderr()).contains("unfinished").doesNotContain("jouletrace: report /");
    // The report written, the statement not: a folder stands where its file should be.
    Path report = dir.resolve("r.json");
    Path folder = Files.createDirectory(dir.resolve("statement.md"));
    ForkedJvm.Result one =
        new ForkedJvm(dir)
            .agent("prometheus.port=off,report.json=" + report + ",statement.md=" + folder)
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.ExitApp", "exit")
            .run(60);
    assertThat(one.exitCode()).as(one.stderr()).isEqualTo(3);
    assertThat(report).exists();
    assertThat(one(one.stderr(), "statement not written to")).contains(folder.toString());
    assertThat(one(one.stderr(), "jouletrace: report /"))
        .endsWith("jouletrace: report " + report)
        .doesNotContain("statement");
  }

  static String one(String text, String needle) {
    List<String> l = text.lines().filter(s -> s.contains(needle)).toList();
    assertThat(l).as(text).hasSize(1);
    return l.get(0);
  }
}

package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shipped Prometheus files pass promtool, and the rules' unit tests (series in, alerts and
 * recorded values out) pass {@code promtool test rules}.
 */
class PrometheusFilesIT {

  static String promtool(String... args) throws Exception {
    Path bin = Servers.binary("promtool");
    assertThat(bin).as("promtool is not installed (apt-get install prometheus)").isNotNull();
    List<String> cmd = new ArrayList<>();
    cmd.add(bin.toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
    return out;
  }

  @Test
  void checkRulesAndConfig() throws Exception {
    Path dir = DashboardE2EIT.SRC.resolve("prometheus");
    assertThat(
            promtool(
                "check",
                "rules",
                dir.resolve("jouletrace.rules.yml").toString(),
                dir.resolve("jouletrace.alerts.yml").toString()))
        .contains("SUCCESS");
    assertThat(promtool("check", "config", dir.resolve("prometheus.yml").toString()))
        .contains("SUCCESS");
  }

  @Test
  void rulesUnitTests() throws Exception {
    Path tests = DashboardE2EIT.SRC.resolve("prometheus/tests/jouletrace.test.yml");
    assertThat(promtool("test", "rules", tests.toString())).contains("SUCCESS");
  }
}

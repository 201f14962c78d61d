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

  /**
   * The dashboard's model: a Prometheus data source variable used by every panel, the job,
   * instance, stage and phase variables, and no query that adds attributed and raw device energy.
   */
  @Test
  void dashboardModel() throws Exception {
    com.fasterxml.jackson.databind.JsonNode dash =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(DashboardE2EIT.SRC.resolve("grafana/jouletrace.json").toFile());
    assertThat(dash.get("schemaVersion").asInt()).isGreaterThanOrEqualTo(36); // Grafana 9.4+
    List<String> names = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode v : dash.at("/templating/list")) {
      names.add(v.get("name").asText());
    }
    assertThat(names).containsExactly("datasource", "job", "instance", "stage", "phase");
    assertThat(dash.at("/templating/list/0/query").asText()).isEqualTo("prometheus");
    int queries = 0;
    for (com.fasterxml.jackson.databind.JsonNode panel : dash.get("panels")) {
      assertThat(panel.at("/datasource/uid").asText()).isEqualTo("${datasource}");
      assertThat(panel.get("gridPos")).isNotNull();
      for (com.fasterxml.jackson.databind.JsonNode t : panel.get("targets")) {
        String expr = t.get("expr").asText();
        assertThat(t.at("/datasource/uid").asText()).isEqualTo("${datasource}");
        assertThat(
                expr.contains("jouletrace_energy_joules_total")
                    && expr.contains("jouletrace_device_energy_joules_total"))
            .as(expr)
            .isFalse();
        queries++;
      }
    }
    assertThat(queries).isGreaterThanOrEqualTo(12);
  }

  @Test
  void rulesUnitTests() throws Exception {
    Path tests = DashboardE2EIT.SRC.resolve("prometheus/tests/jouletrace.test.yml");
    assertThat(promtool("test", "rules", tests.toString())).contains("SUCCESS");
  }
}

package io.jouletrace.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** {@code prometheus.port} ranges and {@code prometheus.sd-file}. */
class PrometheusKeysTest {

  private static AgentConfig load(String args) {
    return ConfigLoader.load(args, new Properties(), Map.of());
  }

  @Test
  void portTakesOnePortZeroARangeOrOff() {
    AgentConfig one = load("prometheus.port=9470");
    assertThat(one.prometheusPort()).isEqualTo(9470);
    assertThat(one.prometheusPortLast()).isEqualTo(9470);
    AgentConfig any = load("prometheus.port=0");
    assertThat(any.prometheusPort()).isZero();
    assertThat(any.prometheusPortLast()).isZero();
    AgentConfig range = load("prometheus.port=9464-9480");
    assertThat(range.errors()).isEmpty();
    assertThat(range.prometheusPort()).isEqualTo(9464);
    assertThat(range.prometheusPortLast()).isEqualTo(9480);
    assertThat(load("prometheus.port=off").prometheusPort()).isEqualTo(-1);
    assertThat(load("").prometheusPort()).isEqualTo(9464);
  }

  @Test
  void malformedRangesAreNamedAndTheDefaultIsUsed() {
    for (String bad : new String[] {"9480-9464", "0-10", "9464-70000", "9464-", "-9464", "a-b"}) {
      AgentConfig c = load("prometheus.port=" + bad);
      assertThat(c.errors())
          .as(bad)
          .singleElement()
          .satisfies(
              e -> assertThat(e).contains("'" + bad + "'", "'prometheus.port'", "first-last"));
      assertThat(c.prometheusPort()).isEqualTo(9464);
      assertThat(c.prometheusPortLast()).isEqualTo(9464);
    }
  }

  @Test
  void sdFileIsAFolderPathOrNothing() {
    assertThat(load("").prometheusSdFile()).isNull();
    assertThat(load("prometheus.sd-file=/tmp/sd").prometheusSdFile()).isEqualTo(Path.of("/tmp/sd"));
    AgentConfig env =
        ConfigLoader.load(null, new Properties(), Map.of("JOULETRACE_PROMETHEUS_SD_FILE", "/x"));
    assertThat(env.errors()).isEmpty();
    assertThat(env.prometheusSdFile()).isEqualTo(Path.of("/x"));
  }
}

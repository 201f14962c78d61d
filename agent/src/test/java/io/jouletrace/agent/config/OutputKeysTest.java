package io.jouletrace.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The keys of the optional outputs: push, /metrics security, CSV, HTML. */
class OutputKeysTest {

  @Test
  void defaultsLeaveEveryOptionalOutputOff() {
    AgentConfig c = ConfigLoader.load(null, new Properties(), Map.of());
    assertThat(c.errors()).isEmpty();
    assertThat(c.pushUrl()).isNull();
    assertThat(c.pushInterval()).isEqualTo(Duration.ZERO);
    assertThat(c.pushTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.pushJob()).isEmpty();
    assertThat(c.tlsCert()).isNull();
    assertThat(c.tlsKeystore()).isNull();
    assertThat(c.prometheusUser()).isEmpty();
    assertThat(c.prometheusPassword()).isNull();
    assertThat(c.csv()).isNull();
    assertThat(c.reportHtml()).isNull();
  }

  @Test
  void valuesFromArgumentsAndThePasswordFromTheEnvironment() {
    AgentConfig c =
        ConfigLoader.load(
            "push.url=http://127.0.0.1:9091/gw,push.interval=15s,push.timeout=500ms,"
                + "push.job=bert,csv=/tmp/runs.csv,report.html=out/r.html,"
                + "prometheus.tls.cert=/etc/c.pem,prometheus.tls.key=/etc/k.pem,prometheus.user=prom",
            new Properties(),
            Map.of("JOULETRACE_PROMETHEUS_PASSWORD", "pa55-word"));
    assertThat(c.errors()).isEmpty();
    assertThat(c.pushUrl()).isEqualTo(URI.create("http://127.0.0.1:9091/gw"));
    assertThat(c.pushInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.pushTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.pushJob()).isEqualTo("bert");
    assertThat(c.csv()).isEqualTo(Path.of("/tmp/runs.csv"));
    assertThat(c.reportHtml()).isEqualTo(Path.of("out/r.html"));
    assertThat(c.tlsCert()).isEqualTo(Path.of("/etc/c.pem"));
    assertThat(c.tlsKey()).isEqualTo(Path.of("/etc/k.pem"));
    assertThat(c.prometheusUser()).isEqualTo("prom");
    assertThat(new String(c.prometheusPassword())).isEqualTo("pa55-word");
    assertThat(c.toString()).doesNotContain("pa55-word");
  }

  @Test
  void aWrongPushUrlOrTimeoutIsOneLineNamingTheKey() {
    AgentConfig c =
        ConfigLoader.load(
            "push.url=ftp://gw:21,push.timeout=1ms,push.interval=fast", new Properties(), Map.of());
    assertThat(c.pushUrl()).isNull();
    assertThat(c.pushTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.errors()).hasSize(3);
    assertThat(c.errors().get(0))
        .contains("'push.url'", "ftp://gw:21", "agent arguments", "http(s)://host:port");
    assertThat(c.errors()).anyMatch(e -> e.contains("'push.timeout'"));
    assertThat(c.errors()).anyMatch(e -> e.contains("'push.interval'"));
    AgentConfig noPort = ConfigLoader.load("push.url=http://gw", new Properties(), Map.of());
    assertThat(noPort.errors()).singleElement().asString().contains("'push.url'");
  }

  @Test
  void runIdIsNotAJobLabelName() {
    AgentConfig c = ConfigLoader.load("labels=run_id=7;rank=0", new Properties(), Map.of());
    assertThat(c.errors()).singleElement().asString().contains("'labels'");
    assertThat(c.labels()).isEmpty();
  }
}

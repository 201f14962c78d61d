package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The run id: a label on every series, a field of the JSON report, a push grouping key. */
class RunIdTest {

  @Test
  void everySeriesCarriesTheRunIdAndTheReportHasIt() throws Exception {
    EnergySnapshot s = Snapshots.known().withRunId("4f1c");
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(() -> s));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains(
            "jouletrace_energy_joules_total{domain=\"cpu\",job=\"mlp\",method=\"measured\","
                + "phase=\"train-step\",run_id=\"4f1c\",stage=\"training\"} 240.0\n");
    assertThat(text.lines().filter(l -> !l.startsWith("#")))
        .isNotEmpty()
        .allMatch(l -> l.contains("run_id=\"4f1c\""));
    assertThat(new ObjectMapper().readTree(JsonReport.render(s)).at("/run/runId").asText())
        .isEqualTo("4f1c");
    assertThat(MetricFamily.reservedLabelNames()).contains("run_id");
  }

  @Test
  void pushSettingsAddressAndGroup() {
    PushSettings p =
        new PushSettings(
            PushSettings.parseUrl("https://gw.example:9443/prefix/"),
            "bert",
            "node1:42",
            "4f1c",
            Duration.ZERO,
            Duration.ofSeconds(2));
    assertThat(p.address()).isEqualTo("gw.example:9443/prefix");
    assertThat(p.groupUrl())
        .isEqualTo("https://gw.example:9443/prefix/metrics/job/bert/instance/node1:42/run_id/4f1c");
    assertThat(PushSettings.parseUrl("http://127.0.0.1:9091"))
        .isEqualTo(URI.create("http://127.0.0.1:9091"));
  }
}

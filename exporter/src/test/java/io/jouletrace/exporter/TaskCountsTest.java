package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Spark task counts per phase, in /metrics and in the report. */
class TaskCountsTest {

  private static final EnergySnapshot WITH_TASKS =
      Snapshots.known().withTasks(Map.of("score", 12L, "featurize", 3L));

  @Test
  void exposedAsOneCounterPerPhase() throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(() -> WITH_TASKS));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains(
            "# HELP jouletrace_tasks_total Spark tasks run in this JVM, by the phase set on the"
                + " driver (local property jouletrace.phase)\n"
                + "# TYPE jouletrace_tasks_total counter\n"
                + "jouletrace_tasks_total{job=\"mlp\",phase=\"featurize\",stage=\"training\"} 3.0\n"
                + "jouletrace_tasks_total{job=\"mlp\",phase=\"score\",stage=\"training\"} 12.0\n");
  }

  @Test
  void withoutTasksTheFamilyIsAbsent() throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(Snapshots::known));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("jouletrace_tasks");
    assertThat(JsonReport.render(Snapshots.known())).doesNotContain("\"tasks\"");
  }

  @Test
  void reportHoldsTheCountsAndCarbonKeepsThem() throws IOException {
    EnergySnapshot s = WITH_TASKS.withCarbon(WITH_TASKS.carbon(), WITH_TASKS.phases());
    Map<String, Long> read = new LinkedHashMap<>();
    try (JsonParser p = new JsonFactory().createParser(JsonReport.render(s))) {
      while (p.nextToken() != null) {
        if (p.currentToken() == JsonToken.FIELD_NAME
            && p.currentName().equals("tasks")
            && p.getParsingContext().getParent().inRoot()) {
          p.nextToken();
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            read.put(name, p.getLongValue());
          }
        }
      }
    }
    assertThat(read).containsExactly(Map.entry("featurize", 3L), Map.entry("score", 12L));
  }
}

package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jouletrace.sources.Domain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonReportTest {

  @Test
  void writesSchemaAndTotalsAsSumOfPhases(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("nested/report.json");
    JsonReport.write(Snapshots.known(), file);
    JsonNode root = new ObjectMapper().readTree(file.toFile());

    assertThat(root.get("schema").asText()).isEqualTo("jouletrace-report/1");
    assertThat(root.at("/run/stage").asText()).isEqualTo("training");
    assertThat(root.at("/run/labels/job").asText()).isEqualTo("mlp");
    assertThat(root.at("/run/endedAt").asText()).isEqualTo("2026-11-26T10:00:10Z");
    assertThat(root.get("attribution").asText()).isEqualTo("process");
    assertThat(root.at("/devices/0/id").asText()).isEqualTo("package-0");
    assertThat(root.at("/devices/0/measured").asBoolean()).isTrue();
    assertThat(root.at("/phases/0/joules/total").asDouble()).isEqualTo(280.0);
    // 240 + 60 cpu, 40 + 10 dram; grams 0.5 + 0.25 + 0.125 + 0.0625
    assertThat(root.at("/totals/joules/cpu").asDouble()).isEqualTo(300.0);
    assertThat(root.at("/totals/joules/dram").asDouble()).isEqualTo(50.0);
    assertThat(root.at("/totals/joules/total").asDouble()).isEqualTo(350.0);
    assertThat(root.at("/totals/co2eGrams/total").asDouble()).isEqualTo(0.9375);
    assertThat(root.at("/methods/cpu").asText()).isEqualTo("measured");
    assertThat(root.at("/methods/gpu").isMissingNode()).isTrue();
    try (var files = Files.list(file.getParent())) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void tableListsPhasesByEnergyWithShares() {
    String table = PhaseTable.render(Snapshots.known());
    String[] lines = table.split("\n");
    assertThat(lines).hasSize(5);
    assertThat(lines[2]).startsWith("train-step").contains("8.00", "280.00", "80.0%", "0.7500");
    assertThat(lines[3]).startsWith("other").contains("70.00", "20.0%", "0.1875");
    assertThat(lines[4]).startsWith("total").contains("350.00", "100.0%", "0.9375");
    assertThat(lines[2]).endsWith("cpu:measured dram:measured");
  }

  @Test
  void tableKeepsOneLinePerPhaseWhateverItsNameWhileTheReportKeepsTheNameWhole()
      throws IOException {
    EnergySnapshot known = Snapshots.known();
    String odd = "quo\"te\nnew line\\back\tand\u001b[31mred";
    String longName = "x".repeat(5000);
    EnergySnapshot s =
        known.withCarbon(
            known.carbon(),
            List.of(
                new EnergySnapshot.PhaseEnergy(odd, 1, Map.of(Domain.CPU, 3.0), 0, 0),
                new EnergySnapshot.PhaseEnergy(longName, 1, Map.of(Domain.CPU, 2.0), 0, 0),
                new EnergySnapshot.PhaseEnergy("other", 1, Map.of(Domain.CPU, 1.0), 0, 0)));
    String[] lines = PhaseTable.render(s).split(System.lineSeparator());
    assertThat(lines).hasSize(6); // header line, column names, three phases, total
    assertThat(lines[2])
        .startsWith("quo\"te\\nnew line\\\\back\\tand\\u001b[31mred ")
        .contains("3.00", "50.0%");
    assertThat(lines[3]).startsWith("x".repeat(PhaseTable.MAX_NAME - 3) + "... ").contains("2.00");
    assertThat(lines[3].indexOf("...")).isEqualTo(PhaseTable.MAX_NAME - 3);
    assertThat(lines[4]).startsWith("other");
    // A name of exactly the limit is shown whole.
    assertThat(PhaseTable.shown("y".repeat(PhaseTable.MAX_NAME)))
        .isEqualTo("y".repeat(PhaseTable.MAX_NAME));
    assertThat(PhaseTable.shown("y".repeat(PhaseTable.MAX_NAME + 1)))
        .hasSize(PhaseTable.MAX_NAME)
        .endsWith("...");
    JsonNode root = new ObjectMapper().readTree(JsonReport.render(s));
    assertThat(root.at("/phases/0/name").asText()).isEqualTo(odd);
    assertThat(root.at("/phases/1/name").asText()).isEqualTo(longName);
  }

  @Test
  void agentCostInReportTableAndMetrics() throws IOException {
    EnergySnapshot s =
        Snapshots.known()
            .withAgent(
                new EnergySnapshot.AgentCost(
                    0.25, java.util.Map.of("sampler", 0.2, "init", 0.05), 10.0, 8.75, 0.01));
    JsonNode root = new ObjectMapper().readTree(JsonReport.render(s));
    assertThat(root.at("/agent/cpuSeconds").asDouble()).isEqualTo(0.25);
    assertThat(root.at("/agent/cpuShare").asDouble()).isEqualTo(0.025);
    assertThat(root.at("/agent/threads/sampler").asDouble()).isEqualTo(0.2);
    assertThat(root.at("/agent/joules").asDouble()).isEqualTo(8.75);
    assertThat(PhaseTable.render(s))
        .contains("measuring cost: 0.25 CPU-s of the agent's own work (2.5 % of the process)");
    var registry = new io.prometheus.metrics.model.registry.PrometheusRegistry();
    registry.register(new EnergyMetrics(() -> s));
    var out = new java.io.ByteArrayOutputStream();
    io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create()
        .write(out, registry.scrape(), io.prometheus.metrics.config.EscapingScheme.ALLOW_UTF8);
    assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8))
        .contains(
            "jouletrace_agent_cpu_seconds_total{job=\"mlp\",stage=\"training\",thread=\"sampler\"} 0.2\n",
            "jouletrace_agent_energy_joules_total{job=\"mlp\",stage=\"training\"} 8.75\n");
  }

  @Test
  void profileIsWrittenWhenPresentAndAbsentOtherwise() throws IOException {
    EnergyProfile.MethodEnergy fwd =
        new EnergyProfile.MethodEnergy("Net.forward", 200.0, 250.0, 40);
    EnergyProfile.MethodEnergy fit = new EnergyProfile.MethodEnergy("Trainer.fit", 0.0, 280.0, 56);
    EnergyProfile.PhaseMethods train =
        new EnergyProfile.PhaseMethods("train-step", 280.0, List.of(fwd, fit), List.of(fit, fwd));
    EnergyProfile profile =
        new EnergyProfile(350.0, 70, 3, 42, 1, "/tmp/x.collapsed", train, List.of(train));
    JsonNode with =
        new ObjectMapper().readTree(JsonReport.render(Snapshots.known().withProfile(profile)));
    assertThat(with.at("/profile/joules").asDouble()).isEqualTo(350.0);
    assertThat(with.at("/profile/samples").asLong()).isEqualTo(70);
    assertThat(with.at("/profile/droppedSamples").asLong()).isEqualTo(3);
    assertThat(with.at("/profile/truncatedSamples").asLong()).isEqualTo(1);
    assertThat(with.at("/profile/collapsedFile").asText()).isEqualTo("/tmp/x.collapsed");
    assertThat(with.at("/profile/overall/topSelf/0/method").asText()).isEqualTo("Net.forward");
    assertThat(with.at("/profile/overall/topTotal/0/totalJoules").asDouble()).isEqualTo(280.0);
    assertThat(with.at("/profile/phases/0/phase").asText()).isEqualTo("train-step");
    assertThat(with.at("/profile/phases/0/topSelf/1/samples").asLong()).isEqualTo(56);
    JsonNode without = new ObjectMapper().readTree(JsonReport.render(Snapshots.known()));
    assertThat(without.has("profile")).isFalse();
  }
}

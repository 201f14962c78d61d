package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jouletrace.exporter.CarbonDetail.IntensitySegment;
import io.jouletrace.exporter.CarbonDetail.PhaseExtra;
import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.sources.Domain;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CarbonStatementTest {

  /** The known snapshot, with two GPUs, a market basis, units and two segments. */
  static EnergySnapshot withDetail() {
    EnergySnapshot k = Snapshots.known();
    List<DeviceEnergy> devices = new ArrayList<>(k.devices());
    devices.add(
        new DeviceEnergy(
            "gpu-0",
            Domain.GPU,
            "nvml-energy",
            true,
            0,
            0,
            10,
            Map.of("modelName", "NVIDIA H200")));
    devices.add(
        new DeviceEnergy(
            "gpu-1",
            Domain.GPU,
            "nvml-energy",
            true,
            0,
            0,
            10,
            Map.of("modelName", "NVIDIA H200")));
    CarbonDetail d =
        new CarbonDetail(
            List.of(
                new IntensitySegment(
                    Instant.parse("2026-11-26T10:00:00Z"),
                    Instant.parse("2026-11-26T10:00:04Z"),
                    500,
                    "series grid.csv",
                    "lifecycle",
                    false,
                    140),
                new IntensitySegment(
                    Instant.parse("2026-11-26T10:00:04Z"),
                    Instant.parse("2026-11-26T10:00:10Z"),
                    450,
                    "series grid.csv",
                    "lifecycle",
                    true,
                    210)),
            "DE",
            "lifecycle",
            (4 * 500 + 6 * 450) / 10.0,
            new CarbonDetail.Market(Double.NaN, 0.5, "kWh x PUE x location x (1 - 0.5)"),
            new CarbonDetail.Embodied(1000, "test", List.of(), 4, 1),
            Map.of(
                "train-step",
                new PhaseExtra(
                    0.2, Map.of("samples", 400L), Map.of("samples", 320L), 6.0, 240.0, 0.6),
                "other",
                new PhaseExtra(0.05, Map.of(), Map.of(), 2.0, 70.0, 0.2)),
            2.0,
            new CarbonDetail.Hardware("AMD EPYC 7B13", 1),
            "fine-tuning");
    return new EnergySnapshot(
        k.startedAt(),
        k.endedAt(),
        k.wallSeconds(),
        k.stage(),
        k.labels(),
        k.attribution(),
        k.methods(),
        devices,
        k.phases(),
        k.carbon(),
        k.warnings(),
        k.zones(),
        k.model(),
        null,
        d,
        Map.of(),
        null,
        null,
        null);
  }

  @Test
  void markdownHasEveryFigureAndAHuggingFaceBlockInGrams(@TempDir Path dir) throws Exception {
    EnergySnapshot s = withDetail();
    Path md = dir.resolve("statement.md");
    CarbonStatement.write(s, md);
    String text = Files.readString(md);
    // operational location-based grams: 0.5 + 0.125 from the phases
    assertThat(text)
        .contains("co2_eq_emissions:\n  emissions: 0.6250\n")
        .contains("training_type: \"fine-tuning\"")
        .contains("geographical_location: \"DE\"")
        .contains("hardware_used: \"1 x AMD EPYC 7B13, 2 x NVIDIA H200\"")
        .contains("- GPU: NVIDIA H200 x 2")
        .contains("| cpu | 300.00 |", "| measured |")
        .contains("time-weighted intensity: 470.00 gCO2e/kWh (lifecycle")
        .contains("| operational, market-based | 0.2500 |")
        .contains("| embodied (hardware manufacturing, amortised) | 0.3125 |")
        .contains("**0.9375**")
        .contains("The first 2.0 s (warm-up)");
    // J/unit = 240 J / 320 steady samples; units/s = 320 / 6 s
    assertThat(text).contains("| train-step | samples | 400 | 0.7500 |").contains("| 53.3 |");
  }

  @Test
  void theStatementSaysWhatMeasuringCostWhenItIsKnown() {
    EnergySnapshot s =
        withDetail()
            .withAgent(
                new EnergySnapshot.AgentCost(0.25, Map.of("sampler", 0.25), 10.0, 8.75, 0.01));
    assertThat(CarbonStatement.markdown(s))
        .contains(
            "## Measuring cost\n\nJouleTrace's own work took 0.250 CPU-s, 2.5 % of the process's CPU"
                + " time: 8.75 J and 0.01000 gCO2e under the same attribution, included in the figures"
                + " above.\n\n## Model card");
    assertThat(CarbonStatement.markdown(withDetail())).doesNotContain("Measuring cost");
  }

  @Test
  void reportCarriesSegmentsMarketEfficiencyAndStatement() throws Exception {
    EnergySnapshot s = withDetail();
    JsonNode root = new ObjectMapper().readTree(JsonReport.render(s));
    assertThat(root.at("/intensity/segments")).hasSize(2);
    assertThat(root.at("/intensity/segments/1/estimated").asBoolean()).isTrue();
    assertThat(root.at("/intensity/segments/1/gramsPerKwh").asDouble()).isEqualTo(450);
    assertThat(root.at("/market/operationalGrams").asDouble()).isCloseTo(0.25, within(1e-12));
    assertThat(root.at("/market/gramsPerKwh").isNull()).isTrue();
    assertThat(root.at("/efficiency/lines/0/joulesPerUnit").asDouble())
        .isCloseTo(240.0 / 320, within(1e-12));
    // totals line: all steady joules (240 + 70) over the steady samples
    assertThat(root.at("/efficiency/lines/1/phase").asText()).isEqualTo("total");
    assertThat(root.at("/efficiency/lines/1/joulesPerUnit").asDouble())
        .isCloseTo(310.0 / 320, within(1e-12));
    assertThat(root.at("/statement/co2eGrams/operationalLocationBased").asDouble())
        .isCloseTo(0.625, within(1e-12));
    assertThat(root.at("/statement/co2eGrams/operationalMarketBased").asDouble())
        .isCloseTo(0.25, within(1e-12));
    assertThat(root.at("/statement/hardware/gpus/NVIDIA H200").asInt()).isEqualTo(2);
    assertThat(root.at("/statement/energy/cpu/method").asText()).isEqualTo("measured");
    assertThat(root.at("/statement/huggingFaceYaml").asText()).startsWith("co2_eq_emissions:");
  }

  @Test
  void marketAndUnitsHaveTheirOwnFamilies() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(CarbonStatementTest::withDetail));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("# TYPE jouletrace_market_co2e_grams_total counter")
        .contains(
            "jouletrace_market_co2e_grams_total{job=\"mlp\",phase=\"train-step\",stage=\"training\"} 0.2")
        .contains(
            "jouletrace_work_units_total{job=\"mlp\",phase=\"train-step\",stage=\"training\",unit=\"samples\"} 400.0")
        .doesNotContain("kind=\"market");
  }
}

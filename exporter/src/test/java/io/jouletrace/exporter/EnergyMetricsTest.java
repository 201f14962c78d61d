package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.sources.Domain;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class EnergyMetricsTest {

  @Test
  void exposesKnownSnapshotExactly() throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(Snapshots::known));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    String text = out.toString(StandardCharsets.UTF_8);

    String expected =
        "# HELP jouletrace_co2e_grams_total Carbon attributed to this job, grams CO2e, by phase and kind\n"
            + "# TYPE jouletrace_co2e_grams_total counter\n"
            + "jouletrace_co2e_grams_total{job=\"mlp\",kind=\"embodied\",phase=\"other\",stage=\"training\"} 0.0625\n"
            + "jouletrace_co2e_grams_total{job=\"mlp\",kind=\"embodied\",phase=\"train-step\",stage=\"training\"} 0.25\n"
            + "jouletrace_co2e_grams_total{job=\"mlp\",kind=\"operational\",phase=\"other\",stage=\"training\"} 0.125\n"
            + "jouletrace_co2e_grams_total{job=\"mlp\",kind=\"operational\",phase=\"train-step\",stage=\"training\"} 0.5\n"
            + "# HELP jouletrace_device_energy_joules_total Raw energy each device consumed since the agent started\n"
            + "# TYPE jouletrace_device_energy_joules_total counter\n"
            + "jouletrace_device_energy_joules_total{device=\"dram-0\",domain=\"dram\",job=\"mlp\",source=\"rapl-sysfs\",stage=\"training\"} 50.0\n"
            + "jouletrace_device_energy_joules_total{device=\"package-0\",domain=\"cpu\",job=\"mlp\",source=\"rapl-sysfs\",stage=\"training\"} 300.0\n"
            + "# HELP jouletrace_energy_joules_total Energy attributed to this job, exclusive per phase\n"
            + "# TYPE jouletrace_energy_joules_total counter\n"
            + "jouletrace_energy_joules_total{domain=\"cpu\",job=\"mlp\",method=\"measured\",phase=\"other\",stage=\"training\"} 60.0\n"
            + "jouletrace_energy_joules_total{domain=\"cpu\",job=\"mlp\",method=\"measured\",phase=\"train-step\",stage=\"training\"} 240.0\n"
            + "jouletrace_energy_joules_total{domain=\"dram\",job=\"mlp\",method=\"measured\",phase=\"other\",stage=\"training\"} 10.0\n"
            + "jouletrace_energy_joules_total{domain=\"dram\",job=\"mlp\",method=\"measured\",phase=\"train-step\",stage=\"training\"} 40.0\n"
            + "# HELP jouletrace_phase_seconds_total Wall time spent in each phase\n"
            + "# TYPE jouletrace_phase_seconds_total counter\n"
            + "jouletrace_phase_seconds_total{job=\"mlp\",phase=\"other\",stage=\"training\"} 2.0\n"
            + "jouletrace_phase_seconds_total{job=\"mlp\",phase=\"train-step\",stage=\"training\"} 8.0\n"
            + "# HELP jouletrace_power_watts Mean power of each device over the second up to its latest reading\n"
            + "# TYPE jouletrace_power_watts gauge\n"
            + "jouletrace_power_watts{device=\"dram-0\",domain=\"dram\",job=\"mlp\",source=\"rapl-sysfs\",stage=\"training\"} 5.0\n"
            + "jouletrace_power_watts{device=\"package-0\",domain=\"cpu\",job=\"mlp\",source=\"rapl-sysfs\",stage=\"training\"} 30.0\n"
            + "# HELP jouletrace_zone_energy_joules_total Energy of counters read for detail only (RAPL core, uncore, psys), not in any total\n"
            + "# TYPE jouletrace_zone_energy_joules_total counter\n"
            + "jouletrace_zone_energy_joules_total{job=\"mlp\",source=\"rapl-sysfs\",stage=\"training\",zone=\"intel-rapl:0:0/core\"} 200.0\n";
    assertThat(text).isEqualTo(expected);
  }

  @Test
  void gpuInfoAndEstimationModelSeries() throws IOException {
    EnergySnapshot k = Snapshots.known();
    EnergySnapshot s =
        new EnergySnapshot(
            k.startedAt(),
            k.endedAt(),
            k.wallSeconds(),
            "inference",
            java.util.Map.of(),
            "host",
            java.util.Map.of(Domain.GPU, "measured", Domain.CPU, "estimated"),
            java.util.List.of(
                new EnergySnapshot.DeviceEnergy(
                    "gpu-0",
                    Domain.GPU,
                    "nvml-energy",
                    true,
                    9.5,
                    300.0,
                    0.5,
                    java.util.Map.of(
                        "gpu",
                        "0",
                        "UUID",
                        "GPU-abc",
                        "modelName",
                        "NVIDIA H200",
                        "pci_bus_id",
                        "00000000:3B:00.0"))),
            java.util.List.of(),
            k.carbon(),
            java.util.List.of(),
            java.util.List.of(),
            new EnergySnapshot.ModelInfo(1.5, 7.0, 0.392, "per-thread"));
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(() -> s));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(
            "jouletrace_gpu_info{UUID=\"GPU-abc\",device=\"gpu-0\",gpu=\"0\",modelName=\"NVIDIA H200\","
                + "pci_bus_id=\"00000000:3B:00.0\",stage=\"inference\"} 1.0\n",
            "jouletrace_model_cpu_watts{bound=\"idle\",origin=\"per-thread\",stage=\"inference\"} 1.5\n",
            "jouletrace_model_cpu_watts{bound=\"max\",origin=\"per-thread\",stage=\"inference\"} 7.0\n",
            "jouletrace_device_energy_joules_total{device=\"gpu-0\",domain=\"gpu\",source=\"nvml-energy\","
                + "stage=\"inference\"} 9.5\n");
  }

  @Test
  void openMetricsExpositionCarriesUnitsAndEof() throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(Snapshots::known));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter.create()
        .write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains(
            "# TYPE jouletrace_energy_joules counter\n# UNIT jouletrace_energy_joules joules\n")
        .contains(
            "jouletrace_energy_joules_total{domain=\"cpu\",job=\"mlp\",method=\"measured\","
                + "phase=\"train-step\",stage=\"training\"} 240.0\n")
        .endsWith("# EOF\n");
  }
}

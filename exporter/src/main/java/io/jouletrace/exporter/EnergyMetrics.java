package io.jouletrace.exporter;

import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The one place that knows JouleTrace's metric names. A {@link MultiCollector} that renders the
 * current {@link EnergySnapshot} at scrape time.
 *
 * <ul>
 *   <li>{@code jouletrace_energy_joules_total{phase,domain,method}}: energy attributed to this job
 *   <li>{@code jouletrace_device_energy_joules_total{device,domain,source}}: raw device energy
 *   <li>{@code jouletrace_power_watts{device,domain,source}}: latest power per device
 *   <li>{@code jouletrace_phase_seconds_total{phase}}: wall time per phase
 *   <li>{@code jouletrace_co2e_grams_total{phase,kind}}: carbon, {@code operational} or {@code
 *       embodied}
 *   <li>{@code jouletrace_zone_energy_joules_total{zone,source}}: detail counters, in no total
 *   <li>{@code jouletrace_gpu_info{device,gpu,UUID,modelName,pci_bus_id}}: 1 per GPU measured
 *   <li>{@code jouletrace_model_cpu_watts{bound,origin}}: the estimation model, when one is used
 * </ul>
 *
 * Every series also carries {@code stage} and the job labels.
 */
public final class EnergyMetrics implements MultiCollector {

  private static final Unit WATTS = new Unit("watts");

  private final Supplier<EnergySnapshot> snapshots;

  /**
   * Creates the collector.
   *
   * @param snapshots called once per scrape; must not block for long
   */
  public EnergyMetrics(Supplier<EnergySnapshot> snapshots) {
    this.snapshots = snapshots;
  }

  @Override
  public MetricSnapshots collect() {
    EnergySnapshot s = snapshots.get();
    Map<String, String> common = s.commonLabels();

    CounterSnapshot.Builder energy =
        CounterSnapshot.builder()
            .name("jouletrace_energy_joules")
            .unit(Unit.JOULES)
            .help("Energy attributed to this job, exclusive per phase");
    CounterSnapshot.Builder seconds =
        CounterSnapshot.builder()
            .name("jouletrace_phase_seconds")
            .unit(Unit.SECONDS)
            .help("Wall time spent in each phase");
    CounterSnapshot.Builder co2 =
        CounterSnapshot.builder()
            .name("jouletrace_co2e_grams")
            .unit(Unit.GRAMS)
            .help("Carbon attributed to this job, grams CO2e, by phase and kind");
    for (PhaseEnergy p : s.phases()) {
      for (String domain : EnergySnapshot.DOMAINS) {
        String method = s.methods().get(domain);
        if (method != null) {
          energy.dataPoint(
              counter(p.joules(domain), common, "phase", p.name(), "domain", domain, "method", method));
        }
      }
      seconds.dataPoint(counter(p.wallSeconds(), common, "phase", p.name()));
      co2.dataPoint(counter(p.operationalGrams(), common, "phase", p.name(), "kind", "operational"));
      co2.dataPoint(counter(p.embodiedGrams(), common, "phase", p.name(), "kind", "embodied"));
    }

    CounterSnapshot.Builder deviceEnergy =
        CounterSnapshot.builder()
            .name("jouletrace_device_energy_joules")
            .unit(Unit.JOULES)
            .help("Raw energy each device consumed since the agent started");
    GaugeSnapshot.Builder power =
        GaugeSnapshot.builder()
            .name("jouletrace_power_watts")
            .unit(WATTS)
            .help("Latest average power of each device");
    for (DeviceEnergy d : s.devices()) {
      String[] l = {"device", d.id(), "domain", d.domain(), "source", d.source()};
      deviceEnergy.dataPoint(counter(d.joules(), common, l));
      power.dataPoint(
          GaugeDataPointSnapshot.builder().value(d.watts()).labels(labels(common, l)).build());
    }
    CounterSnapshot.Builder zones =
        CounterSnapshot.builder()
            .name("jouletrace_zone_energy_joules")
            .unit(Unit.JOULES)
            .help("Energy of counters read for detail only (RAPL core, uncore, psys), not in any total");
    for (EnergySnapshot.ZoneEnergy z : s.zones()) {
      zones.dataPoint(counter(z.joules(), common, "zone", z.zone(), "source", z.source()));
    }
    GaugeSnapshot.Builder gpuInfo =
        GaugeSnapshot.builder()
            .name("jouletrace_gpu_info")
            .help("GPUs measured, with the labels NVIDIA's DCGM exporter uses; value 1");
    for (DeviceEnergy d : s.devices()) {
      if (d.domain().equals("gpu")) {
        gpuInfo.dataPoint(GaugeDataPointSnapshot.builder().value(1).labels(labels(common,
            "device", d.id(), "gpu", d.detail().getOrDefault("gpu", ""),
            "UUID", d.detail().getOrDefault("UUID", ""),
            "modelName", d.detail().getOrDefault("modelName", ""),
            "pci_bus_id", d.detail().getOrDefault("pci_bus_id", ""))).build());
      }
    }
    GaugeSnapshot.Builder model =
        GaugeSnapshot.builder()
            .name("jouletrace_model_cpu_watts")
            .unit(WATTS)
            .help("Estimation model: host CPU watts at idle and at full load");
    if (s.model() != null) {
      model.dataPoint(GaugeDataPointSnapshot.builder().value(s.model().cpuIdleWatts())
          .labels(labels(common, "bound", "idle", "origin", s.model().origin())).build());
      model.dataPoint(GaugeDataPointSnapshot.builder().value(s.model().cpuMaxWatts())
          .labels(labels(common, "bound", "max", "origin", s.model().origin())).build());
    }
    return MetricSnapshots.of(energy.build(), deviceEnergy.build(), power.build(),
        seconds.build(), co2.build(), zones.build(), gpuInfo.build(), model.build());
  }

  @Override
  public List<String> getPrometheusNames() {
    return List.of(
        "jouletrace_energy_joules",
        "jouletrace_device_energy_joules",
        "jouletrace_power_watts",
        "jouletrace_phase_seconds",
        "jouletrace_co2e_grams",
        "jouletrace_zone_energy_joules",
        "jouletrace_gpu_info",
        "jouletrace_model_cpu_watts");
  }

  private static CounterDataPointSnapshot counter(
      double value, Map<String, String> common, String... nameValues) {
    return CounterDataPointSnapshot.builder().value(value).labels(labels(common, nameValues)).build();
  }

  private static Labels labels(Map<String, String> common, String... nameValues) {
    List<String> names = new ArrayList<>();
    List<String> values = new ArrayList<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      names.add(nameValues[i]);
      values.add(nameValues[i + 1]);
    }
    common.forEach(
        (k, v) -> {
          names.add(k);
          values.add(v);
        });
    return Labels.of(names, values);
  }
}

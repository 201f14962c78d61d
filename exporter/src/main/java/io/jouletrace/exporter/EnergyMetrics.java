package io.jouletrace.exporter;

import static io.jouletrace.exporter.MetricFamily.AGENT_CPU_SECONDS;
import static io.jouletrace.exporter.MetricFamily.AGENT_ENERGY;
import static io.jouletrace.exporter.MetricFamily.CO2E;
import static io.jouletrace.exporter.MetricFamily.DEVICE_ENERGY;
import static io.jouletrace.exporter.MetricFamily.ENERGY;
import static io.jouletrace.exporter.MetricFamily.GPU_INFO;
import static io.jouletrace.exporter.MetricFamily.MARKET_CO2E;
import static io.jouletrace.exporter.MetricFamily.MODEL_CPU_WATTS;
import static io.jouletrace.exporter.MetricFamily.PHASE_SECONDS;
import static io.jouletrace.exporter.MetricFamily.POWER;
import static io.jouletrace.exporter.MetricFamily.TASKS;
import static io.jouletrace.exporter.MetricFamily.WORK_UNITS;
import static io.jouletrace.exporter.MetricFamily.ZONE_ENERGY;

import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Domain;
import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A {@link MultiCollector} that renders the current {@link EnergySnapshot} at scrape time, with the
 * names, units, help texts and labels of {@link MetricFamily}. Every series also carries {@code
 * stage} and the job labels.
 */
public final class EnergyMetrics implements MultiCollector {

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

    CounterSnapshot.Builder energy = counter(ENERGY);
    CounterSnapshot.Builder seconds = counter(PHASE_SECONDS);
    CounterSnapshot.Builder co2 = counter(CO2E);
    CounterSnapshot.Builder market = counter(MARKET_CO2E);
    CounterSnapshot.Builder units = counter(WORK_UNITS);
    CarbonDetail detail = s.detail();
    for (PhaseEnergy p : s.phases()) {
      for (Domain domain : Domain.values()) {
        String method = s.methods().get(domain);
        if (method != null) {
          energy.dataPoint(
              counter(ENERGY, p.joules(domain), common, p.name(), domain.label(), method));
        }
      }
      seconds.dataPoint(counter(PHASE_SECONDS, p.wallSeconds(), common, p.name()));
      co2.dataPoint(counter(CO2E, p.operationalGrams(), common, p.name(), "operational"));
      co2.dataPoint(counter(CO2E, p.embodiedGrams(), common, p.name(), "embodied"));
      CarbonDetail.PhaseExtra extra = detail == null ? null : detail.phases().get(p.name());
      if (detail != null && detail.market() != null) {
        double g = extra == null ? 0 : extra.marketGrams();
        market.dataPoint(counter(MARKET_CO2E, g, common, p.name()));
      }
      if (extra != null) {
        for (String unit : extra.units().keySet().stream().sorted().toList()) {
          units.dataPoint(counter(WORK_UNITS, extra.units().get(unit), common, p.name(), unit));
        }
      }
    }

    CounterSnapshot.Builder deviceEnergy = counter(DEVICE_ENERGY);
    GaugeSnapshot.Builder power = gauge(POWER);
    GaugeSnapshot.Builder gpuInfo = gauge(GPU_INFO);
    for (DeviceEnergy d : s.devices()) {
      String domain = d.domain().label();
      deviceEnergy.dataPoint(
          counter(DEVICE_ENERGY, d.joules(), common, d.id(), domain, d.source()));
      power.dataPoint(gauge(POWER, d.watts(), common, d.id(), domain, d.source()));
      if (d.domain() == Domain.GPU) {
        Map<String, String> x = d.detail();
        gpuInfo.dataPoint(
            gauge(
                GPU_INFO,
                1,
                common,
                d.id(),
                x.getOrDefault("gpu", ""),
                x.getOrDefault("UUID", ""),
                x.getOrDefault("modelName", ""),
                x.getOrDefault("pci_bus_id", "")));
      }
    }
    CounterSnapshot.Builder zones = counter(ZONE_ENERGY);
    for (EnergySnapshot.ZoneEnergy z : s.zones()) {
      zones.dataPoint(counter(ZONE_ENERGY, z.joules(), common, z.zone(), z.source()));
    }
    GaugeSnapshot.Builder model = gauge(MODEL_CPU_WATTS);
    if (s.model() != null) {
      String origin = s.model().origin();
      model.dataPoint(gauge(MODEL_CPU_WATTS, s.model().cpuIdleWatts(), common, "idle", origin));
      model.dataPoint(gauge(MODEL_CPU_WATTS, s.model().cpuMaxWatts(), common, "max", origin));
    }
    CounterSnapshot.Builder agentCpu = counter(AGENT_CPU_SECONDS);
    CounterSnapshot.Builder agentEnergy = counter(AGENT_ENERGY);
    if (s.agent() != null) {
      s.agent()
          .threads()
          .forEach(
              (thread, cpu) -> agentCpu.dataPoint(counter(AGENT_CPU_SECONDS, cpu, common, thread)));
      agentEnergy.dataPoint(counter(AGENT_ENERGY, s.agent().joules(), common));
    }
    CounterSnapshot.Builder tasks = counter(TASKS);
    s.tasks().forEach((phase, n) -> tasks.dataPoint(counter(TASKS, n, common, phase)));
    return MetricSnapshots.of(
        agentCpu.build(),
        agentEnergy.build(),
        tasks.build(),
        energy.build(),
        deviceEnergy.build(),
        power.build(),
        seconds.build(),
        co2.build(),
        zones.build(),
        gpuInfo.build(),
        model.build(),
        market.build(),
        units.build());
  }

  @Override
  public List<MetricFamilyDescriptor> getMetricFamilyDescriptors() {
    // The job labels are known only from a snapshot.
    Set<String> common = snapshots.get().commonLabels().keySet();
    List<MetricFamilyDescriptor> out = new ArrayList<>();
    for (MetricFamily f : MetricFamily.values()) {
      Set<String> names = new LinkedHashSet<>(f.labels());
      names.addAll(common);
      out.add(
          MetricFamilyDescriptor.of(
              f.counter() ? MetricType.COUNTER : MetricType.GAUGE, metadata(f), names));
    }
    return out;
  }

  private static MetricMetadata metadata(MetricFamily f) {
    return new MetricMetadata(f.baseName(), f.help(), f.unit() == null ? null : new Unit(f.unit()));
  }

  private static CounterSnapshot.Builder counter(MetricFamily f) {
    CounterSnapshot.Builder b = CounterSnapshot.builder().name(f.baseName()).help(f.help());
    return f.unit() == null ? b : b.unit(new Unit(f.unit()));
  }

  private static GaugeSnapshot.Builder gauge(MetricFamily f) {
    GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(f.baseName()).help(f.help());
    return f.unit() == null ? b : b.unit(new Unit(f.unit()));
  }

  private static CounterDataPointSnapshot counter(
      MetricFamily f, double value, Map<String, String> common, String... values) {
    return CounterDataPointSnapshot.builder()
        .value(value)
        .labels(labels(f, common, values))
        .build();
  }

  private static GaugeDataPointSnapshot gauge(
      MetricFamily f, double value, Map<String, String> common, String... values) {
    return GaugeDataPointSnapshot.builder().value(value).labels(labels(f, common, values)).build();
  }

  /**
   * The family's own labels with {@code values} in their order, then {@code stage} and the job's.
   */
  private static Labels labels(MetricFamily f, Map<String, String> common, String... values) {
    List<String> names = new ArrayList<>(f.labels().size() + common.size());
    List<String> all = new ArrayList<>(names.size());
    names.addAll(f.labels());
    all.addAll(List.of(values));
    common.forEach(
        (k, v) -> {
          names.add(k);
          all.add(v);
        });
    return Labels.of(names, all);
  }
}

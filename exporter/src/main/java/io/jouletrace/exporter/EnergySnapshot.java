package io.jouletrace.exporter;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the exporters show, frozen at one instant. The agent fills it; the exporters only
 * render it.
 *
 * @param startedAt when measurement started
 * @param endedAt when the run ended, or {@code null} while it is still running
 * @param wallSeconds seconds measured so far
 * @param stage ML lifecycle stage ({@code data}, {@code experimentation}, {@code training}, {@code
 *     inference})
 * @param labels job labels added to every series and to the report
 * @param attribution {@code process} or {@code host}
 * @param methods per domain label ({@code cpu}, {@code dram}, {@code gpu}): {@code measured} or
 *     {@code estimated}; a domain absent here was not observed
 * @param devices raw energy per device since the agent started
 * @param phases energy attributed to this job, per phase (exclusive; includes {@code other})
 * @param carbon the carbon factors used
 * @param warnings one-line problems met during the run
 * @param zones energy of counters read for detail only, never added to any total (RAPL {@code
 *     core}, {@code uncore}, {@code psys}, mirrors)
 * @param model the estimation model, or {@code null} when no figure is estimated
 * @param runId identifier of this run (also a Pushgateway grouping key), or {@code null}
 * @param timeline bounded power and phase timeline for the HTML report; never {@code null}
 */
public record EnergySnapshot(
    Instant startedAt,
    Instant endedAt,
    double wallSeconds,
    String stage,
    Map<String, String> labels,
    String attribution,
    Map<String, String> methods,
    List<DeviceEnergy> devices,
    List<PhaseEnergy> phases,
    CarbonFactors carbon,
    List<String> warnings,
    List<ZoneEnergy> zones,
    ModelInfo model,
    String runId,
    Timeline timeline) {

  /** The domains in their fixed order. */
  public static final List<String> DOMAINS = List.of("cpu", "dram", "gpu");

  public EnergySnapshot {
    Objects.requireNonNull(startedAt, "startedAt");
    labels = Map.copyOf(labels);
    methods = Map.copyOf(methods);
    devices = List.copyOf(devices);
    phases = List.copyOf(phases);
    warnings = List.copyOf(warnings);
    zones = List.copyOf(zones);
    timeline = timeline == null ? Timeline.EMPTY : timeline;
  }

  /** A snapshot without run id or timeline; see the canonical constructor for the parameters. */
  public EnergySnapshot(
      Instant startedAt,
      Instant endedAt,
      double wallSeconds,
      String stage,
      Map<String, String> labels,
      String attribution,
      Map<String, String> methods,
      List<DeviceEnergy> devices,
      List<PhaseEnergy> phases,
      CarbonFactors carbon,
      List<String> warnings,
      List<ZoneEnergy> zones,
      ModelInfo model) {
    this(
        startedAt,
        endedAt,
        wallSeconds,
        stage,
        labels,
        attribution,
        methods,
        devices,
        phases,
        carbon,
        warnings,
        zones,
        model,
        null,
        Timeline.EMPTY);
  }

  /**
   * Returns this snapshot with a run id.
   *
   * @param id the run id
   * @return a copy
   */
  public EnergySnapshot withRunId(String id) {
    return new EnergySnapshot(
        startedAt,
        endedAt,
        wallSeconds,
        stage,
        labels,
        attribution,
        methods,
        devices,
        phases,
        carbon,
        warnings,
        zones,
        model,
        id,
        timeline);
  }

  /**
   * Returns this snapshot with a timeline.
   *
   * @param t the timeline
   * @return a copy
   */
  public EnergySnapshot withTimeline(Timeline t) {
    return new EnergySnapshot(
        startedAt,
        endedAt,
        wallSeconds,
        stage,
        labels,
        attribution,
        methods,
        devices,
        phases,
        carbon,
        warnings,
        zones,
        model,
        runId,
        t);
  }

  /**
   * Power over time per device and the phase that held each stretch of time, bounded in size
   * whatever the run's length. Times are seconds since measurement started.
   *
   * @param devices one power series per device
   * @param bands consecutive stretches of time, each with the phase that held most of it
   */
  public record Timeline(List<PowerSeries> devices, List<PhaseBand> bands) {

    /** No timeline. */
    public static final Timeline EMPTY = new Timeline(List.of(), List.of());

    public Timeline {
      devices = List.copyOf(devices);
      bands = List.copyOf(bands);
    }
  }

  /**
   * Average power of one device over consecutive stretches of time.
   *
   * @param id device id
   * @param domain {@code cpu}, {@code dram} or {@code gpu}
   * @param measured counter ({@code true}) or estimate
   * @param points in time order
   */
  public record PowerSeries(String id, String domain, boolean measured, List<PowerPoint> points) {
    public PowerSeries {
      points = List.copyOf(points);
    }
  }

  /**
   * Average power over {@code [start, end)}.
   *
   * @param start seconds since measurement started
   * @param end seconds since measurement started
   * @param watts joules over the stretch divided by its length
   */
  public record PowerPoint(double start, double end, double watts) {}

  /**
   * A stretch of time and the phase that held most of it.
   *
   * @param phase phase name
   * @param start seconds since measurement started
   * @param end seconds since measurement started
   */
  public record PhaseBand(String phase, double start, double end) {}

  /**
   * A counter read for detail only.
   *
   * @param source e.g. {@code rapl-sysfs}
   * @param zone e.g. {@code intel-rapl:0:0/core}
   * @param joules energy since the agent started
   */
  public record ZoneEnergy(String source, String zone, double joules) {}

  /**
   * The estimation model in use.
   *
   * @param cpuIdleWatts host CPU watts at idle
   * @param cpuMaxWatts host CPU watts at full load
   * @param dramWattsPerGb memory watts per GB
   * @param origin where these figures come from (table entry, per-thread defaults, configuration)
   */
  public record ModelInfo(
      double cpuIdleWatts, double cpuMaxWatts, double dramWattsPerGb, String origin) {}

  /**
   * Sums the phases.
   *
   * @return joules and grams over every phase, {@code other} included
   */
  public PhaseEnergy totals() {
    double cpu = 0;
    double dram = 0;
    double gpu = 0;
    double wall = 0;
    double op = 0;
    double emb = 0;
    for (PhaseEnergy p : phases) {
      cpu += p.cpuJoules();
      dram += p.dramJoules();
      gpu += p.gpuJoules();
      wall += p.wallSeconds();
      op += p.operationalGrams();
      emb += p.embodiedGrams();
    }
    return new PhaseEnergy("total", wall, cpu, dram, gpu, op, emb);
  }

  /**
   * Returns the labels every series carries: {@code stage}, {@code run_id} when known, then the job
   * labels, in a stable order.
   *
   * @return an ordered map
   */
  public Map<String, String> commonLabels() {
    Map<String, String> all = new LinkedHashMap<>();
    all.put(MetricFamily.STAGE, stage);
    if (runId != null) {
      // Ties the series scraped while the run lasts to those it pushes at exit, so that queries
      // can take one of the two (max by run_id) instead of adding them.
      all.put(MetricFamily.RUN_ID, runId);
    }
    labels.keySet().stream().sorted().forEach(k -> all.put(k, labels.get(k)));
    return all;
  }

  /**
   * Raw energy of one device.
   *
   * @param id device id, e.g. {@code package-0}
   * @param domain {@code cpu}, {@code dram} or {@code gpu}
   * @param source how it was read, e.g. {@code rapl-sysfs}, {@code model}
   * @param measured counter ({@code true}) or estimate
   * @param joules energy since the agent started
   * @param watts latest average power
   * @param seconds how long the device was measured: from its first reading to the latest one that
   *     advanced its counter (a GPU is opened a fraction of a second after start-up, and a lost one
   *     stops early; NVML's counter moves about every 100 ms, so it can lag that much)
   * @param detail descriptive labels (GPU index, UUID, model name, PCI bus id; RAPL zone)
   */
  public record DeviceEnergy(
      String id,
      String domain,
      String source,
      boolean measured,
      double joules,
      double watts,
      double seconds,
      Map<String, String> detail) {

    public DeviceEnergy {
      detail = Map.copyOf(detail);
    }
  }

  /**
   * Energy and carbon attributed to one phase.
   *
   * @param name phase name
   * @param wallSeconds wall time in the phase (shared equally when phases overlap on threads)
   * @param cpuJoules CPU package energy
   * @param dramJoules memory energy
   * @param gpuJoules GPU energy
   * @param operationalGrams grams CO2e from electricity (energy x PUE x grid intensity)
   * @param embodiedGrams grams CO2e of hardware manufacturing amortised over the phase's time
   */
  public record PhaseEnergy(
      String name,
      double wallSeconds,
      double cpuJoules,
      double dramJoules,
      double gpuJoules,
      double operationalGrams,
      double embodiedGrams) {

    /** Returns CPU + DRAM + GPU joules. */
    public double totalJoules() {
      return cpuJoules + dramJoules + gpuJoules;
    }

    /** Returns operational + embodied grams. */
    public double totalGrams() {
      return operationalGrams + embodiedGrams;
    }

    /**
     * Returns the joules of one domain.
     *
     * @param domain {@code cpu}, {@code dram} or {@code gpu}
     * @return joules
     */
    public double joules(String domain) {
      return switch (domain) {
        case "cpu" -> cpuJoules;
        case "dram" -> dramJoules;
        case "gpu" -> gpuJoules;
        default -> throw new IllegalArgumentException("unknown domain " + domain);
      };
    }
  }

  /**
   * Carbon factors.
   *
   * @param intensityGramsPerKwh grid carbon intensity, gCO2e per kWh
   * @param intensitySource where the intensity came from
   * @param pue power usage effectiveness of the facility (1.0 = no overhead)
   * @param embodiedKg manufacturing carbon of the machine, kg CO2e
   * @param embodiedGpuKg manufacturing carbon of each GPU in use, kg CO2e
   * @param lifetimeYears years over which it is amortised
   * @param utilization fraction of its lifetime the hardware is busy
   */
  public record CarbonFactors(
      double intensityGramsPerKwh,
      String intensitySource,
      double pue,
      double embodiedKg,
      double embodiedGpuKg,
      double lifetimeYears,
      double utilization) {}
}

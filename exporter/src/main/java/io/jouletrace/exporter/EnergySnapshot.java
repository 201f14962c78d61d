package io.jouletrace.exporter;

import io.jouletrace.sources.Domain;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
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
 * @param methods per domain: {@code measured} or {@code estimated}; a domain absent here was not
 *     observed
 * @param devices raw energy per device since the agent started
 * @param phases energy attributed to this job, per phase (exclusive; includes {@code other})
 * @param carbon the carbon factors used; {@code null} before the carbon stage has filled them in
 * @param warnings one-line problems met during the run
 * @param zones energy of counters read for detail only, never added to any total (RAPL {@code
 *     core}, {@code uncore}, {@code psys}, mirrors)
 * @param model the estimation model, or {@code null} when no figure is estimated
 * @param agent what measuring cost in this run, or {@code null} where it is not known
 * @param detail intensity segments, market-based grams, work units and the statement's inputs;
 *     {@code null} before the carbon stage has filled them in
 * @param tasks Spark tasks run in this JVM per phase set on the driver (empty outside Spark)
 * @param runId identifier of this run (also a Pushgateway grouping key), or {@code null}
 * @param timeline bounded power and phase timeline for the HTML report; never {@code null}
 * @param profile energy per method from the sampling profiler, or {@code null} when profiling is
 *     off (and while the run is still going)
 */
public record EnergySnapshot(
    Instant startedAt,
    Instant endedAt,
    double wallSeconds,
    String stage,
    Map<String, String> labels,
    String attribution,
    Map<Domain, String> methods,
    List<DeviceEnergy> devices,
    List<PhaseEnergy> phases,
    CarbonFactors carbon,
    List<String> warnings,
    List<ZoneEnergy> zones,
    ModelInfo model,
    AgentCost agent,
    CarbonDetail detail,
    Map<String, Long> tasks,
    String runId,
    Timeline timeline,
    EnergyProfile profile) {

  /** A snapshot without carbon detail, measuring cost or task counts (the ledger's). */
  public EnergySnapshot(
      Instant startedAt,
      Instant endedAt,
      double wallSeconds,
      String stage,
      Map<String, String> labels,
      String attribution,
      Map<Domain, String> methods,
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
        null,
        Map.of(),
        null,
        null,
        null);
  }

  public EnergySnapshot {
    tasks = Collections.unmodifiableMap(new java.util.TreeMap<>(tasks));
    Objects.requireNonNull(startedAt, "startedAt");
    labels = Map.copyOf(labels);
    methods = Map.copyOf(methods);
    devices = List.copyOf(devices);
    phases = List.copyOf(phases);
    warnings = List.copyOf(warnings);
    zones = List.copyOf(zones);
    timeline = timeline == null ? Timeline.EMPTY : timeline;
  }

  /** This snapshot with the parts that stages after the ledger fill in replaced. */
  private EnergySnapshot copy(
      List<PhaseEnergy> phases,
      CarbonFactors carbon,
      AgentCost agent,
      CarbonDetail detail,
      Map<String, Long> tasks,
      String runId,
      Timeline timeline,
      EnergyProfile profile) {
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
        agent,
        detail,
        tasks,
        runId,
        timeline,
        profile);
  }

  /**
   * Returns this snapshot with a run id.
   *
   * @param id the run id
   * @return a copy
   */
  public EnergySnapshot withRunId(String id) {
    return copy(phases, carbon, agent, detail, tasks, id, timeline, profile);
  }

  /**
   * Returns this snapshot with a timeline.
   *
   * @param t the timeline
   * @return a copy
   */
  public EnergySnapshot withTimeline(Timeline t) {
    return copy(phases, carbon, agent, detail, tasks, runId, t, profile);
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
   * Returns this snapshot with carbon filled in by the carbon stage.
   *
   * @param factors the factors used
   * @param withGrams the same phases, in the same order, with their grams
   * @return a copy
   */
  public EnergySnapshot withCarbon(CarbonFactors factors, List<PhaseEnergy> withGrams) {
    return withCarbon(factors, withGrams, detail);
  }

  /**
   * Returns this snapshot with carbon and its detail filled in by the carbon stage.
   *
   * @param factors the factors used
   * @param withGrams the same phases, in the same order, with their grams
   * @param detail segments, market-based grams, work units
   * @return a copy
   */
  public EnergySnapshot withCarbon(
      CarbonFactors factors, List<PhaseEnergy> withGrams, CarbonDetail detail) {
    return copy(withGrams, factors, agent, detail, tasks, runId, timeline, profile);
  }

  /**
   * Returns this snapshot with the Spark task counts.
   *
   * @param counts tasks per phase
   * @return a copy
   */
  public EnergySnapshot withTasks(Map<String, Long> counts) {
    return copy(phases, carbon, agent, detail, counts, runId, timeline, profile);
  }

  /**
   * Returns this snapshot with the profiler's energy per method.
   *
   * @param p the profile, or {@code null}
   * @return a copy
   */
  public EnergySnapshot withProfile(EnergyProfile p) {
    return copy(phases, carbon, agent, detail, tasks, runId, timeline, p);
  }

  /**
   * Returns this snapshot with what measuring cost.
   *
   * @param cost the agent's own cost
   * @return a copy
   */
  public EnergySnapshot withAgent(AgentCost cost) {
    return copy(phases, carbon, cost, detail, tasks, runId, timeline, profile);
  }

  /**
   * What measuring cost in this run: the CPU time of the agent's own threads (and of its weaving on
   * the threads that load classes, as {@code transform}; with the profiler, of the JIT's work on
   * its code and of JFR's threads, as {@code jit} and {@code jfr}), and the energy and carbon that
   * CPU time stands for under the run's attribution (its share of this process's CPU time, applied
   * to the job's CPU and DRAM energy, at the run's average grams per joule).
   *
   * @param cpuSeconds CPU time of the agent's threads and its weaving
   * @param threads CPU seconds per agent thread name ({@code transform}: weaving elsewhere)
   * @param processCpuSeconds CPU time of the whole process over the same run
   * @param joules energy the agent's CPU time stands for
   * @param grams carbon of that energy, grams CO2e (operational)
   */
  public record AgentCost(
      double cpuSeconds,
      Map<String, Double> threads,
      double processCpuSeconds,
      double joules,
      double grams) {

    public AgentCost {
      threads = Collections.unmodifiableMap(new java.util.TreeMap<>(threads));
    }

    /** Returns the agent's share of this process's CPU time, in [0, 1], or 0 when unknown. */
    public double cpuShare() {
      return processCpuSeconds > 0 ? Math.min(1, cpuSeconds / processCpuSeconds) : 0;
    }
  }

  /**
   * Sums the phases.
   *
   * @return joules and grams over every phase, {@code other} included
   */
  public PhaseEnergy totals() {
    double[] joules = new double[Domain.values().length];
    double wall = 0;
    double op = 0;
    double emb = 0;
    for (PhaseEnergy p : phases) {
      for (Domain d : Domain.values()) {
        joules[d.ordinal()] += p.joules(d);
      }
      wall += p.wallSeconds();
      op += p.operationalGrams();
      emb += p.embodiedGrams();
    }
    return new PhaseEnergy("total", wall, PhaseEnergy.joules(joules), op, emb);
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
   * @param domain what the energy belongs to
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
      Domain domain,
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
   * @param joules per domain (every domain present, zero where none was attributed)
   * @param operationalGrams grams CO2e from electricity (energy x PUE x grid intensity)
   * @param embodiedGrams grams CO2e of hardware manufacturing amortised over the phase's time
   */
  public record PhaseEnergy(
      String name,
      double wallSeconds,
      Map<Domain, Double> joules,
      double operationalGrams,
      double embodiedGrams) {

    public PhaseEnergy {
      EnumMap<Domain, Double> all = new EnumMap<>(Domain.class);
      for (Domain d : Domain.values()) {
        all.put(d, joules.getOrDefault(d, 0.0));
      }
      joules = Collections.unmodifiableMap(all);
    }

    /**
     * Builds the per-domain map from an array indexed by {@link Domain#ordinal()}.
     *
     * @param byOrdinal joules per domain
     * @return the map
     */
    public static Map<Domain, Double> joules(double[] byOrdinal) {
      EnumMap<Domain, Double> m = new EnumMap<>(Domain.class);
      for (Domain d : Domain.values()) {
        m.put(d, byOrdinal[d.ordinal()]);
      }
      return m;
    }

    /**
     * Returns the joules of one domain.
     *
     * @param domain the domain
     * @return joules
     */
    public double joules(Domain domain) {
      return joules.get(domain);
    }

    /** Returns the joules of every domain together. */
    public double totalJoules() {
      double sum = 0;
      for (double j : joules.values()) {
        sum += j;
      }
      return sum;
    }

    /** Returns operational + embodied grams. */
    public double totalGrams() {
      return operationalGrams + embodiedGrams;
    }

    /**
     * Returns this phase with its carbon set.
     *
     * @param operational grams CO2e from electricity
     * @param embodied grams CO2e of hardware manufacturing
     * @return a copy
     */
    public PhaseEnergy withGrams(double operational, double embodied) {
      return new PhaseEnergy(name, wallSeconds, joules, operational, embodied);
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
      double utilization) {

    private static final double JOULES_PER_KWH = 3.6e6;
    private static final double SECONDS_PER_YEAR = 365 * 86400.0;

    /**
     * Returns operational grams CO2e per joule of IT energy at this intensity: kWh x PUE x
     * intensity.
     */
    public double gramsPerJoule() {
      return intensityGramsPerKwh * pue / JOULES_PER_KWH;
    }

    /**
     * Returns embodied grams CO2e per second charged to the job: the hardware's manufacturing
     * carbon amortised over the time it is busy during its life, {@code kg x 1000 / (lifetime x
     * utilization)}, the machine's part weighted by the job's share of it, each GPU's by the job's
     * share of that GPU (after Wu et al., "Sustainable AI", 2022, and the ACT model).
     *
     * @param machineShare the job's share of the machine (its CPU share), in [0, 1]
     * @param gpuShares the sum over the GPUs in use of the job's share of each
     * @return grams per second
     */
    public double embodiedGramsPerSecond(double machineShare, double gpuShares) {
      return (embodiedKg * machineShare + embodiedGpuKg * gpuShares)
          * 1000
          / (lifetimeYears * SECONDS_PER_YEAR * utilization);
    }
  }
}

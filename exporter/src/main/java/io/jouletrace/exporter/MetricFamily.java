package io.jouletrace.exporter;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Every metric family JouleTrace exposes, with its type, unit, help text and the label names its
 * series carry besides {@code stage} and the job labels. The one place that knows metric and label
 * names: {@link EnergyMetrics} renders from it, and the configuration derives from it the label
 * names a job label must not take ({@link #reservedLabelNames()}).
 *
 * <p>This class loads no Prometheus client class, so that the agent can ask it in {@code premain}.
 */
public enum MetricFamily {
  /** Energy attributed to this job, exclusive per phase. */
  ENERGY(
      "jouletrace_energy_joules",
      true,
      "joules",
      "Energy attributed to this job, exclusive per phase",
      "phase",
      "domain",
      "method"),
  /** Raw energy of each device since the agent started. */
  DEVICE_ENERGY(
      "jouletrace_device_energy_joules",
      true,
      "joules",
      "Raw energy each device consumed since the agent started",
      "device",
      "domain",
      "source"),
  /** Power of each device. */
  POWER(
      "jouletrace_power_watts",
      false,
      "watts",
      "Mean power of each device over the second up to its latest reading",
      "device",
      "domain",
      "source"),
  /** Wall time per phase. */
  PHASE_SECONDS(
      "jouletrace_phase_seconds", true, "seconds", "Wall time spent in each phase", "phase"),
  /** Carbon per phase and kind. */
  CO2E(
      "jouletrace_co2e_grams",
      true,
      "grams",
      "Carbon attributed to this job, grams CO2e, by phase and kind",
      "phase",
      "kind"),
  /** Detail counters, in no total. */
  ZONE_ENERGY(
      "jouletrace_zone_energy_joules",
      true,
      "joules",
      "Energy of counters read for detail only (RAPL core, uncore, psys), not in any total",
      "zone",
      "source"),
  /** One series per GPU measured, with DCGM exporter's label names. */
  GPU_INFO(
      "jouletrace_gpu_info",
      false,
      null,
      "GPUs measured, with the labels NVIDIA's DCGM exporter uses; value 1",
      "device",
      "gpu",
      "UUID",
      "modelName",
      "pci_bus_id"),
  /** The estimation model's CPU power bounds. */
  MODEL_CPU_WATTS(
      "jouletrace_model_cpu_watts",
      false,
      "watts",
      "Estimation model: host CPU watts at idle and at full load",
      "bound",
      "origin"),
  /** CPU time of the agent's own threads. */
  AGENT_CPU_SECONDS(
      "jouletrace_agent_cpu_seconds",
      true,
      "seconds",
      "CPU time of JouleTrace's own threads (transform: its weaving on the threads that load"
          + " classes; jit and jfr, with profile=true: the JIT's compilations of its code and"
          + " JFR's threads): what measuring costs",
      "thread"),
  /** The energy the agent's CPU time stands for; part of the job's energy, not in addition. */
  AGENT_ENERGY(
      "jouletrace_agent_energy_joules",
      true,
      "joules",
      "Energy that JouleTrace's own CPU time stands for (part of the job's energy, not added to"
          + " it)"),
  /**
   * Market-based operational carbon per phase (GHG Protocol Scope 2, market-based). A family of its
   * own, not a {@code kind} of {@link #CO2E}: location-based and market-based grams are two
   * estimates of the same emissions, and summing {@code jouletrace_co2e_grams_total} over {@code
   * kind} must not count a gram twice.
   */
  MARKET_CO2E(
      "jouletrace_market_co2e_grams",
      true,
      "grams",
      "Market-based operational carbon of this job, grams CO2e, by phase (an alternative to the"
          + " location-based operational grams of jouletrace_co2e_grams, never to be added to them)",
      "phase"),
  /** Work units (samples, inferences, tokens) per phase: the R of SCI. */
  WORK_UNITS(
      "jouletrace_work_units",
      true,
      null,
      "Work units done by this job, by phase and unit (samples, inferences, tokens, ...)",
      "phase",
      "unit"),
  /** Spark tasks run in this JVM, by the phase set on the driver. */
  TASKS(
      "jouletrace_tasks",
      true,
      null,
      "Spark tasks run in this JVM, by the phase set on the driver (local property"
          + " jouletrace.phase)",
      "phase");

  /** The label every series carries besides the job labels. */
  public static final String STAGE = "stage";

  /** The label that identifies one run (one JVM's measurement), when the agent sets one. */
  public static final String RUN_ID = "run_id";

  private final String baseName;
  private final boolean counter;
  private final String unit;
  private final String help;
  private final List<String> labels;

  MetricFamily(String baseName, boolean counter, String unit, String help, String... labels) {
    this.baseName = baseName;
    this.counter = counter;
    this.unit = unit;
    this.help = help;
    this.labels = List.of(labels);
  }

  /**
   * Returns the name without the {@code _total} suffix of counters.
   *
   * @return e.g. {@code jouletrace_energy_joules}
   */
  public String baseName() {
    return baseName;
  }

  /** Returns {@code true} for counters, {@code false} for gauges. */
  public boolean counter() {
    return counter;
  }

  /** Returns the base unit ({@code joules}, {@code watts}, ...), or {@code null} for none. */
  public String unit() {
    return unit;
  }

  /** Returns the help text. */
  public String help() {
    return help;
  }

  /** Returns the family's own label names, without {@code stage} and the job labels. */
  public List<String> labels() {
    return labels;
  }

  /**
   * Returns every label name some series uses: {@code stage} and each family's own labels. A job
   * label with one of these names would collide with a series' label and break every scrape.
   *
   * @return an ordered, unmodifiable set
   */
  public static Set<String> reservedLabelNames() {
    Set<String> all = new LinkedHashSet<>();
    all.add(STAGE);
    all.add(RUN_ID);
    for (MetricFamily f : values()) {
      all.addAll(f.labels);
    }
    return Collections.unmodifiableSet(all);
  }
}

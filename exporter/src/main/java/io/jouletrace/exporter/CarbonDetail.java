package io.jouletrace.exporter;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the carbon stage adds to a snapshot besides each phase's grams: the intensity segments it
 * charged energy at, the market-based figure, the embodied assumptions, the work units and the
 * steady-state figures per phase, and what the carbon statement names (hardware, location).
 *
 * @param segments every intensity segment energy was charged at, in time order
 * @param zone the grid zone (e.g. {@code DE}), or {@code null} when none was configured
 * @param factorType {@code lifecycle} or {@code direct} (Electricity Maps' emission factor type);
 *     {@code lifecycle} for tables and fixed values
 * @param timeWeightedIntensity the intensity averaged over the run's wall time, gCO2e per kWh
 * @param market the market-based basis, or {@code null} when none was configured
 * @param embodied the embodied carbon's terms
 * @param phases per phase name: market-based grams, work units and steady-state figures
 * @param warmupSeconds seconds at the start of the run left out of the per-unit figures
 * @param hardware what the job ran on
 * @param trainingType Hugging Face {@code training_type} (e.g. {@code pre-training})
 */
public record CarbonDetail(
    List<IntensitySegment> segments,
    String zone,
    String factorType,
    double timeWeightedIntensity,
    Market market,
    Embodied embodied,
    Map<String, PhaseExtra> phases,
    double warmupSeconds,
    Hardware hardware,
    String trainingType) {

  public CarbonDetail {
    segments = List.copyOf(segments);
    phases = Map.copyOf(phases);
  }

  /**
   * One stretch of time during which energy was charged at one intensity.
   *
   * @param from start (wall clock)
   * @param to end (wall clock)
   * @param gramsPerKwh grid intensity, gCO2e per kWh
   * @param source where the figure came from, with any fallback named
   * @param factorType {@code lifecycle} or {@code direct}
   * @param estimated whether the provider marked the figure as estimated
   * @param joules IT energy charged in the segment (before PUE)
   */
  public record IntensitySegment(
      Instant from,
      Instant to,
      double gramsPerKwh,
      String source,
      String factorType,
      boolean estimated,
      double joules) {}

  /**
   * The market-based (GHG Protocol Scope 2) basis.
   *
   * @param gramsPerKwh the supplier or residual-mix factor, or NaN when the location-based
   *     intensity is used
   * @param renewableShare fraction of the energy covered by renewable contracts (0 when not set)
   * @param description how the figure is formed, in words
   */
  public record Market(double gramsPerKwh, double renewableShare, String description) {}

  /**
   * The SCI embodied term {@code M = TE x (TiR / EL) x (RR / ToR)}.
   *
   * @param serverKg TE of the machine without GPUs, kg CO2e
   * @param serverSource where that figure comes from
   * @param gpus the GPUs used, with their figure and source
   * @param lifetimeYears EL
   * @param utilization fraction of EL the hardware is busy
   */
  public record Embodied(
      double serverKg,
      String serverSource,
      List<GpuEmbodied> gpus,
      double lifetimeYears,
      double utilization) {

    public Embodied {
      gpus = List.copyOf(gpus);
    }
  }

  /**
   * One GPU's embodied figure.
   *
   * @param device device id
   * @param model model name from NVML
   * @param kg TE, kg CO2e
   * @param source where the figure comes from
   * @param meanShare the job's mean share of the GPU over the run (RR / ToR)
   */
  public record GpuEmbodied(
      String device, String model, double kg, String source, double meanShare) {}

  /**
   * What a phase adds to its {@link EnergySnapshot.PhaseEnergy}.
   *
   * @param marketGrams market-based operational grams CO2e (0 when no market basis)
   * @param units work units counted in the phase, by unit name
   * @param steadyUnits the same, after the warm-up
   * @param steadySeconds the phase's wall time after the warm-up
   * @param steadyJoules the phase's energy after the warm-up
   * @param steadyGrams the phase's location-based operational plus embodied grams after the warm-up
   */
  public record PhaseExtra(
      double marketGrams,
      Map<String, Long> units,
      Map<String, Long> steadyUnits,
      double steadySeconds,
      double steadyJoules,
      double steadyGrams) {

    public PhaseExtra {
      units = Map.copyOf(units);
      steadyUnits = Map.copyOf(steadyUnits);
    }
  }

  /**
   * What the job ran on.
   *
   * @param cpuModel CPU model name
   * @param sockets CPU packages
   */
  public record Hardware(String cpuModel, int sockets) {}
}

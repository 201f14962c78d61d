package io.jouletrace.agent.carbon;

import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.Key;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.timeline.AttributionListener;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Domain;
import java.util.ArrayList;
import java.util.List;

/**
 * The carbon stage, after attribution: turns the joules and seconds the ledger hands each phase
 * into grams CO2e, window by window, with one {@link CarbonFactors} record.
 *
 * <ul>
 *   <li>Operational: kWh x PUE x grid intensity, for each window's energy.
 *   <li>Embodied: the hardware's manufacturing carbon amortised over its busy lifetime, for each
 *       second of the phase's wall time, weighted by the job's share of the machine and of each GPU
 *       (see {@link CarbonFactors#embodiedGramsPerSecond}).
 * </ul>
 *
 * <p>Fed on the sampler thread through {@link AttributionListener}; read by scrapes and at exit.
 */
public final class CarbonStage implements AttributionListener {

  private final CarbonFactors factors;
  private final PhaseRegistry registry;
  private final double[] operational;
  private final double[] embodied;

  /**
   * Creates the stage.
   *
   * @param factors the factors used for every window
   * @param registry phase names
   * @param maxPhases capacity of {@code registry}
   */
  public CarbonStage(CarbonFactors factors, PhaseRegistry registry, int maxPhases) {
    this.factors = factors;
    this.registry = registry;
    this.operational = new double[Math.max(2, maxPhases)];
    this.embodied = new double[operational.length];
  }

  /**
   * The factors of a configuration: one record for the computation and the report.
   *
   * @param config the configuration
   * @return the factors
   */
  public static CarbonFactors factors(AgentConfig config) {
    return new CarbonFactors(
        config.carbonIntensity(),
        config.isSet(Key.CARBON_INTENSITY) ? "config" : "default: world average (CodeCarbon)",
        config.pue(),
        config.embodiedKg(),
        config.embodiedGpuKg(),
        config.embodiedLifetime().toSeconds() / (365 * 86400.0),
        config.embodiedUtilization());
  }

  /** Returns the factors in use. */
  public CarbonFactors factors() {
    return factors;
  }

  @Override
  public synchronized void energy(int phase, Domain domain, double joules, long from, long to) {
    operational[phase] += joules * factors.gramsPerJoule();
  }

  @Override
  public synchronized void time(
      int phase, double seconds, long from, long to, double machineShare, double gpuShares) {
    embodied[phase] += seconds * factors.embodiedGramsPerSecond(machineShare, gpuShares);
  }

  /**
   * Fills in the grams of every phase of a snapshot.
   *
   * @param s a snapshot from the ledger
   * @return the snapshot with carbon
   */
  public synchronized EnergySnapshot apply(EnergySnapshot s) {
    List<PhaseEnergy> out = new ArrayList<>(s.phases().size());
    int n = Math.min(registry.size(), operational.length);
    for (PhaseEnergy p : s.phases()) {
      double op = 0;
      double emb = 0;
      for (int id = 0; id < n; id++) {
        if (registry.name(id).equals(p.name())) {
          op = operational[id];
          emb = embodied[id];
          break;
        }
      }
      out.add(p.withGrams(op, emb));
    }
    return s.withCarbon(factors, out);
  }
}

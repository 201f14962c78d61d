package io.jouletrace.agent.carbon;

/**
 * Turns energy and time into grams CO2e, after Wu et al., "Sustainable AI" (2022).
 *
 * <ul>
 *   <li>Operational: kWh x PUE x grid intensity (gCO2e/kWh).
 *   <li>Embodied: the hardware's manufacturing carbon amortised over the time it is busy during its
 *       life, {@code kg x 1000 / (lifetime x utilization)} grams per second of use, charged to the
 *       job for the time it runs. The machine's part is weighted by the job's CPU share, each GPU's
 *       part by the job's share of that GPU (both 1 under {@code attribution=host}).
 * </ul>
 *
 * @param intensityGramsPerKwh grid carbon intensity
 * @param pue power usage effectiveness of the facility
 * @param embodiedKg manufacturing carbon of the machine
 * @param lifetimeSeconds amortisation period
 * @param utilization busy fraction of that period
 * @param gpuKg manufacturing carbon of one GPU board
 */
public record CarbonModel(
    double intensityGramsPerKwh,
    double pue,
    double embodiedKg,
    double lifetimeSeconds,
    double utilization,
    double gpuKg) {

  private static final double JOULES_PER_KWH = 3.6e6;

  /** Returns operational grams CO2e per joule of IT energy. */
  public double gramsPerJoule() {
    return intensityGramsPerKwh * pue / JOULES_PER_KWH;
  }

  /**
   * Returns embodied grams CO2e per second charged to the job.
   *
   * @param machineShare the job's share of the machine (its CPU share), in [0, 1]
   * @param gpuShares the sum over the GPUs in use of the job's share of each
   * @return grams per second
   */
  public double embodiedGramsPerSecond(double machineShare, double gpuShares) {
    return (embodiedKg * machineShare + gpuKg * gpuShares) * 1000 / (lifetimeSeconds * utilization);
  }
}

package io.jouletrace.agent;

/**
 * How many boundary reads the sampler may make in the next interval, so that polling for phase
 * boundaries and reading counters at them costs at most {@link SamplerLimits#BOUNDARY_CPU_SHARE} of
 * a core: halved after an interval that cost more, one more after one that cost less, between 1 and
 * {@link SamplerLimits#MAX_BOUNDARY_READS_PER_TICK}, and never more than the sources' own read cost
 * ({@link io.jouletrace.sources.EnergySource#readCostNanos()}) lets fit in the allowance.
 */
final class BoundaryBudget {

  private final long allowedNanos;
  private int reads = SamplerLimits.MAX_BOUNDARY_READS_PER_TICK;
  private int cap = SamplerLimits.MAX_BOUNDARY_READS_PER_TICK;

  /**
   * @param intervalNanos the sampling interval
   */
  BoundaryBudget(long intervalNanos) {
    this.allowedNanos = (long) (intervalNanos * SamplerLimits.BOUNDARY_CPU_SHARE);
  }

  /** Reads allowed in the current interval. */
  int reads() {
    return reads;
  }

  /**
   * Sets what one boundary read costs, as the sources say: no more reads are allowed than fit in
   * the allowance at that cost.
   *
   * @param nanos the cost of one read of every boundary-readable source; 0 or less when unknown
   */
  void readCost(long nanos) {
    cap =
        nanos <= 0
            ? SamplerLimits.MAX_BOUNDARY_READS_PER_TICK
            : (int)
                Math.max(
                    1, Math.min(SamplerLimits.MAX_BOUNDARY_READS_PER_TICK, allowedNanos / nanos));
    reads = Math.min(reads, cap);
  }

  /**
   * Ends an interval.
   *
   * @param cpuNanos the sampler thread's CPU time between the two ticks, or negative when unknown
   * @param readsMade boundary reads made in it
   */
  void endInterval(long cpuNanos, int readsMade) {
    if (cpuNanos < 0 || readsMade == 0) {
      return; // nothing learnt: no boundary work, or no clock to weigh it with
    }
    reads = cpuNanos > allowedNanos ? Math.max(1, reads / 2) : Math.min(cap, reads + 1);
  }
}

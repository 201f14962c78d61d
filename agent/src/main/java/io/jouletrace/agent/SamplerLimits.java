package io.jouletrace.agent;

/** Limits of the sampler that tests of the attribution reproduce. */
public final class SamplerLimits {

  /**
   * Boundary reads allowed per interval: a job whose phases change every millisecond (DJL's
   * batches) would otherwise have its counters read a thousand times a second. Beyond this, the
   * windows' split by each phase's learnt power keeps short phases apart.
   */
  public static final int MAX_BOUNDARY_READS_PER_TICK = 20;

  private SamplerLimits() {}
}

package io.jouletrace.sources.model;

/**
 * Power model used where no counter exists: CPU power = idle + (max - idle) x utilisation, DRAM
 * power = installed GB x watts per GB.
 *
 * <p>Default coefficients are the Cloud Carbon Footprint methodology's averages for AWS instances:
 * 0.74 W per vCPU at 0 % load, 3.5 W per vCPU at 100 %, and 0.392 W per GB of memory
 * (cloudcarbonfootprint.org, "Methodology", Energy Estimate coefficients).
 *
 * @param cpuIdleWatts whole-host CPU power at 0 % utilisation
 * @param cpuMaxWatts whole-host CPU power at 100 % utilisation (the TDP when known)
 * @param dramWattsPerGb memory power per installed gigabyte
 * @param origin where these figures came from, shown in reports ({@code defaults} or {@code config})
 */
public record ModelParams(
    double cpuIdleWatts, double cpuMaxWatts, double dramWattsPerGb, String origin) {

  /** Idle watts per logical CPU (Cloud Carbon Footprint, AWS average). */
  public static final double IDLE_WATTS_PER_THREAD = 0.74;

  /** Full-load watts per logical CPU (Cloud Carbon Footprint, AWS average). */
  public static final double MAX_WATTS_PER_THREAD = 3.5;

  /** Memory watts per GB (Cloud Carbon Footprint). */
  public static final double DRAM_WATTS_PER_GB = 0.392;

  public ModelParams {
    if (!(cpuIdleWatts >= 0) || !(cpuMaxWatts >= cpuIdleWatts) || !(dramWattsPerGb >= 0)) {
      throw new IllegalArgumentException(
          "power model needs 0 <= cpu.idle <= cpu.tdp and dram.watts-per-gb >= 0, got idle="
              + cpuIdleWatts + " tdp=" + cpuMaxWatts + " dram=" + dramWattsPerGb);
    }
  }

  /**
   * Returns the documented defaults for a host.
   *
   * @param logicalCpus number of logical CPUs
   * @return per-thread coefficients scaled to the host
   */
  public static ModelParams defaults(int logicalCpus) {
    return new ModelParams(
        IDLE_WATTS_PER_THREAD * logicalCpus,
        MAX_WATTS_PER_THREAD * logicalCpus,
        DRAM_WATTS_PER_GB,
        "defaults: Cloud Carbon Footprint per-vCPU " + IDLE_WATTS_PER_THREAD + "-"
            + MAX_WATTS_PER_THREAD + " W x " + logicalCpus + " CPUs, " + DRAM_WATTS_PER_GB + " W/GB");
  }
}

package io.jouletrace.sources.cpu;

/**
 * CPU time of the host and of this process, the inputs of the estimation model and of the process
 * share.
 */
public interface CpuTimes {

  /**
   * Returns host-wide CPU time summed over all logical CPUs.
   *
   * @return busy (everything but idle and iowait) and total time, in milliseconds
   */
  HostTicks host();

  /**
   * Returns CPU time used by this process on all its threads, including native threads the JVM does
   * not list (OpenMP workers, JIT compilers).
   *
   * @return nanoseconds
   */
  long processCpuNanos();

  /** Number of logical CPUs on the host. */
  int logicalCpus();

  /**
   * Host CPU time split into busy and total.
   *
   * @param busyMillis user, nice, system, irq, softirq and steal time
   * @param totalMillis busy plus idle and iowait
   */
  record HostTicks(long busyMillis, long totalMillis) {}
}

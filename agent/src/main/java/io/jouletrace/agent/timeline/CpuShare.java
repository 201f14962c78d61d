package io.jouletrace.agent.timeline;

import io.jouletrace.sources.cpu.CpuTimes;
import io.jouletrace.sources.cpu.CpuTimes.HostTicks;

/**
 * This process's share of the host's busy CPU time per sampling window, used for {@code
 * attribution=process}: the job is charged that fraction of the CPU packages' (and DRAM's) energy,
 * idle power included. Host CPU time comes in 10 ms ticks, so very short windows are noisy; the
 * share is clamped to [0, 1].
 */
public final class CpuShare {

  private final CpuTimes cpu;
  private long lastProcess;
  private HostTicks lastHost;
  private double last = 1.0;

  /**
   * How many of the host's logical CPUs were idle, on average, over the window of the last {@link
   * #next()} call that saw the host's counters move; {@code NaN} before that.
   */
  private double spareCores = Double.NaN;

  public CpuShare(CpuTimes cpu) {
    this.cpu = cpu;
    this.lastProcess = cpu.processCpuNanos();
    this.lastHost = cpu.host();
  }

  /**
   * Returns the share over the window since the previous call.
   *
   * @return a value in [0, 1]
   */
  public double next() {
    long process = cpu.processCpuNanos();
    HostTicks host = cpu.host();
    double processMs = (process - lastProcess) / 1e6;
    long busyMs = host.busyMillis() - lastHost.busyMillis();
    long totalMs = host.totalMillis() - lastHost.totalMillis();
    if (totalMs > 0) {
      spareCores = cpu.logicalCpus() * (double) (totalMs - busyMs) / totalMs;
    }
    lastProcess = process;
    lastHost = host;
    if (busyMs > 0) {
      last = Math.max(0, Math.min(1, processMs / busyMs));
    } else if (processMs <= 0) {
      last = 0;
    }
    // busyMs == 0 but the process ran: tick resolution; keep the previous share.
    return last;
  }

  /**
   * Whether the host had a core to spare over the last window: on average at least one logical CPU
   * idle (half of them on a host with one).
   */
  public boolean spareCore() {
    return spareCores >= Math.min(1.0, cpu.logicalCpus() / 2.0);
  }

  /**
   * How many of the host's logical CPUs were idle, on average, over the last window in which its
   * counters moved.
   *
   * @return cores, or {@code NaN} before the counters first moved
   */
  public double idleCores() {
    return spareCores;
  }
}

package io.jouletrace.sources.cpu;

import java.lang.management.ManagementFactory;
import oshi.SystemInfo;
import oshi.hardware.CentralProcessor;
import oshi.hardware.CentralProcessor.TickType;
import oshi.util.GlobalConfig;

/**
 * {@link CpuTimes} from OSHI (host ticks) and the JVM's process CPU clock.
 *
 * <p>The process clock ({@code OperatingSystemMXBean#getProcessCpuTime}) counts every task of the
 * process in nanoseconds, including the native threads that {@code ThreadMXBean} never lists; OSHI's
 * per-process figure is the same total at 10 ms resolution, so the JVM clock is preferred.
 *
 * <p>OSHI caches system tick counts for 300 ms by default, longer than a sampling interval; this
 * class turns the cache off ({@code oshi.util.memoizer.expiration=0}) before OSHI reads it. The
 * agent carries its own copy of OSHI, so the application's OSHI is not affected.
 */
public final class OshiCpuTimes implements CpuTimes {

  static {
    GlobalConfig.set(GlobalConfig.OSHI_UTIL_MEMOIZER_EXPIRATION, 0);
  }

  private final SystemInfo system;
  private final CentralProcessor processor;
  private final com.sun.management.OperatingSystemMXBean os;

  /** Creates OSHI's {@link SystemInfo} after its tick cache was turned off. */
  public OshiCpuTimes() {
    this.system = new SystemInfo();
    this.processor = system.getHardware().getProcessor();
    this.os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  }

  /** Returns the OSHI entry point, for other system facts (memory, CPU identity). */
  public SystemInfo system() {
    return system;
  }

  @Override
  public HostTicks host() {
    long[] t = processor.getSystemCpuLoadTicks();
    long idle = t[TickType.IDLE.getIndex()] + t[TickType.IOWAIT.getIndex()];
    long total = 0;
    for (long v : t) {
      total += v;
    }
    return new HostTicks(total - idle, total);
  }

  @Override
  public long processCpuNanos() {
    return os.getProcessCpuTime();
  }

  @Override
  public int logicalCpus() {
    return processor.getLogicalProcessorCount();
  }
}

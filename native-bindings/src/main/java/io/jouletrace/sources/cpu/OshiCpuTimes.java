package io.jouletrace.sources.cpu;

import java.lang.management.ManagementFactory;
import oshi.PlatformEnum;
import oshi.SystemInfo;
import oshi.driver.linux.proc.Auxv;
import oshi.driver.linux.proc.CpuStat;
import oshi.hardware.CentralProcessor;
import oshi.hardware.CentralProcessor.TickType;
import oshi.util.GlobalConfig;

/**
 * {@link CpuTimes} from OSHI (host ticks) and the JVM's process CPU clock.
 *
 * <p>The process clock ({@code OperatingSystemMXBean#getProcessCpuTime}) counts every task of the
 * process in nanoseconds, including the native threads that {@code ThreadMXBean} never lists;
 * OSHI's per-process figure is the same total at 10 ms resolution, so the JVM clock is preferred.
 *
 * <p>OSHI caches system tick counts for 300 ms by default, longer than a sampling interval; this
 * class turns the cache off ({@code oshi.util.memoizer.expiration=0}) before OSHI reads it. The
 * agent carries its own copy of OSHI, so the application's OSHI is not affected.
 *
 * <p>On Linux the host ticks come from OSHI's {@code /proc/stat} driver, converted to milliseconds
 * with the kernel's tick rate ({@code AT_CLKTCK}), as OSHI's processor does: building OSHI's {@link
 * CentralProcessor} (CPU identity, topology, caches) takes over 100 ms of CPU at start-up, and only
 * the estimation model and {@code probe} need it, so it is built on first use.
 */
public final class OshiCpuTimes implements CpuTimes {

  static {
    GlobalConfig.set(GlobalConfig.OSHI_UTIL_MEMOIZER_EXPIRATION, 0);
  }

  private final SystemInfo system;
  private final boolean linux;
  private final long hz;
  private final com.sun.management.OperatingSystemMXBean os;

  /** Creates OSHI's {@link SystemInfo} after its tick cache was turned off. */
  public OshiCpuTimes() {
    this.system = new SystemInfo();
    this.linux = SystemInfo.getCurrentPlatform() == PlatformEnum.LINUX;
    this.hz = linux ? clockTicksPerSecond() : 0;
    this.os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  }

  private static long clockTicksPerSecond() {
    try {
      Long hz = Auxv.queryAuxv().get(Auxv.AT_CLKTCK);
      return hz != null && hz > 0 ? hz : 100;
    } catch (RuntimeException | LinkageError e) {
      return 100; // USER_HZ on every mainstream Linux architecture
    }
  }

  /** OSHI's processor (identity, topology), built on first use. */
  public CentralProcessor processor() {
    return system.getHardware().getProcessor(); // memoized by OSHI
  }

  /** Returns the OSHI entry point, for other system facts (memory, CPU identity). */
  public SystemInfo system() {
    return system;
  }

  @Override
  public HostTicks host() {
    long[] t = linux ? linuxTicksMillis() : processor().getSystemCpuLoadTicks();
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
    return processor().getLogicalProcessorCount();
  }

  private long[] linuxTicksMillis() {
    long[] t = CpuStat.getSystemCpuLoadTicks();
    long sum = 0;
    for (long v : t) {
      sum += v;
    }
    if (sum == 0) {
      t = CpuStat.getSystemCpuLoadTicks(); // a torn read of /proc/stat: once more, as OSHI does
    }
    for (int i = 0; i < t.length; i++) {
      t[i] = t[i] * 1000 / hz;
    }
    return t;
  }
}

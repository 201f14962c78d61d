package io.jouletrace.sources.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.junit.jupiter.api.Test;
import oshi.PlatformEnum;
import oshi.SystemInfo;
import oshi.hardware.CentralProcessor.TickType;

class OshiCpuTimesTest {

  /**
   * OSHI caches host ticks for 300 ms unless told otherwise; a 100 ms sampling interval would then
   * see no load in two windows out of three. Two reads 120 ms apart around busy work must differ.
   */
  @Test
  void hostTicksAreFreshAtSamplingIntervals() {
    OshiCpuTimes cpu = new OshiCpuTimes();
    CpuTimes.HostTicks first = cpu.host();
    long cpuBefore = cpu.processCpuNanos();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long threadBefore = threads.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    double x = 0;
    while (System.nanoTime() - start < 120_000_000L) {
      x += Math.sqrt(x + 1);
    }
    long threadCpu = threads.getCurrentThreadCpuTime() - threadBefore;
    CpuTimes.HostTicks second = cpu.host();
    assertThat(x).isPositive();
    assertThat(second.totalMillis()).isGreaterThan(first.totalMillis());
    assertThat(second.busyMillis()).isGreaterThan(first.busyMillis());
    // The process used at least what this thread used in the loop, as the JVM counts it (not a
    // share of the 120 ms hoped for: on a loaded machine the loop may get little of a CPU); the
    // process figure comes in clock ticks of 10 ms.
    assertThat(cpu.processCpuNanos() - cpuBefore)
        .as("this thread used %d ns in the loop", threadCpu)
        .isGreaterThanOrEqualTo(threadCpu - 20_000_000L);
    assertThat(cpu.logicalCpus()).isPositive();
  }

  /**
   * On Linux the host ticks are read without OSHI's processor; they must be the processor's figures
   * (milliseconds since boot, idle and busy), read a moment apart.
   */
  @Test
  void linuxHostTicksAreThoseOfOshisProcessor() {
    assumeTrue(SystemInfo.getCurrentPlatform() == PlatformEnum.LINUX);
    OshiCpuTimes cpu = new OshiCpuTimes();
    int cpus = cpu.logicalCpus(); // builds the processor before the two reads
    long[] oshi = cpu.processor().getSystemCpuLoadTicks();
    CpuTimes.HostTicks ours = cpu.host();
    long total = 0;
    for (long v : oshi) {
      total += v;
    }
    long idle = oshi[TickType.IDLE.getIndex()] + oshi[TickType.IOWAIT.getIndex()];
    assertThat(total).isGreaterThan(0);
    // a few 10 ms ticks per CPU may pass between the two reads
    assertThat(ours.totalMillis()).isCloseTo(total, within(100L * cpus));
    assertThat(ours.busyMillis()).isCloseTo(total - idle, within(100L * cpus));
  }
}

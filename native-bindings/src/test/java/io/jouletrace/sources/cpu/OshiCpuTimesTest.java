package io.jouletrace.sources.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import oshi.PlatformEnum;
import oshi.SystemInfo;
import oshi.hardware.CentralProcessor.TickType;

class OshiCpuTimesTest {

  /**
   * OSHI caches host ticks for 300 ms unless told otherwise; a 100 ms sampling interval would then
   * see no load in two windows out of three. Two reads around 120 ms of this thread's CPU work
   * (counted in CPU time, not wall time, so that a loaded machine only makes it take longer) must
   * differ.
   */
  @Test
  void hostTicksAreFreshAtSamplingIntervals() {
    OshiCpuTimes cpu = new OshiCpuTimes();
    CpuTimes.HostTicks first = cpu.host();
    long cpuBefore = cpu.processCpuNanos();
    long deadline = System.nanoTime() + 30_000_000_000L;
    double x = 0;
    while (cpu.processCpuNanos() - cpuBefore < 120_000_000L && System.nanoTime() < deadline) {
      for (int i = 0; i < 100_000; i++) {
        x += Math.sqrt(x + 1);
      }
    }
    CpuTimes.HostTicks second = cpu.host();
    assertThat(x).isPositive();
    assertThat(cpu.processCpuNanos() - cpuBefore).isGreaterThanOrEqualTo(120_000_000L);
    assertThat(second.totalMillis()).isGreaterThan(first.totalMillis());
    assertThat(second.busyMillis()).isGreaterThan(first.busyMillis());
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

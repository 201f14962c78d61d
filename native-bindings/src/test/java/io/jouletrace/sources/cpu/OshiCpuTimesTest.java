package io.jouletrace.sources.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

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
    long start = System.nanoTime();
    double x = 0;
    while (System.nanoTime() - start < 120_000_000L) {
      x += Math.sqrt(x + 1);
    }
    CpuTimes.HostTicks second = cpu.host();
    assertThat(x).isPositive();
    assertThat(second.totalMillis()).isGreaterThan(first.totalMillis());
    assertThat(second.busyMillis()).isGreaterThan(first.busyMillis());
    assertThat(cpu.processCpuNanos() - cpuBefore).isGreaterThan(50_000_000L);
    assertThat(cpu.logicalCpus()).isPositive();
  }
}

package io.jouletrace.sources.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.sources.cpu.CpuTimes;
import org.junit.jupiter.api.Test;

class ModelSourceTest {

  /** Scripted host: busy and total milliseconds and a clock, all set by the test. */
  static final class FakeCpu implements CpuTimes {
    long busy;
    long total;

    @Override
    public HostTicks host() {
      return new HostTicks(busy, total);
    }

    @Override
    public long processCpuNanos() {
      return 0;
    }

    @Override
    public int logicalCpus() {
      return 4;
    }
  }

  @Test
  void integratesLinearModelOverScriptedLoad() {
    FakeCpu cpu = new FakeCpu();
    long[] clock = {0};
    ModelParams p = new ModelParams(10, 50, 0.5, "test");
    ModelSource s = new ModelSource(cpu, p, 16, () -> clock[0]);
    assertThat(s.devices()).allSatisfy(d -> assertThat(d.measured()).isFalse());

    // 2 s at 25 % load on 4 CPUs: 8000 ms total ticks, 2000 busy
    cpu.total = 8000;
    cpu.busy = 2000;
    clock[0] = 2_000_000_000L;
    double[] j = new double[2];
    s.sample(j);
    assertThat(j[0]).isCloseTo((10 + 40 * 0.25) * 2, within(1e-9)); // 40 J
    assertThat(j[1]).isCloseTo(16 * 0.5 * 2, within(1e-9)); // 16 J

    // 1 s fully busy
    cpu.total += 4000;
    cpu.busy += 4000;
    clock[0] += 1_000_000_000L;
    s.sample(j);
    assertThat(j[0]).isCloseTo(40 + 50, within(1e-9));
    assertThat(j[1]).isCloseTo(16 + 8, within(1e-9));
  }

  @Test
  void defaultsScaleCloudCarbonFootprintCoefficientsByThreads() {
    ModelParams d = ModelParams.defaults(8);
    assertThat(d.cpuIdleWatts()).isCloseTo(0.74 * 8, within(1e-12));
    assertThat(d.cpuMaxWatts()).isCloseTo(3.5 * 8, within(1e-12));
    assertThat(d.dramWattsPerGb()).isEqualTo(0.392);
    assertThatThrownBy(() -> new ModelParams(20, 10, 0, "x"))
        .hasMessageContaining("cpu.idle <= cpu.tdp");
  }
}

package io.jouletrace.sources.msr;

import static io.jouletrace.sources.msr.MsrFakes.AMD_CORE;
import static io.jouletrace.sources.msr.MsrFakes.AMD_PKG;
import static io.jouletrace.sources.msr.MsrFakes.AMD_UNITS;
import static io.jouletrace.sources.msr.MsrFakes.cpu;
import static io.jouletrace.sources.msr.MsrFakes.get32;
import static io.jouletrace.sources.msr.MsrFakes.msr;
import static io.jouletrace.sources.msr.MsrFakes.put;
import static io.jouletrace.sources.msr.MsrFakes.units;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.sources.Domain;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MsrAmdTest {

  private final MsrFakes.Recorder diag = new MsrFakes.Recorder();

  @Test
  void zenCountsThePackageAndKeepsTheCoreAsDetail(@TempDir Path tmp) throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    for (int c = 0; c < 2; c++) {
      cpu(sys, c, 0);
      msr(dev, c, AMD_PKG + 8); // about 3.2 GB, sparse
    }
    Path f = dev.resolve("0/msr");
    // In a plain file the three AMD registers share bytes (see MsrFakes): units first, then the
    // package, which leaves the units' ESU byte alone and makes the core register
    // 0x10 | package << 8, so the core always moves 256 times as much as the package.
    put(f, AMD_UNITS, units(16));
    put(f, AMD_PKG, 123_456L);
    long coreBefore = get32(f, AMD_CORE);
    assertThat(coreBefore).isNotZero();

    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.AMD_ZEN, diag)) {
      assertThat(s.devices())
          .singleElement()
          .satisfies(
              d -> {
                assertThat(d.id()).isEqualTo("package-0");
                assertThat(d.domain()).isEqualTo(Domain.CPU);
                assertThat(d.source()).isEqualTo("rapl-msr");
                assertThat(d.detail()).containsEntry("cpu", "0").containsEntry("msr", "0xC001029B");
              });
      double unit = Math.pow(0.5, 16);
      put(f, AMD_PKG, 123_456L + 655_360L);
      long coreAfter = get32(f, AMD_CORE);
      assertThat(coreAfter - coreBefore).isGreaterThan(655_360L);
      double[] j = new double[1];
      s.sample(j);
      assertThat(j[0]).isCloseTo(655_360L * unit, within(1e-12)); // 10 J
      assertThat(s.detailJoules()).containsOnlyKeys("package-0/core");
      assertThat(s.detailJoules().get("package-0/core"))
          .isCloseTo((coreAfter - coreBefore) * unit, within(1e-9));
      // ESU = 16 (15.3 uJ): 65536 J wrap at 200 W every 327.68 s, the ~5.5 min of AMD EPYC.
      assertThat(s.maxSafeIntervalNanos(200))
          .isCloseTo((long) (Math.pow(2, 32) * unit / 200 * 1e9), within(1000L));
    }
    assertThat(diag.calls).isEmpty();
  }
}

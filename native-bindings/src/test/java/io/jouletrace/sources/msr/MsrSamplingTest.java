package io.jouletrace.sources.msr;

import static io.jouletrace.sources.msr.MsrFakes.INTEL_DRAM;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_FILE_LENGTH;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_PKG;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_UNITS;
import static io.jouletrace.sources.msr.MsrFakes.cpu;
import static io.jouletrace.sources.msr.MsrFakes.msr;
import static io.jouletrace.sources.msr.MsrFakes.put;
import static io.jouletrace.sources.msr.MsrFakes.truncate;
import static io.jouletrace.sources.msr.MsrFakes.units;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MsrSamplingTest {

  private static final double UNIT = Math.pow(0.5, 14);

  private final MsrFakes.Recorder diag = new MsrFakes.Recorder();

  @TempDir Path tmp;
  private Path dev;
  private Path sys;
  private Path f;

  @BeforeEach
  void intelSingleSocket() throws Exception {
    dev = tmp.resolve("dev-cpu");
    sys = tmp.resolve("sys-cpu");
    cpu(sys, 0, 0);
    f = msr(dev, 0, INTEL_FILE_LENGTH);
    put(f, INTEL_UNITS, units(14));
  }

  @Test
  void thirtyTwoBitWrapIsUndonePerRegister() throws Exception {
    long before = 0xFFFF_F000L;
    long after = 0x0000_0800L;
    put(f, INTEL_PKG, before);
    put(f, INTEL_DRAM, 1_000L);
    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag)) {
      put(f, INTEL_PKG, after); // wrapped: 0x1000 steps to the top, then 0x800
      put(f, INTEL_DRAM, 3_000L); // did not wrap
      double[] j = new double[2];
      s.sample(j);
      double wrapped = ((1L << 32) - before + after) * UNIT;
      assertThat(wrapped).isCloseTo(0x1800 * UNIT, within(1e-12));
      assertThat(j[0]).isCloseTo(wrapped, within(1e-12));
      assertThat(j[1]).isCloseTo(2_000L * UNIT, within(1e-12));

      put(f, INTEL_PKG, after + 4_096L);
      put(f, INTEL_DRAM, 500L); // now the dram counter wraps on its own
      s.sample(j);
      assertThat(j[0]).isCloseTo(wrapped + 4_096L * UNIT, within(1e-12));
      assertThat(j[1]).isCloseTo((2_000L + (1L << 32) - 3_000L + 500L) * UNIT, within(1e-9));
    }
    assertThat(diag.calls).isEmpty();
  }

  @Test
  void readFailureKeepsEnergyWarnsOnceAndCarriesEnergyOver() throws Exception {
    put(f, INTEL_PKG, 10_000L);
    put(f, INTEL_DRAM, 20_000L);
    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag)) {
      double[] j = new double[2];
      put(f, INTEL_PKG, 26_384L);
      put(f, INTEL_DRAM, 21_000L);
      s.sample(j);
      double pkg = 16_384L * UNIT;
      double dram = 1_000L * UNIT;
      assertThat(j).containsExactly(new double[] {pkg, dram}, within(1e-12));

      truncate(f, INTEL_PKG); // the file now ends where the package register starts
      for (int i = 0; i < 5; i++) {
        s.sample(j);
        assertThat(j).containsExactly(new double[] {pkg, dram}, within(1e-12));
      }
      // The source itself reports a failing register once, not once per sample.
      assertThat(diag.count("rapl-msr.read.package-0")).isEqualTo(1);
      assertThat(diag.count("rapl-msr.read.dram-0")).isEqualTo(1);
      // The detail registers, read when their joules are asked for (not at each sample), lie
      // beyond the cut as well, and are reported once each too.
      assertThat(diag.count("rapl-msr.read.package-0/pp0")).isZero();
      s.detailJoules();
      s.detailJoules();
      assertThat(diag.count("rapl-msr.read.package-0/pp0")).isEqualTo(1);
      assertThat(diag.calls).hasSize(5);
      assertThat(diag.calls.get(0))
          .contains(f.toString(), "0x611", "package-0", "short read: 0 of 8 bytes", "carried over");

      // It comes back: everything since the last good read is counted.
      truncate(f, INTEL_FILE_LENGTH);
      put(f, INTEL_UNITS, units(14));
      put(f, INTEL_PKG, 26_384L + 8_192L);
      put(f, INTEL_DRAM, 21_000L + 512L);
      s.sample(j);
      assertThat(j)
          .containsExactly(new double[] {pkg + 8_192L * UNIT, dram + 512L * UNIT}, within(1e-12));
      assertThat(diag.calls).hasSize(5);
    }
  }

  @Test
  void readShorterThanEightBytesIsAFailureWithAClearMessage() throws Exception {
    put(f, INTEL_PKG, 10_000L);
    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag)) {
      truncate(f, INTEL_PKG + 4); // half a register
      double[] j = new double[2];
      s.sample(j);
      assertThat(j).containsExactly(0.0, 0.0);
      assertThat(diag.calls)
          .filteredOn(c -> c.startsWith("rapl-msr.read.package-0|"))
          .singleElement()
          .asString()
          .contains(f.toString(), "register 0x611", "short read: 4 of 8 bytes");
    }
  }

  @Test
  void sampleAfterCloseNeitherThrowsNorLosesEnergy() throws Exception {
    put(f, INTEL_PKG, 0L);
    RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag);
    double[] j = new double[2];
    put(f, INTEL_PKG, 1_000L);
    s.sample(j);
    s.close();
    s.close(); // twice is fine
    put(f, INTEL_PKG, 2_000L);
    s.sample(j);
    assertThat(j[0]).isCloseTo(1_000L * UNIT, within(1e-12));
    assertThat(diag.calls).anySatisfy(c -> assertThat(c).contains("ClosedChannelException"));
  }
}

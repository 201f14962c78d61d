package io.jouletrace.sources.msr;

import static io.jouletrace.sources.msr.MsrFakes.INTEL_DRAM;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_FILE_LENGTH;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_PKG;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_PLATFORM;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_PP0;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_PP1;
import static io.jouletrace.sources.msr.MsrFakes.INTEL_UNITS;
import static io.jouletrace.sources.msr.MsrFakes.cpu;
import static io.jouletrace.sources.msr.MsrFakes.msr;
import static io.jouletrace.sources.msr.MsrFakes.put;
import static io.jouletrace.sources.msr.MsrFakes.units;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.cpu.CpuIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MsrIntelTest {

  private final MsrFakes.Recorder diag = new MsrFakes.Recorder();

  @TempDir Path tmp;

  @Test
  void singleSocketCountsPackageAndDramAndKeepsPlanesAsDetail(@TempDir Path tmp) throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    for (int c = 0; c < 4; c++) {
      cpu(sys, c, 0);
      msr(dev, c, INTEL_FILE_LENGTH);
    }
    Path f = dev.resolve("0/msr");
    put(f, INTEL_UNITS, units(14));
    // Bits 63:32 of the energy registers are reserved; set them to prove they are ignored.
    long high = 0x5A5A_0000_0000_0000L;
    put(f, INTEL_PKG, high | 1_000_000L);
    put(f, INTEL_DRAM, high | 40_000L);
    put(f, INTEL_PP0, 600_000L);
    put(f, INTEL_PP1, 7L);
    put(f, INTEL_PLATFORM, 2_000_000L);

    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag)) {
      assertThat(s.name()).isEqualTo("rapl-msr");
      assertThat(s.devices()).extracting(Device::id).containsExactly("package-0", "dram-0");
      assertThat(s.devices()).extracting(Device::domain).containsExactly(Domain.CPU, Domain.DRAM);
      assertThat(s.devices())
          .allSatisfy(
              d -> {
                assertThat(d.source()).isEqualTo("rapl-msr");
                assertThat(d.measured()).isTrue();
                assertThat(d.detail()).containsEntry("cpu", "0");
              });

      double unit = Math.pow(0.5, 14);
      put(f, INTEL_PKG, 0x0123_0000_0000_0000L | 1_163_840L);
      put(f, INTEL_DRAM, 48_192L);
      put(f, INTEL_PP0, 700_000L); // planes move by more than the package: must not be added
      put(f, INTEL_PP1, 1007L);
      put(f, INTEL_PLATFORM, 2_500_000L);
      double[] j = new double[2];
      s.sample(j);
      assertThat(j[0]).isCloseTo((1_163_840L - 1_000_000L) * unit, within(1e-12));
      assertThat(j[1]).isCloseTo((48_192L - 40_000L) * unit, within(1e-12));
      assertThat(s.detailJoules())
          .containsOnlyKeys("package-0/pp0", "package-0/pp1", "package-0/platform");
      assertThat(s.detailJoules().get("package-0/pp0"))
          .isCloseTo((700_000L - 600_000L) * unit, within(1e-12));
      assertThat(s.detailJoules().get("package-0/pp1")).isCloseTo(1000 * unit, within(1e-12));
      assertThat(s.detailJoules().get("package-0/platform"))
          .isCloseTo((2_500_000L - 2_000_000L) * unit, within(1e-12));

      double[] again = new double[2];
      s.sample(again); // nothing moved
      assertThat(again).containsExactly(j, within(0.0));
    }
    assertThat(diag.calls).isEmpty();
  }

  @Test
  void twoSocketsReadTheFirstCpuOfEachPackageOnly(@TempDir Path tmp) throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    // Real trees also hold cpufreq/, cpuidle/ and files such as "online" and "possible".
    Files.createDirectories(sys.resolve("cpufreq"));
    Files.createDirectories(sys.resolve("cpuidle"));
    Files.writeString(sys.resolve("possible"), "0-7\n");
    for (int c = 7; c >= 0; c--) { // created out of order on purpose
      cpu(sys, c, c < 4 ? 0 : 1);
      Path f = msr(dev, c, INTEL_FILE_LENGTH);
      // Siblings hold different, moving values: if they were read, the totals would be off.
      put(f, INTEL_UNITS, units(c == 0 || c == 4 ? 14 : 10));
      put(f, INTEL_PKG, 1000L * c);
      put(f, INTEL_DRAM, 1000L * c);
    }
    Path cpu0 = dev.resolve("0/msr");
    Path cpu4 = dev.resolve("4/msr");
    put(cpu0, INTEL_PKG, 10_000L);
    put(cpu0, INTEL_DRAM, 20_000L);
    put(cpu4, INTEL_PKG, 30_000L);
    put(cpu4, INTEL_DRAM, 40_000L);

    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag)) {
      assertThat(s.devices())
          .extracting(Device::id)
          .containsExactly("package-0", "dram-0", "package-1", "dram-1");
      assertThat(s.devices())
          .extracting(d -> d.detail().get("cpu"))
          .containsExactly("0", "0", "4", "4");

      for (int c = 0; c < 8; c++) {
        if (c != 0 && c != 4) {
          put(dev.resolve(c + "/msr"), INTEL_PKG, 9_999_999L);
          put(dev.resolve(c + "/msr"), INTEL_DRAM, 9_999_999L);
        }
      }
      put(cpu0, INTEL_PKG, 10_000L + 16_384L);
      put(cpu0, INTEL_DRAM, 20_000L + 1_638L);
      put(cpu4, INTEL_PKG, 30_000L + 81_920L);
      put(cpu4, INTEL_DRAM, 40_000L + 4_096L);
      double[] j = new double[4];
      s.sample(j);
      double unit = Math.pow(0.5, 14);
      assertThat(j)
          .containsExactly(
              new double[] {16_384L * unit, 1_638L * unit, 81_920L * unit, 4_096L * unit},
              within(1e-12));
    }
    assertThat(diag.calls).isEmpty();
  }

  @Test
  void offlineFirstCpuIsSkippedForTheNextOnlineOne(@TempDir Path tmp) throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    for (int c = 0; c < 4; c++) {
      cpu(sys, c, c < 2 ? 0 : 1);
    }
    Files.writeString(sys.resolve("cpu2/online"), "0\n"); // offline: no msr file either
    Files.writeString(sys.resolve("cpu3/online"), "1\n");
    for (int c : new int[] {0, 1, 3}) {
      put(msr(dev, c, INTEL_FILE_LENGTH), INTEL_UNITS, units(14));
    }
    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag)) {
      assertThat(s.devices())
          .extracting(d -> d.id() + "@" + d.detail().get("cpu"))
          .containsExactly("package-0@0", "dram-0@0", "package-1@3", "dram-1@3");
    }
  }

  @Test
  void serverDramUnitIsAnOptionAndPackageKeepsTheEsu(@TempDir Path tmp) throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    cpu(sys, 0, 0);
    Path f = msr(dev, 0, INTEL_FILE_LENGTH);
    put(f, INTEL_UNITS, units(14));
    put(f, INTEL_PKG, 100L);
    put(f, INTEL_DRAM, 200L);
    try (RaplMsrSource s =
        RaplMsrSource.open(
            dev,
            sys,
            MsrFakes.INTEL_CLIENT,
            OptionalDouble.of(RaplMsrSource.SERVER_DRAM_UNIT_JOULES),
            diag)) {
      put(f, INTEL_PKG, 100L + 65_536L);
      put(f, INTEL_DRAM, 200L + 65_536L);
      double[] j = new double[2];
      s.sample(j);
      assertThat(j[0]).isCloseTo(65_536L * Math.pow(0.5, 14), within(1e-12)); // 4 J
      assertThat(j[1]).isCloseTo(65_536L * 15.2587890625e-6, within(1e-12)); // 1 J
    }
  }

  /**
   * Regression: DRAM energy through MSR was counted in the units register's ESU on every Intel
   * part, about 4 times too high on servers, whose DRAM counter steps in a fixed 2^-16 J. The
   * models are spelled out here from Intel's family 6 model numbers, not taken from the code under
   * test.
   */
  @ParameterizedTest(name = "{0}: family 6 model {1}, DRAM step {2} J")
  @CsvSource({
    "Haswell-EP, 0x3F, 1.52587890625E-5",
    "Broadwell-EP, 0x4F, 1.52587890625E-5",
    "Skylake-SP and Cascade Lake, 0x55, 1.52587890625E-5",
    "Cascade Lake as OSHI and /proc/cpuinfo spell it, 85, 1.52587890625E-5",
    "Ice Lake-SP, 0x6A, 1.52587890625E-5",
    "Ice Lake-D, 0x6C, 1.52587890625E-5",
    "Sapphire Rapids, 0x8F, 1.52587890625E-5",
    "Emerald Rapids, 0xCF, 1.52587890625E-5",
    "Xeon Phi Knights Landing, 0x57, 1.52587890625E-5",
    "Xeon Phi Knights Mill, 0x85, 1.52587890625E-5",
    "Skylake desktop, 0x5E, 6.103515625E-5",
    "Broadwell-DE, 0x56, 6.103515625E-5",
    "Alder Lake, 0x97, 6.103515625E-5"
  })
  void dramUnitOfIntelServerPartsIsChosenByCpuModel(String part, String model, double dramStep)
      throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    cpu(sys, 0, 0);
    Path f = msr(dev, 0, INTEL_FILE_LENGTH);
    put(f, INTEL_UNITS, units(14));
    put(f, INTEL_PKG, 100L);
    put(f, INTEL_DRAM, 200L);
    CpuIdentity id = CpuIdentity.parse("GenuineIntel", "6", model);
    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, id, diag)) {
      put(f, INTEL_PKG, 100L + 65_536L);
      put(f, INTEL_DRAM, 200L + 65_536L);
      double[] j = new double[2];
      s.sample(j);
      assertThat(j[0]).as(part).isCloseTo(4.0, within(1e-12)); // 65536 steps of 2^-14 J
      assertThat(j[1]).as(part).isCloseTo(65_536L * dramStep, within(1e-12));
      assertThat(s.devices().get(1).detail())
          .containsEntry("unit_joules", Double.toString(dramStep));
    }
    assertThat(diag.calls).isEmpty();
  }

  @Test
  void unknownModelKeepsTheEsuForDramAndSaysSo() throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    cpu(sys, 0, 0);
    put(msr(dev, 0, INTEL_FILE_LENGTH), INTEL_UNITS, units(14));
    try (RaplMsrSource s =
        RaplMsrSource.open(dev, sys, CpuIdentity.parse("GenuineIntel", null, "?"), diag)) {
      assertThat(s.devices().get(1).detail())
          .containsEntry("unit_joules", Double.toString(Math.pow(0.5, 14)));
    }
    assertThat(diag.calls).singleElement().asString().contains("rapl-msr.dram-unit|", "4 times");
  }

  @Test
  void clientPartWithoutDramOrPlanesHasOnlyThePackage(@TempDir Path tmp) throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    cpu(sys, 0, 0);
    Path f = msr(dev, 0, INTEL_PKG + 8); // ends right after the package register
    put(f, INTEL_UNITS, units(14));
    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag)) {
      assertThat(s.devices()).extracting(Device::id).containsExactly("package-0");
      assertThat(s.detailJoules()).isEmpty();
    }
    assertThat(diag.calls).isEmpty();
  }

  @Test
  void maxSafeIntervalFollowsTheSmallestUnitAndTheCounterWidth(@TempDir Path tmp) throws Exception {
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    cpu(sys, 0, 0);
    put(msr(dev, 0, INTEL_FILE_LENGTH), INTEL_UNITS, units(14));
    try (RaplMsrSource s = RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, diag)) {
      // 2^32 steps of 61 uJ = 262144 J; at 200 W that is 1310.72 s (about 21.8 min).
      long expected = (long) (Math.pow(2, 32) * Math.pow(0.5, 14) / 200 * 1e9);
      assertThat(expected).isEqualTo(1_310_720_000_000L);
      assertThat(s.maxSafeIntervalNanos(200)).isCloseTo(expected, within(1000L));
    }
    try (RaplMsrSource s =
        RaplMsrSource.open(
            dev,
            sys,
            MsrFakes.INTEL_CLIENT,
            OptionalDouble.of(RaplMsrSource.SERVER_DRAM_UNIT_JOULES),
            diag)) {
      // The 15.3 uJ DRAM counter wraps 4 times sooner: 65536 J at 200 W is 327.68 s.
      assertThat(s.maxSafeIntervalNanos(200)).isCloseTo(327_680_000_000L, within(1000L));
    }
  }
}

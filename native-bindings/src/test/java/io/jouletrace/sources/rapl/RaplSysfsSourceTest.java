package io.jouletrace.sources.rapl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.SourceUnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RaplSysfsSourceTest {

  // Diagnostics report each key once; keep that contract here.
  private final java.util.Map<String, String> byKey = new java.util.LinkedHashMap<>();
  private final List<String> warnings = new ArrayList<>();

  private static void zone(Path root, String dir, String name, long energy, long max)
      throws IOException {
    Path d = Files.createDirectories(root.resolve(dir));
    Files.writeString(d.resolve("name"), name + "\n");
    Files.writeString(d.resolve("energy_uj"), energy + "\n");
    if (max >= 0) {
      Files.writeString(d.resolve("max_energy_range_uj"), max + "\n");
    }
  }

  private static void set(Path root, String dir, String value) throws IOException {
    Files.writeString(root.resolve(dir).resolve("energy_uj"), value);
  }

  /** Test clock: each sample happens 100 ms after the previous one unless a test says otherwise. */
  private final long[] now = {0};

  private RaplSysfsSource open(Path root) throws SourceUnavailableException {
    return open(root, RaplSysfsSource.FILES);
  }

  private RaplSysfsSource open(Path root, RaplSysfsSource.CounterReader reader)
      throws SourceUnavailableException {
    return RaplSysfsSource.open(
        root,
        (k, m) -> {
          if (byKey.putIfAbsent(k, m) == null) {
            warnings.add(m);
          }
        },
        reader,
        () -> now[0]);
  }

  private void sample(RaplSysfsSource s, double[] j) {
    now[0] += 100_000_000L;
    s.sample(j);
  }

  @Test
  void twoSocketIntelCountsPackagesAndDramOnly(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl:0", "package-0", 1_000_000, 262_143_328_850L);
    zone(root, "intel-rapl:0:0", "core", 500_000, 262_143_328_850L);
    zone(root, "intel-rapl:0:1", "uncore", 100_000, 262_143_328_850L);
    zone(root, "intel-rapl:0:2", "dram", 200_000, 65_712_999_613L);
    zone(root, "intel-rapl:1", "package-1", 3_000_000, 262_143_328_850L);
    zone(root, "intel-rapl:1:0", "dram", 0, 65_712_999_613L);
    zone(root, "intel-rapl:2", "psys", 9_000_000, 262_143_328_850L);

    RaplSysfsSource s = open(root);
    assertThat(s.devices())
        .extracting(Device::id)
        .containsExactly("package-0", "dram-0", "package-1", "dram-1");
    assertThat(s.devices())
        .extracting(Device::domain)
        .containsExactly(Domain.CPU, Domain.DRAM, Domain.CPU, Domain.DRAM);
    assertThat(s.devices())
        .allSatisfy(
            d -> {
              assertThat(d.measured()).isTrue();
              assertThat(d.source()).isEqualTo("rapl-sysfs");
            });

    // +2.5 J, +0.5 J dram, +4 J, +1 J dram; core/uncore/psys move too but must not count.
    set(root, "intel-rapl:0", "3500000");
    set(root, "intel-rapl:0:0", "9999999");
    set(root, "intel-rapl:0:2", "700000");
    set(root, "intel-rapl:1", "7000000");
    set(root, "intel-rapl:1:0", "1000000");
    set(root, "intel-rapl:2", "99000000");
    double[] j = new double[4];
    sample(s, j);
    assertThat(j).containsExactly(new double[] {2.5, 0.5, 4.0, 1.0}, within(1e-12));
    assertThat(warnings).isEmpty();
  }

  @Test
  void amdLayoutWithPackageOnly(@TempDir Path root) throws Exception {
    // AMD Zen through the same powercap driver: package zone(s), no dram.
    zone(root, "intel-rapl:0", "package-0", 10, 65_532_610_987L);
    RaplSysfsSource s = open(root);
    assertThat(s.devices()).extracting(Device::id).containsExactly("package-0");
    set(root, "intel-rapl:0", "65532610000");
    double[] j = new double[1];
    sample(s, j);
    assertThat(j[0]).isCloseTo((65_532_610_000L - 10) * 1e-6, within(1e-9));
  }

  @Test
  void wrapIsUndonePerZoneBeforeSumming(@TempDir Path root) throws Exception {
    long max = 1_000_000; // 1 J range
    zone(root, "intel-rapl:0", "package-0", 900_000, max);
    zone(root, "intel-rapl:1", "package-1", 100_000, 262_143_328_850L);
    RaplSysfsSource s = open(root);
    set(root, "intel-rapl:0", "150000"); // wrapped: 0.1 J to the top, then 0.15 J
    set(root, "intel-rapl:1", "400000");
    double[] j = new double[2];
    sample(s, j);
    assertThat(j[0]).isCloseTo(0.25, within(1e-12));
    assertThat(j[1]).isCloseTo(0.3, within(1e-12));
    set(root, "intel-rapl:0", "650000");
    sample(s, j);
    assertThat(j[0]).isCloseTo(0.75, within(1e-12));
    assertThat(warnings).isEmpty();
  }

  @Test
  void decreaseThatCannotBeAWrapIsAResetNotNegativeEnergy(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl:0", "package-0", 5_000_000, -1); // no max_energy_range_uj
    RaplSysfsSource s = open(root);
    assertThat(warnings).singleElement().asString().contains("max_energy_range_uj");
    set(root, "intel-rapl:0", "6000000");
    double[] j = new double[1];
    sample(s, j);
    assertThat(j[0]).isCloseTo(1.0, within(1e-12));
    set(root, "intel-rapl:0", "100"); // driver reload
    sample(s, j);
    assertThat(j[0]).isCloseTo(1.0, within(1e-12));
    set(root, "intel-rapl:0", "2000100");
    sample(s, j);
    assertThat(j[0]).isCloseTo(3.0, within(1e-12));
    assertThat(warnings).anySatisfy(w -> assertThat(w).contains("reset", "energy_uj"));
  }

  @Test
  void garbageReadKeepsEnergyAndCarriesItOver(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl:0", "package-0", 0, 262_143_328_850L);
    RaplSysfsSource s = open(root);
    double[] j = new double[1];
    set(root, "intel-rapl:0", "1000000");
    sample(s, j);
    set(root, "intel-rapl:0", "");
    sample(s, j);
    assertThat(j[0]).isCloseTo(1.0, within(1e-12));
    set(root, "intel-rapl:0", "not-a-number");
    sample(s, j);
    Files.delete(root.resolve("intel-rapl:0/energy_uj")); // zone disappears
    sample(s, j);
    assertThat(j[0]).isCloseTo(1.0, within(1e-12));
    set(root, "intel-rapl:0", "4000000"); // and comes back
    sample(s, j);
    assertThat(j[0]).isCloseTo(4.0, within(1e-12));
    assertThat(warnings).hasSize(1).first().asString().contains("intel-rapl:0", "carried over");
  }

  @Test
  void missingTreeOrNoCountedZoneIsUnavailableWithReason(@TempDir Path root) throws Exception {
    assertThatThrownBy(() -> open(root.resolve("absent")))
        .isInstanceOf(SourceUnavailableException.class)
        .hasMessageContaining("no RAPL zones");
    zone(root, "intel-rapl:0:0", "core", 0, 1000);
    assertThatThrownBy(() -> open(root))
        .isInstanceOf(SourceUnavailableException.class)
        .hasMessageContaining("no package RAPL zone");
  }

  @Test
  void unreadableCounterAtOpenIsUnavailable(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl:0", "package-0", 0, 1000);
    set(root, "intel-rapl:0", "garbage");
    assertThatThrownBy(() -> open(root))
        .isInstanceOf(SourceUnavailableException.class)
        .hasMessageContaining("intel-rapl:0/energy_uj");
  }

  @Test
  void mmioMirrorIsDetailAndPsysIsNotAddedWhenPackagesExist(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl:0", "package-0", 0, 262_143_328_850L);
    zone(root, "intel-rapl:1", "psys", 0, 262_143_328_850L);
    zone(root, "intel-rapl-mmio:0", "package-0", 0, 262_143_328_850L);
    RaplSysfsSource s = open(root);
    assertThat(s.devices()).extracting(Device::id).containsExactly("package-0");
    set(root, "intel-rapl:0", "2000000");
    set(root, "intel-rapl-mmio:0", "2000000");
    set(root, "intel-rapl:1", "5000000");
    double[] j = new double[1];
    sample(s, j);
    assertThat(j[0]).isCloseTo(2.0, within(1e-12));
    assertThat(s.detailJoules())
        .containsEntry("intel-rapl-mmio:0/package-0", 2.0)
        .containsEntry("intel-rapl:1/psys", 5.0);
    assertThat(warnings).singleElement().asString().contains("mmio mirror", "not added");
  }

  @Test
  void mmioPackageWithoutTwinIsCounted(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl-mmio:0", "package-0", 0, 262_143_328_850L);
    RaplSysfsSource s = open(root);
    assertThat(s.devices()).extracting(Device::id).containsExactly("package-0");
  }

  @Test
  void sameCounterReportedTwiceIsCountedOnce(@TempDir Path root) throws Exception {
    // Some AMD parts expose one package counter under two zones.
    zone(root, "intel-rapl:0", "package-0", 123_456, 65_532_610_987L);
    zone(root, "intel-rapl:1", "package-0", 123_456, 65_532_610_987L);
    RaplSysfsSource s = open(root);
    assertThat(s.devices()).extracting(Device::id).containsExactly("package-0");
    assertThat(warnings).singleElement().asString().contains("same counter as package-0");
  }

  @Test
  void psysIsUsedOnlyWhenNoPackageIsReadable(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl:0", "package-0", 0, 262_143_328_850L);
    zone(root, "intel-rapl:1", "psys", 0, 262_143_328_850L);
    RaplSysfsSource s =
        open(
            root,
            file -> {
              if (file.toString().contains("intel-rapl:0/")) {
                throw new java.nio.file.AccessDeniedException(file.toString());
              }
              return RaplSysfsSource.FILES.read(file);
            });
    assertThat(s.devices()).extracting(Device::id).containsExactly("psys");
    assertThat(s.devices().get(0).domain()).isEqualTo(Domain.CPU);
    assertThat(warnings).anySatisfy(w -> assertThat(w).contains("psys", "whole platform"));
  }

  @Test
  void permissionDeniedNamesTheFileAndTheFixes(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl:0", "package-0", 0, 262_143_328_850L);
    zone(root, "intel-rapl:0:0", "dram", 0, 262_143_328_850L);
    assertThatThrownBy(
            () ->
                open(
                    root,
                    file -> {
                      throw new java.nio.file.AccessDeniedException(file.toString());
                    }))
        .isInstanceOf(SourceUnavailableException.class)
        .hasMessageContaining("energy_uj is not readable by this user")
        .hasMessageContaining("run as root")
        .hasMessageContaining("sudo chmod a+r")
        .hasMessageContaining("RUN+=\"/bin/chmod a+r /sys%p/energy_uj\"")
        .hasMessageContaining("setcap cap_sys_rawio=ep");
  }

  @Test
  void safeReadIntervalFollowsRangeAndObservedPower(@TempDir Path root) throws Exception {
    long range = 4_000_000; // 4 J
    zone(root, "intel-rapl:0", "package-0", 0, range);
    RaplSysfsSource s = open(root);
    // before any observation: 500 W assumed, 4 J wraps in 8 ms, read at least every 4 ms
    assertThat(s.maxSafeIntervalNanos()).isEqualTo(4_000_000L);
    double[] j = new double[1];
    set(root, "intel-rapl:0", "2000000"); // 2 J in 100 ms: 20 W
    sample(s, j);
    // 20 W x 1.5 margin = 30 W: 4 J wraps in 133 ms, read every 66.7 ms
    assertThat(s.maxSafeIntervalNanos()).isCloseTo(66_666_666L, within(2L));
  }

  @Test
  void readsTooFarApartAreReported(@TempDir Path root) throws Exception {
    zone(root, "intel-rapl:0", "package-0", 0, 4_000_000);
    RaplSysfsSource s = open(root);
    double[] j = new double[1];
    set(root, "intel-rapl:0", "3000000"); // 30 W
    sample(s, j);
    now[0] += 1_000_000_000L; // next read 1.1 s later: at 30 W the 4 J counter wrapped 8 times
    set(root, "intel-rapl:0", "1000000");
    sample(s, j);
    assertThat(warnings).anySatisfy(w -> assertThat(w).contains("longer than one wrap period"));
  }

  @Test
  void decreaseImplyingImpossiblePowerIsAReset(@TempDir Path root) throws Exception {
    long range = 262_143_328_850L;
    zone(root, "intel-rapl:0", "package-0", 5_000_000, range);
    RaplSysfsSource s = open(root);
    double[] j = new double[1];
    set(root, "intel-rapl:0", "100"); // as a wrap this would be 262 kJ in 0.1 s
    sample(s, j);
    assertThat(j[0]).isZero();
    assertThat(warnings).singleElement().asString().contains("reset");
  }

  @Test
  void fullServerLayoutCountsEveryJouleOnce(@TempDir Path root) throws Exception {
    long big = 262_143_328_850L;
    zone(root, "intel-rapl:0", "package-0", 10_000_000, big);
    zone(root, "intel-rapl:0:0", "core", 0, big);
    zone(root, "intel-rapl:0:1", "uncore", 0, big);
    zone(root, "intel-rapl:0:2", "dram", 1_000_000, big);
    zone(root, "intel-rapl:1", "package-1", 20_000_000, big);
    zone(root, "intel-rapl:1:0", "dram", 2_000_000, big);
    zone(root, "intel-rapl:2", "psys", 50_000_000, big);
    zone(root, "intel-rapl-mmio:0", "package-0", 10_000_000, big);
    RaplSysfsSource s = open(root);
    // one step: each counted zone advances by a known amount; every other zone moves too
    long[] step = {
      7_500_000, 1_250_000, 4_000_000, 750_000
    }; // package-0, dram-0, package-1, dram-1
    set(root, "intel-rapl:0", Long.toString(10_000_000 + step[0]));
    set(root, "intel-rapl:0:2", Long.toString(1_000_000 + step[1]));
    set(root, "intel-rapl:1", Long.toString(20_000_000 + step[2]));
    set(root, "intel-rapl:1:0", Long.toString(2_000_000 + step[3]));
    set(root, "intel-rapl:0:0", "5000000");
    set(root, "intel-rapl:0:1", "1000000");
    set(root, "intel-rapl:2", "90000000");
    set(root, "intel-rapl-mmio:0", Long.toString(10_000_000 + step[0]));
    double[] j = new double[4];
    sample(s, j);
    assertThat(s.devices())
        .extracting(Device::id)
        .containsExactly("package-0", "dram-0", "package-1", "dram-1");
    double total = 0;
    for (double v : j) {
      total += v;
    }
    double expected = (step[0] + step[1] + step[2] + step[3]) * 1e-6; // 13.5 J
    assertThat(total).isCloseTo(expected, within(1e-12));
    assertThat(s.detailJoules())
        .containsOnlyKeys(
            "intel-rapl:0:0/core",
            "intel-rapl:0:1/uncore",
            "intel-rapl:2/psys",
            "intel-rapl-mmio:0/package-0");
    assertThat(s.detailJoules().get("intel-rapl:2/psys")).isCloseTo(40.0, within(1e-12));
  }
}

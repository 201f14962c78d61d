package io.jouletrace.sources.rapl;

import java.nio.file.Path;

/**
 * One powercap zone as found on disk.
 *
 * @param dir the zone directory, e.g. {@code /sys/class/powercap/intel-rapl:0:1}
 * @param name the content of its {@code name} file, e.g. {@code package-0}, {@code dram}
 * @param packageIndex the {@code N} of {@code intel-rapl:N} or {@code intel-rapl:N:M}
 * @param subZone {@code true} for {@code intel-rapl:N:M}
 * @param maxRangeMicrojoules the {@code max_energy_range_uj} value, or 0 when missing or unreadable
 */
public record RaplZone(
    Path dir, String name, int packageIndex, boolean subZone, long maxRangeMicrojoules) {

  Path energyFile() {
    return dir.resolve("energy_uj");
  }
}

package io.jouletrace.sources.msr;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** Which CPU to read for each physical package, from {@code /sys/devices/system/cpu}. */
final class CpuPackages {

  private CpuPackages() {}

  /**
   * Maps each physical package to its lowest-numbered online CPU.
   *
   * <p>A CPU whose {@code online} file reads {@code 0}, or whose {@code
   * topology/physical_package_id} is missing, unreadable or {@code -1}, is skipped: offline CPUs
   * have no {@code /dev/cpu/N/msr} to read.
   *
   * @param cpuSysfsRoot normally {@code /sys/devices/system/cpu}
   * @return package id to CPU number, sorted by package id; empty when nothing could be read
   */
  static Map<Integer, Integer> firstCpuPerPackage(Path cpuSysfsRoot) {
    Map<Integer, Integer> first = new TreeMap<>();
    if (!Files.isDirectory(cpuSysfsRoot)) {
      return first;
    }
    // No glob and no pattern: both compile a regular expression, at every start where this runs.
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(cpuSysfsRoot)) {
      for (Path dir : entries) {
        int number = cpuNumber(dir.getFileName().toString());
        if (number < 0) {
          continue;
        }
        if ("0".equals(read(dir.resolve("online")))) {
          continue;
        }
        String id = read(dir.resolve("topology").resolve("physical_package_id"));
        int pkg;
        try {
          pkg = id == null ? -1 : Integer.parseInt(id);
        } catch (NumberFormatException e) {
          pkg = -1;
        }
        if (pkg < 0) {
          continue;
        }
        int cpu = number;
        Integer known = first.get(pkg);
        first.put(pkg, known == null ? cpu : Math.min(known, cpu));
      }
    } catch (IOException | RuntimeException e) {
      return first;
    }
    return first;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * The number in a folder name {@code cpu<N>}.
   *
   * @param name the name
   * @return N, or -1 where the name is not {@code cpu} and decimal digits
   */
  static int cpuNumber(String name) {
    if (!name.startsWith("cpu") || name.length() == 3 || name.length() > 12) {
      // "cpu" and 1 to 9 digits; more would overflow an int
      return -1;
    }
    int n = 0;
    for (int i = 3; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }
}

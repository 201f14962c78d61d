package io.jouletrace.sources.msr;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Which CPU to read for each physical package, from {@code /sys/devices/system/cpu}. */
final class CpuPackages {

  private static final Pattern CPU = Pattern.compile("cpu(\\d+)");

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
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(cpuSysfsRoot, "cpu*")) {
      for (Path dir : entries) {
        Matcher m = CPU.matcher(dir.getFileName().toString());
        if (!m.matches()) {
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
        first.merge(pkg, Integer.parseInt(m.group(1)), Math::min);
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
}

package io.jouletrace.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A two-socket powercap tree (7 zones) in a temporary folder, for the RAPL benchmarks. */
final class FakeTree {

  private FakeTree() {}

  static Path create() throws IOException {
    Path root = Files.createTempDirectory("jouletrace-bench-powercap");
    zone(root, "intel-rapl:0", "package-0");
    zone(root, "intel-rapl:0:0", "core");
    zone(root, "intel-rapl:0:1", "uncore");
    zone(root, "intel-rapl:0:2", "dram");
    zone(root, "intel-rapl:1", "package-1");
    zone(root, "intel-rapl:1:0", "dram");
    zone(root, "intel-rapl:2", "psys");
    return root;
  }

  private static void zone(Path root, String dir, String name) throws IOException {
    Path d = Files.createDirectories(root.resolve(dir));
    Files.writeString(d.resolve("name"), name + "\n");
    Files.writeString(d.resolve("energy_uj"), "123456789\n");
    Files.writeString(d.resolve("max_energy_range_uj"), "262143328850\n");
  }
}

package io.jouletrace.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A two-socket powercap tree (7 zones) in a temporary folder, for the RAPL benchmarks.
 *
 * <p>Its counter files are plain files, which the agent opens at each read (a test's writer may
 * rename a new one over them), while it keeps real sysfs files open and reads them again from their
 * start. {@link #create(boolean)} with {@code true} makes each {@code energy_uj} a link to a real
 * sysfs counter (the loopback interface's received bytes), so that a benchmark pays what a read
 * costs on a machine with RAPL.
 */
final class FakeTree {

  /** A sysfs file that holds one counter, present wherever sysfs is mounted. */
  static final Path SYSFS_COUNTER = Path.of("/sys/class/net/lo/statistics/rx_bytes");

  private FakeTree() {}

  static Path create() throws IOException {
    return create(false);
  }

  static Path create(boolean sysfs) throws IOException {
    if (sysfs && !Files.isReadable(SYSFS_COUNTER)) {
      throw new IOException("no sysfs counter to link to: " + SYSFS_COUNTER);
    }
    Path root = Files.createTempDirectory("jouletrace-bench-powercap");
    zone(root, "intel-rapl:0", "package-0", sysfs);
    zone(root, "intel-rapl:0:0", "core", sysfs);
    zone(root, "intel-rapl:0:1", "uncore", sysfs);
    zone(root, "intel-rapl:0:2", "dram", sysfs);
    zone(root, "intel-rapl:1", "package-1", sysfs);
    zone(root, "intel-rapl:1:0", "dram", sysfs);
    zone(root, "intel-rapl:2", "psys", sysfs);
    return root;
  }

  private static void zone(Path root, String dir, String name, boolean sysfs) throws IOException {
    Path d = Files.createDirectories(root.resolve(dir));
    Files.writeString(d.resolve("name"), name + "\n");
    if (sysfs) {
      Files.createSymbolicLink(d.resolve("energy_uj"), SYSFS_COUNTER);
    } else {
      Files.writeString(d.resolve("energy_uj"), "123456789\n");
    }
    Files.writeString(d.resolve("max_energy_range_uj"), "262143328850\n");
  }
}

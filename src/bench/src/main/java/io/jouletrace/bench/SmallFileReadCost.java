package io.jouletrace.bench;

import io.jouletrace.sources.SmallFiles;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What one read of a small procfs or sysfs file costs, opened per read ({@link SmallFiles#head})
 * and kept open ({@link SmallFiles#reread}), in one JVM, alternating, 3 rounds of 50,000 reads
 * each.
 *
 * <pre>
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.SmallFileReadCost \
 *     /sys/devices/system/cpu/online /proc/self/stat
 * </pre>
 */
public final class SmallFileReadCost {

  private SmallFileReadCost() {}

  public static void main(String[] args) throws Exception {
    String[] files = args.length > 0 ? args : new String[] {"/proc/self/stat"};
    int n = 50_000;
    long sink = 0;
    for (String name : files) {
      Path f = Path.of(name);
      for (int round = 0; round < 3; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          sink += SmallFiles.head(f, 1024).length;
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          sink += SmallFiles.reread(f, 1024).length;
        }
        long t2 = System.nanoTime();
        System.out.printf(
            Locale.ROOT,
            "%s: opened per read %.2f us, kept open %.2f us%n",
            f,
            (t1 - t0) / 1e3 / n,
            (t2 - t1) / 1e3 / n);
      }
    }
    if (sink == 42) {
      System.out.println(); // keeps the reads from being optimised away
    }
  }
}

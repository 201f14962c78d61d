package io.jouletrace.bench;

import io.jouletrace.sources.SmallFiles;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * What one read of a small procfs or sysfs file costs, opened per read ({@link SmallFiles#head})
 * and kept open ({@link SmallFiles#reread}), in one JVM, alternating, 3 rounds of 50,000 reads
 * each. With {@code --period-ms P}, each file is read once (kept open) every {@code P} ms, as a
 * sampler reads it, 200 times after 20,000 reads back to back (so that the code is compiled), and
 * the median time of the last 100 reads is printed: a read that comes after the machine did other
 * things or slept costs several times one made back to back.
 *
 * <pre>
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.SmallFileReadCost \
 *     [--period-ms 100] /sys/devices/system/cpu/online /proc/self/stat
 * </pre>
 */
public final class SmallFileReadCost {

  private SmallFileReadCost() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 1 && args[0].equals("--period-ms")) {
      periodic(Long.parseLong(args[1]), Arrays.copyOfRange(args, 2, args.length));
      return;
    }
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

  private static void periodic(long periodMs, String[] names) throws Exception {
    int reads = 200;
    long[][] nanos = new long[names.length][reads];
    Path[] files = new Path[names.length]; // resolved once, as the sources resolve theirs
    long sink = 0;
    for (int f = 0; f < names.length; f++) {
      files[f] = Path.of(names[f]);
      for (int i = 0; i < 20_000; i++) { // compiled first: what is measured is the read
        sink += SmallFiles.reread(files[f], 1024).length;
      }
    }
    for (int r = 0; r < reads; r++) {
      for (int f = 0; f < names.length; f++) {
        long t0 = System.nanoTime();
        sink += SmallFiles.reread(files[f], 1024).length;
        nanos[f][r] = System.nanoTime() - t0;
      }
      Thread.sleep(periodMs);
    }
    for (int f = 0; f < names.length; f++) {
      long[] last = Arrays.copyOfRange(nanos[f], reads / 2, reads);
      Arrays.sort(last);
      System.out.printf(
          Locale.ROOT,
          "%s: kept open, one read every %d ms: median %.1f us (of the last %d reads)%n",
          names[f],
          periodMs,
          last[last.length / 2] / 1e3,
          last.length);
    }
    if (sink == 42) {
      System.out.println();
    }
  }
}

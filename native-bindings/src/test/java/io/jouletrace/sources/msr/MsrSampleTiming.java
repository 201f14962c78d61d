package io.jouletrace.sources.msr;

import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.SampleTiming;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Not a test: prints the median and 99th percentile time of one {@code sample()} of a fake
 * two-package Intel machine (cpus 0-3 on package 0, 4-7 on package 1). Run after {@code mvn -o -f
 * native-bindings/pom.xml test-compile}:
 *
 * <pre>
 * cd native-bindings
 * java -cp target/test-classes:target/classes io.jouletrace.sources.msr.MsrSampleTiming
 * </pre>
 *
 * The fake files live in the page cache, so this measures JouleTrace's and the JDK's overhead (one
 * {@code pread} per register), not the real driver's, whose every read interrupts the target CPU to
 * run {@code rdmsr} there.
 */
final class MsrSampleTiming {

  private MsrSampleTiming() {}

  public static void main(String[] args) throws Exception {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    // Package and DRAM only (files end after 0x619), then with PP0, PP1 and platform as well.
    time("package+dram (4 reads)", MsrFakes.INTEL_DRAM + 8, samples);
    time("+ pp0/pp1/platform (10 reads)", MsrFakes.INTEL_FILE_LENGTH, samples);
  }

  private static void time(String what, long fileLength, int samples) throws Exception {
    Path tmp = Files.createTempDirectory("msr-timing");
    Path dev = tmp.resolve("dev-cpu");
    Path sys = tmp.resolve("sys-cpu");
    for (int c = 0; c < 8; c++) {
      MsrFakes.cpu(sys, c, c < 4 ? 0 : 1);
      Path f = MsrFakes.msr(dev, c, fileLength);
      MsrFakes.put(f, MsrFakes.INTEL_UNITS, MsrFakes.units(14));
    }
    try (RaplMsrSource source =
        RaplMsrSource.open(dev, sys, MsrFakes.INTEL_CLIENT, Diagnostics.NONE)) {
      SampleTiming.report(what, "2 packages", source, samples, samples);
    } finally {
      try (var paths = Files.walk(tmp)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}

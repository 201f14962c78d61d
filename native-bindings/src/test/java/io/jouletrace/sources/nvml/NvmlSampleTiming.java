package io.jouletrace.sources.nvml;

import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.SampleTiming;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Not a test: prints the median and 99th percentile time of one {@code sample()} of 8 fake GPUs,
 * per way of reading them. Run after {@code mvn -o -f native-bindings/pom.xml test-compile}:
 *
 * <pre>
 * cd native-bindings
 * M2=$HOME/.m2/repository
 * CP=target/test-classes:target/classes:$M2/net/java/dev/jna/jna/5.18.1/jna-5.18.1.jar
 * CP=$CP:$M2/org/assertj/assertj-core/3.27.7/assertj-core-3.27.7.jar
 * java -cp $CP io.jouletrace.sources.nvml.NvmlSampleTiming
 * </pre>
 *
 * The fake answers in well under a microsecond, so this measures JouleTrace's and JNA's overhead,
 * not a real driver's (real NVML calls take microseconds to milliseconds).
 */
final class NvmlSampleTiming {

  private NvmlSampleTiming() {}

  public static void main(String[] args) throws Exception {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    Path dir = Files.createTempDirectory("nvml-timing");
    time("nvml-energy (energy counter)", dir, samples, List.of());
    time("nvml-power (instant field)", dir, samples, List.of("energy %d unsupported"));
    time(
        "nvml-power (power usage)",
        dir,
        samples,
        List.of("energy %d unsupported", "instant %d unsupported"));
  }

  private static void time(String what, Path dir, int samples, List<String> perGpu)
      throws Exception {
    List<String> lines = new ArrayList<>(List.of("devices 8"));
    for (int i = 0; i < 8; i++) {
      lines.add("power " + i + " 0 " + (100 + i));
      for (String l : perGpu) {
        lines.add(String.format(Locale.ROOT, l, i));
      }
    }
    FakeNvml.script(dir, lines);
    try (NvmlSource source = FakeNvml.open(FakeNvml.library(), null, Diagnostics.NONE)) {
      SampleTiming.report(what, "8 GPUs", source, 2_000, samples);
    }
  }
}

package io.jouletrace.sources;

import java.util.Arrays;
import java.util.Locale;

/** Times {@link EnergySource#sample(double[])} for the timing mains of the source packages. */
public final class SampleTiming {

  private SampleTiming() {}

  /**
   * Warms the source up, times {@code samples} samples one by one and prints the median and p99.
   *
   * @param what label of the line
   * @param detail what was sampled, e.g. {@code 8 GPUs}
   * @param source the source
   * @param warmUp samples before timing (JIT, native method caches)
   * @param samples samples timed
   */
  public static void report(
      String what, String detail, EnergySource source, int warmUp, int samples) {
    double[] out = new double[source.devices().size()];
    for (int i = 0; i < warmUp; i++) {
      source.sample(out);
    }
    long[] nanos = new long[samples];
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      source.sample(out);
      nanos[i] = System.nanoTime() - t0;
    }
    Arrays.sort(nanos);
    System.out.printf(
        Locale.ROOT,
        "%-32s %s, %d samples: median %.2f us, p99 %.2f us%n",
        what,
        detail,
        samples,
        nanos[samples / 2] / 1e3,
        nanos[(int) (samples * 0.99)] / 1e3);
  }
}

package io.jouletrace.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

class DecimalsTest {

  /** Values where rounding, sign or notation has an edge, and random ones over 24 decades. */
  private static List<Double> values() {
    List<Double> v =
        new ArrayList<>(
            List.of(
                0.0,
                -0.0,
                0.125,
                1.005,
                2.675,
                -0.001,
                -0.0049,
                0.5,
                1.5,
                2.5,
                -2.5,
                9.9995,
                99.995,
                9999.5,
                99995.0,
                1e-5,
                0.00009999,
                0.000099995,
                0.0001,
                123456789.0,
                1e21,
                4.35e-12,
                60.03,
                0.0001234,
                Double.MIN_VALUE,
                Double.MAX_VALUE,
                Double.NaN,
                Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY));
    Random r = new Random(20261129);
    for (int i = 0; i < 20_000; i++) {
      double magnitude = Math.pow(10, r.nextInt(24) - 12);
      double x = r.nextDouble() * magnitude * (r.nextBoolean() ? 1 : -1);
      v.add(x);
      // numbers whose shortest decimal form ends in 5 at a rounding position
      v.add(Math.round(x * 1e4) / 1e4 + 5e-5);
    }
    return v;
  }

  /** Compares {@code ours} with the formatter's {@code %.<d><conversion>} for d in [from, 6]. */
  private static void sameAsFormatter(
      char conversion, int from, String name, BiFunction<Double, Integer, String> ours) {
    for (double v : values()) {
      for (int d = from; d <= 6; d++) {
        String want = String.format(Locale.ROOT, "%." + d + conversion, v);
        assertEquals(want, ours.apply(v, d), name + "(" + v + ", " + d + ")");
      }
    }
  }

  @Test
  void fixedWritesWhatTheFormatterWrites() {
    sameAsFormatter('f', 0, "fixed", Decimals::fixed);
  }

  @Test
  void significantWritesWhatTheFormatterWrites() {
    sameAsFormatter('g', 1, "significant", Decimals::significant);
  }

  @Test
  void paddingIsTheFormattersWidth() {
    for (String s : List.of("", "a", "train-step", "a-much-longer-phase-name-than-22")) {
      assertEquals(String.format(Locale.ROOT, "%-22s", s), Decimals.left(s, 22));
      assertEquals(String.format(Locale.ROOT, "%9s", s), Decimals.right(s, 9));
    }
  }
}

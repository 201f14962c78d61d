package io.jouletrace.exporter;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Numbers as {@code String.format(Locale.ROOT, "%.Nf")} and {@code "%.Ng"} write them, for the
 * texts written at exit. {@link java.util.Formatter}'s first use starts the JDK's locale providers,
 * about 40 ms of interpreted code that a short job would wait for at exit; these go through {@link
 * BigDecimal} instead, from the same shortest decimal form of the double and with the same half-up
 * rounding.
 */
final class Decimals {

  private static final BigDecimal TEN_TO_MINUS_FOUR = BigDecimal.valueOf(1, 4);

  private Decimals() {}

  /**
   * As {@code String.format(Locale.ROOT, "%." + decimals + "f", v)}.
   *
   * @param v the number
   * @param decimals digits after the point, 0 or more
   * @return the text
   */
  static String fixed(double v, int decimals) {
    if (!Double.isFinite(v)) {
      return special(v);
    }
    String s = BigDecimal.valueOf(v).setScale(decimals, RoundingMode.HALF_UP).toPlainString();
    return negative(v) && s.charAt(0) != '-' ? "-" + s : s;
  }

  /**
   * As {@code String.format(Locale.ROOT, "%." + digits + "g", v)}: {@code digits} significant
   * digits, in plain notation from 10<sup>-4</sup> up to 10<sup>digits</sup>, else as {@code
   * 1.235e+05}.
   *
   * @param v the number
   * @param digits significant digits, 1 or more
   * @return the text
   */
  static String significant(double v, int digits) {
    if (!Double.isFinite(v)) {
      return special(v);
    }
    if (v == 0) {
      return fixed(v, digits - 1);
    }
    BigDecimal r = BigDecimal.valueOf(v).round(new MathContext(digits, RoundingMode.HALF_UP));
    int exponent = r.precision() - r.scale() - 1;
    BigDecimal m = r.abs();
    String s;
    if (m.compareTo(TEN_TO_MINUS_FOUR) >= 0 && m.compareTo(BigDecimal.TEN.pow(digits)) < 0) {
      s = r.setScale(Math.max(0, digits - 1 - exponent), RoundingMode.UNNECESSARY).toPlainString();
    } else {
      int e = Math.abs(exponent);
      s =
          r.movePointLeft(exponent).setScale(digits - 1, RoundingMode.UNNECESSARY).toPlainString()
              + (exponent < 0 ? "e-" : "e+")
              + (e < 10 ? "0" : "")
              + e;
    }
    return negative(v) && s.charAt(0) != '-' ? "-" + s : s;
  }

  /**
   * {@code text} right-aligned in {@code width} characters, as {@code "%" + width + "s"}.
   *
   * @param text the text
   * @param width the least width
   * @return the padded text
   */
  static String right(String text, int width) {
    return text.length() >= width ? text : " ".repeat(width - text.length()) + text;
  }

  /**
   * {@code text} left-aligned in {@code width} characters, as {@code "%-" + width + "s"}.
   *
   * @param text the text
   * @param width the least width
   * @return the padded text
   */
  static String left(String text, int width) {
    return text.length() >= width ? text : text + " ".repeat(width - text.length());
  }

  private static boolean negative(double v) {
    return v < 0 || (v == 0 && 1 / v < 0);
  }

  private static String special(double v) {
    return Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  }
}

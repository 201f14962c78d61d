package io.jouletrace.exporter;

/**
 * Numbers as {@code String.format(Locale.ROOT, "%.Nf")} and {@code "%.Ng"} write them, for the
 * texts written at exit. {@link java.util.Formatter}'s first use starts the JDK's locale providers,
 * about 40 ms of interpreted code that a short job would wait for at exit, and {@link
 * java.math.BigDecimal}'s class initialization computes powers of ten that take about 18 ms on Java
 * 25; these round the digits of the double's shortest decimal form ({@link Double#toString}, which
 * the formatter starts from too) half-up, as the formatter does, with plain character arithmetic.
 */
final class Decimals {

  private Decimals() {}

  /**
   * The shortest decimal form of a finite, non-negative double: {@code value = 0.D × 10^point},
   * where {@code D} is {@code digits[0..length)} without leading or trailing zeros (none for 0).
   */
  private static final class Digits {
    final char[] digits;
    int length;
    int point;

    Digits(double magnitude) {
      String s = Double.toString(magnitude);
      int e = s.indexOf('E');
      String mantissa = e < 0 ? s : s.substring(0, e);
      int exponent = e < 0 ? 0 : Integer.parseInt(s.substring(e + 1));
      int dot = mantissa.indexOf('.');
      digits = new char[mantissa.length()];
      int n = 0;
      for (int i = 0; i < mantissa.length(); i++) {
        if (i != dot) {
          digits[n++] = mantissa.charAt(i);
        }
      }
      int p = (dot < 0 ? mantissa.length() : dot) + exponent;
      int lead = 0;
      while (lead < n && digits[lead] == '0') {
        lead++;
      }
      while (n > lead && digits[n - 1] == '0') {
        n--;
      }
      System.arraycopy(digits, lead, digits, 0, n - lead);
      length = n - lead;
      point = length == 0 ? 0 : p - lead;
    }

    /** Rounds half-up to the first {@code keep} digits (none, or fewer than there are). */
    void round(int keep) {
      if (keep >= length) {
        return;
      }
      boolean up = keep >= 0 && digits[keep] >= '5';
      length = Math.max(0, keep);
      if (!up) {
        strip();
        return;
      }
      int i = length - 1;
      while (i >= 0 && digits[i] == '9') {
        i--;
      }
      if (i < 0) { // 99.9 → 100: one digit more before the point
        digits[0] = '1';
        length = 1;
        point++;
        return;
      }
      digits[i]++;
      length = i + 1;
    }

    private void strip() {
      while (length > 0 && digits[length - 1] == '0') {
        length--;
      }
    }

    /** The digit at a position (0 is the first after {@code 0.}); zero outside the digits. */
    char at(int i) {
      return i >= 0 && i < length ? digits[i] : '0';
    }

    /** Writes the number in plain notation with {@code decimals} digits after the point. */
    void plain(StringBuilder out, int decimals) {
      if (point <= 0 || length == 0) {
        out.append('0');
      } else {
        for (int i = 0; i < point; i++) {
          out.append(at(i));
        }
      }
      if (decimals > 0) {
        out.append('.');
        for (int j = 0; j < decimals; j++) {
          out.append(at(point + j));
        }
      }
    }
  }

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
    Digits d = new Digits(Math.abs(v));
    if (d.length > 0) {
      d.round(d.point + decimals);
    }
    StringBuilder out = new StringBuilder(24);
    if (negative(v)) {
      out.append('-');
    }
    d.plain(out, decimals);
    return out.toString();
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
    Digits d = new Digits(Math.abs(v));
    d.round(digits);
    int exponent = d.point - 1; // of the first digit
    StringBuilder out = new StringBuilder(24);
    if (negative(v)) {
      out.append('-');
    }
    if (exponent >= -4 && exponent < digits) {
      d.plain(out, Math.max(0, digits - 1 - exponent));
    } else {
      out.append(d.at(0));
      if (digits > 1) {
        out.append('.');
        for (int i = 1; i < digits; i++) {
          out.append(d.at(i));
        }
      }
      int e = Math.abs(exponent);
      out.append(exponent < 0 ? "e-" : "e+").append(e < 10 ? "0" : "").append(e);
    }
    return out.toString();
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

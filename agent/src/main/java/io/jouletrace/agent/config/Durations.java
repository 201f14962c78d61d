package io.jouletrace.agent.config;

import io.jouletrace.sources.Texts;
import java.time.Duration;
import java.util.Locale;

/** Parses durations written as a number and a unit: {@code 250ms}, {@code 1s}, {@code 4y}. */
public final class Durations {

  /** The accepted form, for error messages. */
  public static final String FORM =
      "a number with a unit ns, us, ms, s, m, h, d or y (e.g. 100ms, 1s)";

  private Durations() {}

  /**
   * Parses a duration.
   *
   * @param text e.g. {@code 100ms}
   * @return the duration
   * @throws IllegalArgumentException when the text is not of the form {@link #FORM}
   */
  public static Duration parse(String text) {
    // (\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d|y), written out: the regular-expression engine's
    // first use in a JVM costs about 10 ms of CPU, and durations are read in premain.
    String s = text.trim().toLowerCase(Locale.ROOT);
    int i = digits(s, 0);
    if (i == 0) {
      throw new IllegalArgumentException("expected " + FORM);
    }
    if (i < s.length() && s.charAt(i) == '.') {
      int fraction = digits(s, i + 1);
      if (fraction == i + 1) {
        throw new IllegalArgumentException("expected " + FORM);
      }
      i = fraction;
    }
    double v = Double.parseDouble(s.substring(0, i));
    int unit = i;
    while (unit < s.length() && Texts.isRegexBlank(s.charAt(unit))) {
      unit++;
    }
    double nanosPerUnit =
        switch (s.substring(unit)) {
          case "ns" -> 1;
          case "us" -> 1e3;
          case "ms" -> 1e6;
          case "s" -> 1e9;
          case "m" -> 60e9;
          case "h" -> 3600e9;
          case "d" -> 86400e9;
          case "y" -> 365 * 86400e9;
          default -> throw new IllegalArgumentException("expected " + FORM);
        };
    double nanos = v * nanosPerUnit;
    if (nanos > Long.MAX_VALUE) {
      throw new IllegalArgumentException("duration too long; expected " + FORM);
    }
    return Duration.ofNanos(Math.round(nanos));
  }

  /** The index after the ASCII digits of {@code s} from {@code from} on. */
  private static int digits(String s, int from) {
    int i = from;
    while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
      i++;
    }
    return i;
  }

  /**
   * Writes a number of seconds in the largest unit that keeps it whole, e.g. {@code 1ms}, {@code
   * 1d}.
   *
   * @param seconds a duration in seconds
   * @return the text
   */
  public static String describe(double seconds) {
    String[] units = {"d", "h", "m", "s", "ms", "us", "ns"};
    double[] size = {86400, 3600, 60, 1, 1e-3, 1e-6, 1e-9};
    for (int i = 0; i < units.length; i++) {
      double n = seconds / size[i];
      if (n >= 1 && Math.abs(n - Math.rint(n)) < 1e-9) {
        return (long) Math.rint(n) + units[i];
      }
    }
    return seconds + "s";
  }
}

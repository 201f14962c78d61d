package io.jouletrace.agent.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations written as a number and a unit: {@code 250ms}, {@code 1s}, {@code 4y}. */
public final class Durations {

  /** The accepted form, for error messages. */
  public static final String FORM =
      "a number with a unit ns, us, ms, s, m, h, d or y (e.g. 100ms, 1s)";

  private static final Pattern P = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d|y)");

  private Durations() {}

  /**
   * Parses a duration.
   *
   * @param text e.g. {@code 100ms}
   * @return the duration
   * @throws IllegalArgumentException when the text is not of the form {@link #FORM}
   */
  public static Duration parse(String text) {
    Matcher m = P.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("expected " + FORM);
    }
    double v = Double.parseDouble(m.group(1));
    double nanosPerUnit =
        switch (m.group(2)) {
          case "ns" -> 1;
          case "us" -> 1e3;
          case "ms" -> 1e6;
          case "s" -> 1e9;
          case "m" -> 60e9;
          case "h" -> 3600e9;
          case "d" -> 86400e9;
          default -> 365 * 86400e9;
        };
    double nanos = v * nanosPerUnit;
    if (nanos > Long.MAX_VALUE) {
      throw new IllegalArgumentException("duration too long; expected " + FORM);
    }
    return Duration.ofNanos(Math.round(nanos));
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

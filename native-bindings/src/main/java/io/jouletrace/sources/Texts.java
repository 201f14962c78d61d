package io.jouletrace.sources;

/**
 * Character tests for parsers written out by hand on the start-up and exit paths, where the
 * regular-expression engine's first use would cost a cold JVM about 10 ms of CPU.
 */
public final class Texts {

  private Texts() {}

  /**
   * Whether {@code c} is one of the characters {@code \s} matches in a regular expression: blank,
   * tab, line feed, vertical tab, form feed, carriage return.
   */
  public static boolean isRegexBlank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
  }
}

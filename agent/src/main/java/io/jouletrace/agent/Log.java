package io.jouletrace.agent;

import io.jouletrace.sources.Diagnostics;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The agent's one logger: every line it prints goes through here, to one sink (standard error in
 * the agent), prefixed with {@code jouletrace:}. Problems are printed at most once each; {@link
 * #debug} lines only with {@code log.level=debug}.
 */
public final class Log implements Diagnostics {

  private static final String PREFIX = "jouletrace:";

  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final Consumer<String> sink;
  private final boolean debug;
  private volatile Consumer<String> problems = NOWHERE;
  private final Consumer<String> lines = new Lines();

  /** Drops what it is given. */
  private static final Consumer<String> NOWHERE = new Nowhere();

  /**
   * A logger at level {@code info}.
   *
   * @param sink receives each line, without a line separator
   */
  public Log(Consumer<String> sink) {
    this(sink, false);
  }

  /**
   * A logger.
   *
   * @param sink receives each line, without a line separator
   * @param debug also print {@link #debug} lines
   */
  public Log(Consumer<String> sink, boolean debug) {
    this.sink = sink;
    this.debug = debug;
  }

  /**
   * Also hands every problem line to {@code problems} (the report's warnings), from now on.
   *
   * @param problems receives each problem once, prefixed
   */
  public void problemsTo(Consumer<String> problems) {
    this.problems = problems;
  }

  /** Prints a problem once; lines are prefixed with {@code jouletrace:} if they are not already. */
  public void line(String line) {
    if (seen.add(line)) {
      problem(prefixed(line));
    }
  }

  @Override
  public void warn(String key, String message) {
    if (seen.add("key:" + key)) {
      problem(prefixed(message));
    }
  }

  private void problem(String line) {
    sink.accept(line);
    problems.accept(line);
  }

  /** Prints a line every time it is called: results the user asked for (the report's path). */
  public void info(String line) {
    sink.accept(prefixed(line));
  }

  /**
   * A consumer that drops every line, for parts that report nothing.
   *
   * @return the consumer
   */
  public static Consumer<String> nowhere() {
    return NOWHERE;
  }

  /**
   * {@link #line} as a consumer, for the parts that take one. A class, not the method reference
   * {@code log::line}: the JVM spins a class for each method reference at its first use, which the
   * agent's start-up would pay once per place that passes one.
   *
   * @return a consumer that calls {@link #line}
   */
  public Consumer<String> lines() {
    return lines;
  }

  /**
   * Prints text as it is (the table at exit), one sink call per line: the lines that {@code
   * text.split("\\R")} gives, without compiling its pattern on the exit path.
   */
  public void text(String text) {
    for (String l : splitLines(text)) {
      sink.accept(l);
    }
  }

  /** The lines of {@code text} as {@code text.split("\\R")} splits it. */
  static List<String> splitLines(String text) {
    List<String> out = new ArrayList<>();
    int n = text.length();
    int from = 0;
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (c == '\n'
          || c == '\u000B'
          || c == '\f'
          || c == '\u0085'
          || c == '\u2028'
          || c == '\u2029') {
        out.add(text.substring(from, i));
        from = i + 1;
      } else if (c == '\r') {
        out.add(text.substring(from, i));
        if (i + 1 < n && text.charAt(i + 1) == '\n') {
          i++;
        }
        from = i + 1;
      }
    }
    if (out.isEmpty()) {
      out.add(text); // no line break: the text itself, even empty
      return out;
    }
    out.add(text.substring(from));
    int keep = out.size();
    while (keep > 0 && out.get(keep - 1).isEmpty()) {
      keep--; // as split drops trailing empty strings
    }
    return out.subList(0, keep);
  }

  private final class Lines implements Consumer<String> {
    @Override
    public void accept(String line) {
      line(line);
    }
  }

  private static final class Nowhere implements Consumer<String> {
    @Override
    public void accept(String line) {
      // dropped
    }
  }

  /** Prints a line only with {@code log.level=debug}. */
  public void debug(String line) {
    if (debug) {
      sink.accept(prefixed("[debug] " + line));
    }
  }

  /** Returns {@code true} when {@link #debug} lines are printed. */
  public boolean debugEnabled() {
    return debug;
  }

  private static String prefixed(String line) {
    return line.startsWith(PREFIX) ? line : PREFIX + " " + line;
  }
}

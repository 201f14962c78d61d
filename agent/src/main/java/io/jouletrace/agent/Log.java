package io.jouletrace.agent;

import io.jouletrace.sources.Diagnostics;
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
  private volatile Consumer<String> problems = line -> {};

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

  /** Prints text as it is (the table at exit), one sink call per line. */
  public void text(String text) {
    for (String l : text.split("\\R")) {
      sink.accept(l);
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

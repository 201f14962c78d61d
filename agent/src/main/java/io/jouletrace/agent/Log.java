package io.jouletrace.agent;

import io.jouletrace.sources.Diagnostics;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The agent's only output channel besides its exporters: one line per problem on stderr, each
 * distinct problem once.
 */
public final class Log implements Diagnostics {

  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final Consumer<String> sink;

  public Log(Consumer<String> sink) {
    this.sink = sink;
  }

  /** Prints a line once; lines are prefixed with {@code jouletrace:} if they are not already. */
  public void line(String line) {
    if (seen.add(line)) {
      sink.accept(line.startsWith("jouletrace:") ? line : "jouletrace: " + line);
    }
  }

  @Override
  public void warn(String key, String message) {
    if (seen.add("key:" + key)) {
      sink.accept("jouletrace: " + message);
    }
  }
}

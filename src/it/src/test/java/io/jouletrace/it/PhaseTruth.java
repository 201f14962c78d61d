package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * When each phase of {@code apps.PhasesApp} ran, as the application itself timed it. Each phase has
 * an inner span (timed just after opening the phase and just before closing it) and an outer one
 * (just before opening, just after closing): the agent's own stamps lie between the two, however
 * long the application's thread was descheduled around them.
 */
final class PhaseTruth {

  /** One run of a phase, {@link System#nanoTime()} instants. */
  record Span(long outerStart, long start, long end, long outerEnd) {}

  private final boolean recording;
  private final Map<String, List<Span>> spans = new LinkedHashMap<>();

  private PhaseTruth(boolean recording) {
    this.recording = recording;
  }

  static PhaseTruth read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    PhaseTruth t = new PhaseTruth(lines.get(0).equals("recording true"));
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(" ");
      t.spans
          .computeIfAbsent(f[0], k -> new ArrayList<>())
          .add(
              new Span(
                  Long.parseLong(f[1]),
                  Long.parseLong(f[2]),
                  Long.parseLong(f[3]),
                  Long.parseLong(f[4])));
    }
    return t;
  }

  boolean recording() {
    return recording;
  }

  List<Span> spans(String name) {
    return spans.getOrDefault(name, List.of());
  }

  /** The latest outer end of any phase: when the application's last phase was over. */
  long lastOuterEnd() {
    long last = Long.MIN_VALUE;
    for (List<Span> list : spans.values()) {
      for (Span s : list) {
        last = Math.max(last, s.outerEnd());
      }
    }
    return last;
  }

  /** The phase's total seconds at least (inner spans). */
  double innerSeconds(String name) {
    return spans(name).stream().mapToLong(s -> s.end() - s.start()).sum() * 1e-9;
  }

  /** The phase's total seconds at most (outer spans). */
  double outerSeconds(String name) {
    return spans(name).stream().mapToLong(s -> s.outerEnd() - s.outerStart()).sum() * 1e-9;
  }

  /** {@code actual} lies in {@code [low - slack, high + slack]}. */
  static void assertBetween(String what, double actual, double low, double high, double slack) {
    assertThat(actual)
        .as("%s: %s not in [%s, %s] +- %s", what, actual, low, high, slack)
        .isBetween(low - slack, high + slack);
  }
}

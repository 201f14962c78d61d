package io.jouletrace.it;

import java.util.ArrayList;
import java.util.List;

/**
 * A piecewise-constant power trace on the {@link System#nanoTime()} clock, for fakes whose counters
 * follow it: a base power outside every segment, a power of its own inside each. The energy over
 * any span is computed from the script alone, never from what the agent reports.
 */
final class PowerScript {

  /** A span of the script, {@code [start, end)} in nanoseconds of {@link System#nanoTime()}. */
  record Segment(long start, long end, double watts) {}

  private final long t0;
  private final double baseWatts;
  private final List<Segment> segments = new ArrayList<>();

  /**
   * @param t0 where the script's energy is zero
   * @param baseWatts the power outside every segment
   */
  PowerScript(long t0, double baseWatts) {
    this.t0 = t0;
    this.baseWatts = baseWatts;
  }

  /** Adds a segment; segments must not overlap. */
  PowerScript segment(long start, long end, double watts) {
    segments.add(new Segment(start, end, watts));
    return this;
  }

  /** Joules from {@code t0} to {@code t}. */
  double joulesAt(long t) {
    return joules(t0, t);
  }

  /** Joules over {@code [from, to]}. */
  double joules(long from, long to) {
    if (to <= from) {
      return 0;
    }
    double e = baseWatts * (to - from) * 1e-9;
    for (Segment s : segments) {
      long a = Math.max(s.start(), from);
      long b = Math.min(s.end(), to);
      if (b > a) {
        e += (s.watts() - baseWatts) * (b - a) * 1e-9;
      }
    }
    return e;
  }

  /** The highest power anywhere in the script, in watts. */
  double maxWatts() {
    double max = baseWatts;
    for (Segment s : segments) {
      max = Math.max(max, s.watts());
    }
    return max;
  }
}

package io.jouletrace.agent.timeline;

import io.jouletrace.agent.phase.PhaseRegistry;
import java.util.Arrays;

/**
 * A cursor over the {@link EventLog} that measures, for a window of time, how long each phase was
 * active. At any instant, each thread contributes to its innermost phase; when k threads are inside
 * phases, each of them carries 1/k of that instant (so two threads in the same phase give it the
 * whole instant); when no thread is inside a phase, the instant belongs to {@code other}. The
 * seconds handed out for a window therefore always add up to the window's length.
 */
final class Occupancy {

  private final EventLog log;
  private long seq;
  private long time;
  private int[] slotPhase = new int[64];
  private int[] count;
  private int active;

  Occupancy(EventLog log, long startTime, int maxPhases) {
    this.log = log;
    this.seq = 0;
    this.time = startTime;
    this.count = new int[maxPhases];
  }

  /** Returns a cursor with this one's state, to be advanced on its own from here. */
  Occupancy copy() {
    Occupancy c = new Occupancy(log, time, count.length);
    c.seq = seq;
    c.slotPhase = slotPhase.clone();
    c.count = count.clone();
    c.active = active;
    return c;
  }

  long time() {
    return time;
  }

  long seq() {
    return seq;
  }

  /**
   * Moves to {@code to}, adding to {@code seconds[phase]} the occupancy of each phase over the
   * window, and applying every logged event up to {@code to}.
   *
   * @return the window's length in seconds (0 when {@code to} is not after the cursor)
   */
  double advance(long to, double[] seconds) {
    long start = time;
    while (seq < log.end() && log.time(seq) <= to) {
      long at = log.time(seq);
      if (at > time) {
        spread(at - time, seconds);
        time = at;
      }
      apply(log.slot(seq), log.phase(seq));
      seq++;
    }
    if (to > time) {
      spread(to - time, seconds);
      time = to;
    }
    return Math.max(0, time - start) * 1e-9;
  }

  private void spread(long nanos, double[] seconds) {
    double s = nanos * 1e-9;
    if (active == 0) {
      seconds[PhaseRegistry.OTHER] += s;
      return;
    }
    double each = s / active;
    for (int p = 1; p < count.length; p++) {
      if (count[p] != 0) {
        seconds[p] += each * count[p];
      }
    }
  }

  private void apply(int slot, int phase) {
    if (slot >= slotPhase.length) {
      slotPhase = Arrays.copyOf(slotPhase, Math.max(slot + 1, slotPhase.length * 2));
    }
    int old = slotPhase[slot];
    if (old != PhaseRegistry.OTHER) {
      count[old]--;
      active--;
    }
    if (phase != PhaseRegistry.OTHER) {
      count[phase]++;
      active++;
    }
    slotPhase[slot] = phase;
  }
}

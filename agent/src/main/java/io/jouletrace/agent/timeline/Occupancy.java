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

  /** Events one call of {@link #advanceSlice} applies, at most. */
  private static final int SLICE = 32;

  private final EventLog log;
  private long seq;
  private long time;
  private int[] slotPhase = new int[64];
  private int[] count;
  private int active;

  /**
   * The phases whose count is not zero, in {@code inUse[0..inUseCount)}, and where each sits there:
   * a window is spread over these only, not over every possible phase.
   */
  private int[] inUse;

  private int[] inUseAt;
  private int inUseCount;

  Occupancy(EventLog log, long startTime, int maxPhases) {
    this.log = log;
    this.seq = 0;
    this.time = startTime;
    this.count = new int[maxPhases];
    this.inUse = new int[maxPhases];
    this.inUseAt = new int[maxPhases];
  }

  /** Returns a cursor with this one's state, to be advanced on its own from here. */
  Occupancy copy() {
    Occupancy c = new Occupancy(log, time, count.length);
    c.seq = seq;
    c.slotPhase = slotPhase.clone();
    c.count = count.clone();
    c.active = active;
    c.inUse = inUse.clone();
    c.inUseAt = inUseAt.clone();
    c.inUseCount = inUseCount;
    return c;
  }

  long time() {
    return time;
  }

  long seq() {
    return seq;
  }

  /** Threads inside a phase at the cursor's time. */
  int active() {
    return active;
  }

  /**
   * Moves to {@code to}, adding to {@code seconds} the occupancy of each phase over the window, and
   * applying every logged event up to {@code to}.
   *
   * @return the window's length in seconds (0 when {@code to} is not after the cursor)
   */
  double advance(long to, WindowSeconds seconds) {
    long start = time;
    long end = log.end();
    // In slices, each one call: a window with many events runs compiled code after its first few
    // thousand (see PhaseRecorder.SLICE).
    while (seq < end && advanceSlice(to, Math.min(end, seq + SLICE), seconds)) {
      // the slice moved seq
    }
    if (to > time) {
      spread(to - time, seconds);
      time = to;
    }
    return Math.max(0, time - start) * 1e-9;
  }

  /**
   * Applies the events before {@code stop} up to {@code to}; returns {@code false} when it met one
   * after {@code to}.
   */
  private boolean advanceSlice(long to, long stop, WindowSeconds seconds) {
    while (seq < stop) {
      long at = log.time(seq);
      if (at > to) {
        return false;
      }
      if (at > time) {
        spread(at - time, seconds);
        time = at;
      }
      apply(log.slot(seq), log.phase(seq));
      seq++;
    }
    return true;
  }

  private void spread(long nanos, WindowSeconds seconds) {
    double s = nanos * 1e-9;
    if (active == 0) {
      seconds.add(PhaseRegistry.OTHER, s);
      return;
    }
    double each = s / active;
    for (int i = 0; i < inUseCount; i++) {
      int p = inUse[i];
      seconds.add(p, each * count[p]);
    }
  }

  private void apply(int slot, int phase) {
    if (slot >= slotPhase.length) {
      slotPhase = Arrays.copyOf(slotPhase, Math.max(slot + 1, slotPhase.length * 2));
    }
    int old = slotPhase[slot];
    if (old != PhaseRegistry.OTHER) {
      if (--count[old] == 0) {
        int at = inUseAt[old];
        int last = inUse[--inUseCount];
        inUse[at] = last;
        inUseAt[last] = at;
      }
      active--;
    }
    if (phase != PhaseRegistry.OTHER) {
      if (count[phase]++ == 0) {
        inUse[inUseCount] = phase;
        inUseAt[phase] = inUseCount++;
      }
      active++;
    }
    slotPhase[slot] = phase;
  }
}

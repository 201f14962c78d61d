package io.jouletrace.agent.timeline;

import java.util.Arrays;

/**
 * Phase changes of all threads in time order, kept until every {@link Occupancy} cursor has passed
 * them. Events are addressed by an absolute sequence number.
 */
final class EventLog {

  private long[] times = new long[1024];
  private int[] slots = new int[1024];
  private int[] phases = new int[1024];
  private long first; // sequence number of index 0
  private int size;
  private long lastTime = Long.MIN_VALUE;

  /**
   * Appends an event. An event older than the last one (a thread that published late) is moved to
   * the last one's time, so that order, and with it conservation, holds.
   */
  void append(long time, int slot, int phase) {
    if (size == times.length) {
      times = Arrays.copyOf(times, size * 2);
      slots = Arrays.copyOf(slots, size * 2);
      phases = Arrays.copyOf(phases, size * 2);
    }
    long t = Math.max(time, lastTime);
    times[size] = t;
    slots[size] = slot;
    phases[size] = phase;
    size++;
    lastTime = t;
  }

  /** The time of the latest event, {@link Long#MIN_VALUE} before the first. */
  long lastTime() {
    return lastTime;
  }

  long end() {
    return first + size;
  }

  long time(long seq) {
    return times[(int) (seq - first)];
  }

  int slot(long seq) {
    return slots[(int) (seq - first)];
  }

  int phase(long seq) {
    return phases[(int) (seq - first)];
  }

  /** Forgets events before {@code seq}. */
  void trimBefore(long seq) {
    int n = (int) (seq - first);
    if (n <= 0) {
      return;
    }
    System.arraycopy(times, n, times, 0, size - n);
    System.arraycopy(slots, n, slots, 0, size - n);
    System.arraycopy(phases, n, phases, 0, size - n);
    size -= n;
    first = seq;
    if (times.length > 4096 && size < times.length / 4) {
      // After a burst (a hundred thousand threads starting at once), give the memory back.
      int capacity = Math.max(1024, size * 2);
      times = Arrays.copyOf(times, capacity);
      slots = Arrays.copyOf(slots, capacity);
      phases = Arrays.copyOf(phases, capacity);
    }
  }

  int size() {
    return size;
  }
}

package io.jouletrace.agent.timeline;

import java.util.Arrays;

/**
 * The phase changes of one drain, put in time order. A drain hands them over thread by thread, each
 * thread's already in order, so most drains (one thread changed) are in order as they come and cost
 * one pass. Otherwise they are sorted by time, and changes at the same instant keep the order they
 * came in (a thread's own changes at one instant must stay in order): each change's key is its time
 * from the drain's earliest, above its position. Arrays grow with the largest drain and shrink
 * again once drains stay small.
 */
final class DrainOrder {

  private static final int POSITION_BITS = 24;
  private static final long MAX_SPAN = (1L << (63 - POSITION_BITS)) - 1;
  private static final int MIN = 64;

  private long[] times = new long[MIN];
  private int[] slots = new int[MIN];
  private int[] phases = new int[MIN];
  private long[] keys = new long[0];
  private int[] byTime = new int[0];
  private int n;
  private boolean ordered = true;
  private int smallDrains;

  void add(long time, int slot, int phase) {
    if (n == times.length) {
      int grown = n * 2;
      times = Arrays.copyOf(times, grown);
      slots = Arrays.copyOf(slots, grown);
      phases = Arrays.copyOf(phases, grown);
    }
    if (n > 0 && time < times[n - 1]) {
      ordered = false;
    }
    times[n] = time;
    slots[n] = slot;
    phases[n] = phase;
    n++;
  }

  int size() {
    return n;
  }

  long time(int i) {
    return times[i];
  }

  int slot(int i) {
    return slots[i];
  }

  int phase(int i) {
    return phases[i];
  }

  /**
   * The positions of the changes in time order, or {@code null} when they came in order.
   *
   * @return positions, valid up to {@link #size()}; null when already in order
   */
  int[] sorted() {
    if (ordered) {
      return null;
    }
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    for (int i = 0; i < n; i++) {
      first = Math.min(first, times[i]);
      last = Math.max(last, times[i]);
    }
    if (byTime.length < n) {
      byTime = new int[times.length];
    }
    if (n <= (1 << POSITION_BITS) && last - first <= MAX_SPAN) {
      if (keys.length < n) {
        keys = new long[times.length];
      }
      for (int i = 0; i < n; i++) {
        keys[i] = ((times[i] - first) << POSITION_BITS) | i;
      }
      Arrays.sort(keys, 0, n);
      int mask = (1 << POSITION_BITS) - 1;
      for (int i = 0; i < n; i++) {
        byTime[i] = (int) (keys[i] & mask);
      }
    } else { // more than 16 million changes, or a span of more than 9 hours: rare enough to box
      Integer[] boxed = new Integer[n];
      for (int i = 0; i < n; i++) {
        boxed[i] = i;
      }
      Arrays.sort(boxed, (a, b) -> Long.compare(times[a], times[b])); // stable
      for (int i = 0; i < n; i++) {
        byTime[i] = boxed[i];
      }
    }
    return byTime;
  }

  /**
   * Forgets the changes handed over; shrinks the arrays after 16 drains in a row that were small.
   */
  void clear() {
    smallDrains = times.length > MIN && n < times.length / 8 ? smallDrains + 1 : 0;
    if (smallDrains >= 16) {
      int size = Math.max(MIN, times.length / 2);
      times = new long[size];
      slots = new int[size];
      phases = new int[size];
      keys = new long[0];
      byTime = new int[0];
      smallDrains = 0;
    }
    n = 0;
    ordered = true;
  }
}

package io.jouletrace.agent.timeline;

import java.util.Arrays;

/**
 * The phase changes of one drain, put in time order. A drain hands them over thread by thread, each
 * thread's already in order, so most drains (one thread changed) are in order as they come and cost
 * one pass. Otherwise they are sorted by time, and changes at the same instant keep the order they
 * came in (a thread's own changes at one instant must stay in order): a few by insertion, more by a
 * least-significant-digit radix sort of their times from the drain's earliest, {@value #DIGIT_BITS}
 * bits a pass (three passes for a drain that spans up to 8.6 s), which is stable by construction
 * and runs in a few small loops. A general-purpose sort of a hundred thousand changes (the drain
 * after a hundred thousand virtual threads each opened a phase) ran interpreted for its first calls
 * and kept the JIT compiler busy for tens of milliseconds on a small machine, while the application
 * waited for the cores. Arrays grow with the largest drain and shrink again once drains stay small,
 * or at once after a drain that caught up with changes left for later ({@link #release()}).
 */
final class DrainOrder {

  private static final int MIN = 64;

  /** Changes up to which an insertion sort is cheaper than the radix passes. */
  static final int INSERTION = 48;

  static final int DIGIT_BITS = 11;
  private static final int DIGITS = 1 << DIGIT_BITS;

  private long[] times = new long[MIN];
  private int[] slots = new int[MIN];
  private int[] phases = new int[MIN];
  // The radix passes' keys and positions, read from one pair and written to the other.
  private long[] keys = new long[0];
  private long[] keysOut = new long[0];
  private int[] byTime = new int[0];
  private int[] byTimeOut = new int[0];
  private final int[] counts = new int[DIGITS];
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
    if (n <= INSERTION) {
      if (byTime.length < n) {
        byTime = new int[times.length];
      }
      insertionSort();
      return byTime;
    }
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    for (int i = 0; i < n; i++) {
      first = Math.min(first, times[i]);
      last = Math.max(last, times[i]);
    }
    if (keys.length < n || byTime.length < n || byTimeOut.length < n) {
      // The two pairs swap at each pass: all four are made together.
      keys = new long[times.length];
      keysOut = new long[times.length];
      byTime = new int[times.length];
      byTimeOut = new int[times.length];
    }
    for (int i = 0; i < n; i++) {
      keys[i] = times[i] - first;
      byTime[i] = i;
    }
    int bits = 64 - Long.numberOfLeadingZeros(last - first);
    for (int shift = 0; shift < bits; shift += DIGIT_BITS) {
      pass(shift);
    }
    return byTime;
  }

  /** Stable: a change moves only past later ones. */
  private void insertionSort() {
    for (int i = 0; i < n; i++) {
      long t = times[i];
      int j = i;
      while (j > 0 && times[byTime[j - 1]] > t) {
        byTime[j] = byTime[j - 1];
        j--;
      }
      byTime[j] = i;
    }
  }

  /**
   * One counting sort of the keys and their positions by the digit at {@code shift}: stable, so
   * after the passes from the lowest digit up the changes are in order of their whole keys, and
   * those with equal keys in the order they came.
   */
  private void pass(int shift) {
    int[] c = counts;
    Arrays.fill(c, 0);
    long[] k = keys;
    for (int i = 0; i < n; i++) {
      c[(int) (k[i] >>> shift) & (DIGITS - 1)]++;
    }
    int sum = 0;
    for (int d = 0; d < DIGITS; d++) {
      int count = c[d];
      c[d] = sum;
      sum += count;
    }
    long[] kOut = keysOut;
    int[] p = byTime;
    int[] pOut = byTimeOut;
    for (int i = 0; i < n; i++) {
      long key = k[i];
      int at = c[(int) (key >>> shift) & (DIGITS - 1)]++;
      kOut[at] = key;
      pOut[at] = p[i];
    }
    keysOut = k;
    keys = kOut;
    byTimeOut = p;
    byTime = pOut;
  }

  /** How many changes the arrays hold before they grow, and the sort's arrays (tests). */
  int capacity() {
    return times.length + Math.max(keys.length, byTime.length);
  }

  /**
   * Gives back arrays grown for one exceptional drain: the one that caught up with the changes of a
   * hundred thousand threads needs about 10 MB, which a JVM that started its threads in one burst
   * should not keep. Only between drains.
   */
  void release() {
    if (n == 0 && times.length > MIN) {
      resize(MIN);
    }
  }

  /** New arrays of {@code size} changes, the sort's made again when next needed; none held. */
  private void resize(int size) {
    times = new long[size];
    slots = new int[size];
    phases = new int[size];
    keys = new long[0];
    keysOut = new long[0];
    byTime = new int[0];
    byTimeOut = new int[0];
    smallDrains = 0;
  }

  /**
   * Forgets the changes handed over; shrinks the arrays after 16 drains in a row that were small.
   */
  void clear() {
    smallDrains = times.length > MIN && n < times.length / 8 ? smallDrains + 1 : 0;
    if (smallDrains >= 16) {
      resize(Math.max(MIN, times.length / 2));
    }
    n = 0;
    ordered = true;
  }
}

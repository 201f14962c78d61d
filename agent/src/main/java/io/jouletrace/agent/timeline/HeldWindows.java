package io.jouletrace.agent.timeline;

import java.util.Arrays;

/**
 * Windows of a phase's energy ({@link AttributionListener#energy}) held back until what places them
 * is known (the carbon stage's grid intensity, the profiler's start), in the order they came. Grows
 * as needed up to a bound that the holder checks with {@link #full()}. Not thread-safe: the
 * holder's lock guards it.
 */
public final class HeldWindows {

  /** Receives the held windows. */
  @FunctionalInterface
  public interface Receiver {
    /**
     * One window.
     *
     * @param phase the phase's id
     * @param joules its energy
     * @param from {@link System#nanoTime()} at the window's start
     * @param to {@link System#nanoTime()} at its end
     */
    void accept(int phase, double joules, long from, long to);
  }

  private final int max;
  private int size;
  private int[] phase = new int[64];
  private double[] joules = new double[64];
  private long[] from = new long[64];
  private long[] to = new long[64];

  /**
   * Creates an empty holder.
   *
   * @param max the most windows held
   */
  public HeldWindows(int max) {
    this.max = max;
  }

  /** Whether {@link #add} would go beyond the bound. */
  public boolean full() {
    return size >= max;
  }

  /** How many windows are held. */
  public int size() {
    return size;
  }

  /**
   * Holds a window; the caller checks {@link #full()} first.
   *
   * @throws IllegalStateException when full
   */
  public void add(int phase, double joules, long from, long to) {
    if (full()) {
      throw new IllegalStateException("more than " + max + " windows held");
    }
    if (size == this.phase.length) {
      int n = (int) Math.min(max, 2L * size);
      this.phase = Arrays.copyOf(this.phase, n);
      this.joules = Arrays.copyOf(this.joules, n);
      this.from = Arrays.copyOf(this.from, n);
      this.to = Arrays.copyOf(this.to, n);
    }
    this.phase[size] = phase;
    this.joules[size] = joules;
    this.from[size] = from;
    this.to[size] = to;
    size++;
  }

  /**
   * Hands every held window to {@code r}, oldest first, and holds none after; {@code r} must not
   * hold windows here meanwhile.
   */
  public void drain(Receiver r) {
    for (int i = 0; i < size; i++) {
      r.accept(phase[i], joules[i], from[i], to[i]);
    }
    size = 0;
  }
}

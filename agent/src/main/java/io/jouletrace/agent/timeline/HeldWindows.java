package io.jouletrace.agent.timeline;

import java.util.Arrays;

/**
 * Windows of a phase's energy ({@link AttributionListener#energy}) held back until what places them
 * is known (the carbon stage's grid intensity, the profiler's start), in the order they came. Grows
 * as needed up to a bound that the holder checks with {@link #full()}. The holder reads them back
 * by index: no lambda, since the carbon stage holds them at start-up, and a short job's start-up
 * and exit spin none. Not thread-safe: the holder's lock guards it.
 */
public final class HeldWindows {

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

  /** The phase of the {@code i}-th window held, oldest first. */
  public int phase(int i) {
    return phase[i];
  }

  /** The energy of the {@code i}-th window held. */
  public double joules(int i) {
    return joules[i];
  }

  /** The {@link System#nanoTime()} at the {@code i}-th window's start. */
  public long from(int i) {
    return from[i];
  }

  /** The {@link System#nanoTime()} at the {@code i}-th window's end. */
  public long to(int i) {
    return to[i];
  }

  /** Holds no window from now on. */
  public void clear() {
    size = 0;
  }
}

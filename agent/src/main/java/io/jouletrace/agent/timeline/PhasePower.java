package io.jouletrace.agent.timeline;

import java.util.Arrays;

/**
 * One device's learnt power per phase, by which a window that holds several phases is split.
 *
 * <p>Each window is one equation: its energy is the sum over its phases of their time in it times
 * their power. The estimates follow a normalised least-mean-squares rule, replayed over the last
 * {@value #RING} windows ({@value #PASSES} passes each time a window arrives), which brings them to
 * the least-squares fit of those windows: a window that one phase fills moves that phase's estimate
 * towards the power seen in it, and windows that mix phases (steps shorter than the counter's
 * update period, as a GPU's training step against NVML's 100 ms) tell each phase's power apart as
 * soon as two of them mix the phases differently. A phase not seen before gets the power the window
 * leaves once the known phases have theirs, when it fills at least {@value #FIRST_SHARE} of the
 * window; until then, windows that hold it teach nothing.
 *
 * <p>A counter that updates every {@code period} shows a window's energy only to within about one
 * update's energy at each end: a window of a few periods may show no energy at all, or twice its
 * own (a boundary read 0.8 ms after the previous read, before a 1 ms counter's next update, shows 0
 * W). Each window therefore counts in proportion to the square of its length up to {@value
 * #FULL_WEIGHT_PERIODS} periods (the inverse of its power's variance from that rounding); windows
 * shorter than one period teach nothing, and a phase's first estimate needs a window of {@value
 * #FIRST_ESTIMATE_PERIODS}. A window in which the counter did not move at all teaches nothing
 * either: every device draws some power, so it shows a counter that stalled (a loaded machine's
 * writer, a virtualised counter), not a phase at 0 W; learnt from, it would give a phase that just
 * opened 0 W, and the next window's split would hand all of that phase's energy to its neighbour.
 *
 * <p>Windows of more than {@value #MAX_PHASES} phases are not kept. Allocation-free after
 * construction; used under the ledger's lock.
 */
final class PhasePower {

  /** Windows kept for replay. */
  static final int RING = 8;

  /** Passes over the kept windows each time one arrives. */
  static final int PASSES = 3;

  /** Most phases a kept window may hold. */
  static final int MAX_PHASES = 4;

  /** Share of a window a phase not seen before must fill for the window to set its power. */
  static final double FIRST_SHARE = 0.2;

  /** Weight of each correction (1 would fit each window exactly in turn). */
  static final double LEARNING_RATE = 0.5;

  /** Shortest window, in seconds, from which power is learnt. */
  static final double MIN_WINDOW = 100e-6;

  /**
   * Counter update periods from which a window counts fully: its power is then known to within
   * about a fifth (one update's energy at each end).
   */
  static final int FULL_WEIGHT_PERIODS = 10;

  /** Counter update periods a window must span to give a phase its first estimate. */
  static final int FIRST_ESTIMATE_PERIODS = 2;

  private final double[] est;
  private final int[][] ids = new int[RING][MAX_PHASES];
  private final double[][] times = new double[RING][MAX_PHASES];
  private final int[] counts = new int[RING];
  private final double[] energy = new double[RING];
  private final double[] weight = new double[RING];
  private final double minWindow;
  private final double fullWindow;
  private final double firstWindow;
  private int size;
  private int next;

  /**
   * @param maxPhases the number of phase ids
   * @param updatePeriodNanos how often the device's counter updates; 0 when its value is current
   */
  PhasePower(int maxPhases, long updatePeriodNanos) {
    est = new double[maxPhases];
    Arrays.fill(est, Double.NaN);
    double period = Math.max(0, updatePeriodNanos) * 1e-9;
    minWindow = Math.max(MIN_WINDOW, period);
    fullWindow = FULL_WEIGHT_PERIODS * period;
    firstWindow = FIRST_ESTIMATE_PERIODS * period;
  }

  /** How much a window of this length counts, in (0, 1]. */
  private double weightOf(double window) {
    if (window >= fullWindow) {
      return 1;
    }
    double r = window / fullWindow;
    return r * r;
  }

  /** A phase's learnt power in watts, NaN when not known yet. */
  double watts(int phase) {
    return est[phase];
  }

  /**
   * The power to assume in a window for the phases whose power is not known yet: what the window's
   * energy leaves once the known phases have their estimated share, over the unknown phases' time.
   * Taking the window's average instead would hand most of a new phase's first instants to the
   * phase it followed. When every phase in the window is unknown, or the known ones already account
   * for all of its energy, it is the window's average.
   *
   * @param occupancy seconds per phase in the window
   * @param delta the window's energy
   * @param window the window's length in seconds
   */
  double unknownPower(WindowSeconds occupancy, double delta, double window) {
    double known = 0;
    double unknownSeconds = 0;
    for (int i = 0, n = occupancy.count(); i < n; i++) {
      int p = occupancy.phase(i);
      if (Double.isNaN(est[p])) {
        unknownSeconds += occupancy.of(p);
      } else {
        known += occupancy.of(p) * est[p];
      }
    }
    double average = delta / window;
    if (unknownSeconds <= 0 || unknownSeconds >= window || !(delta - known > 0)) {
      return average;
    }
    double rest = (delta - known) / unknownSeconds;
    return Double.isFinite(rest) ? rest : average;
  }

  /**
   * Learns from one window.
   *
   * @param occupancy seconds per phase in the window
   * @param delta the window's energy in joules
   * @param window the window's length in seconds
   */
  void learn(WindowSeconds occupancy, double delta, double window) {
    if (window < minWindow || !(delta > 0) || !Double.isFinite(delta)) {
      return; // shorter than the counter's update period, or the counter did not move: stale
    }
    double unknown = unknownPower(occupancy, delta, window);
    boolean unknownLeft = false;
    int count = occupancy.count();
    for (int i = 0; i < count; i++) {
      int p = occupancy.phase(i);
      if (Double.isNaN(est[p])) {
        if (occupancy.of(p) >= FIRST_SHARE * window
            && window >= firstWindow
            && Double.isFinite(unknown)) {
          est[p] = Math.max(0, unknown);
        } else {
          unknownLeft = true;
        }
      }
    }
    if (unknownLeft || count == 0 || count > MAX_PHASES) {
      return; // what the window holds cannot be told apart yet, or is too mixed to keep
    }
    int slot = next;
    for (int i = 0; i < count; i++) {
      int p = occupancy.phase(i);
      ids[slot][i] = p;
      times[slot][i] = occupancy.of(p);
    }
    counts[slot] = count;
    energy[slot] = delta;
    weight[slot] = weightOf(window);
    next = (next + 1) % RING;
    size = Math.min(size + 1, RING);
    for (int pass = 0; pass < PASSES; pass++) {
      for (int i = 0; i < size; i++) {
        step((next - size + i + RING) % RING); // oldest first, the newest last
      }
    }
  }

  /** One normalised least-mean-squares correction towards a kept window. */
  private void step(int w) {
    double predicted = 0;
    double squares = 0;
    for (int i = 0; i < counts[w]; i++) {
      double e = est[ids[w][i]];
      if (Double.isNaN(e)) {
        return;
      }
      predicted += times[w][i] * e;
      squares += times[w][i] * times[w][i];
    }
    double error = energy[w] - predicted;
    if (!(squares > 0) || !Double.isFinite(error)) {
      return;
    }
    double k = LEARNING_RATE * weight[w] * error / squares;
    for (int i = 0; i < counts[w]; i++) {
      int p = ids[w][i];
      est[p] = Math.max(0, est[p] + k * times[w][i]);
    }
  }
}

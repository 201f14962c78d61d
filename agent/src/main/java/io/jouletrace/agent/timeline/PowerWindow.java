package io.jouletrace.agent.timeline;

/**
 * A device's recent readings, for its power gauge: the mean power over the last second ending at
 * its latest reading ({@link #WINDOW_NANOS}).
 *
 * <p>Readings are kept at least {@link #SPACING_NANOS} apart (a closer one replaces the latest), in
 * a ring of {@link #CAPACITY}: at least {@value #CAPACITY} × 10 ms of history, whatever the read
 * rate. The energy at the window's start is interpolated between the two readings around it, which
 * is exact at constant power between them.
 */
final class PowerWindow {

  static final long WINDOW_NANOS = 1_000_000_000L;
  static final long SPACING_NANOS = 10_000_000L;
  static final int CAPACITY = 256;

  private final long[] times = new long[CAPACITY];
  private final double[] joules = new double[CAPACITY];
  private int size;
  private int newest = -1;

  /**
   * Adds a reading.
   *
   * @param time the instant the reading stands for
   * @param cumulative the device's joules up to then
   */
  void add(long time, double cumulative) {
    if (size > 0 && time <= times[newest]) {
      joules[newest] = Math.max(joules[newest], cumulative); // no time passed: same instant
      return;
    }
    if (size > 1 && time - times[prev(newest)] < SPACING_NANOS) {
      times[newest] = time; // too close to the one before: the latest replaces it
      joules[newest] = cumulative;
      return;
    }
    newest = (newest + 1) % CAPACITY;
    times[newest] = time;
    joules[newest] = cumulative;
    size = Math.min(size + 1, CAPACITY);
  }

  /**
   * Returns the mean power over the second that ends at the latest reading; over what the readings
   * cover when that is less than a second (the first second of a run), 0 before two readings.
   *
   * @return watts
   */
  double watts() {
    if (size < 2) {
      return 0;
    }
    long end = times[newest];
    long from = end - WINDOW_NANOS;
    int i = newest;
    for (int n = 1; n < size; n++) {
      int before = prev(i);
      if (times[before] <= from) {
        // interpolate between the reading before the window's start and the one after it
        double f = (double) (from - times[before]) / (times[i] - times[before]);
        double start = joules[before] + f * (joules[i] - joules[before]);
        return (joules[newest] - start) / (WINDOW_NANOS * 1e-9);
      }
      i = before;
    }
    long span = end - times[i];
    return span > 0 ? (joules[newest] - joules[i]) / (span * 1e-9) : 0;
  }

  private static int prev(int i) {
    return (i + CAPACITY - 1) % CAPACITY;
  }
}

package io.jouletrace.agent.timeline;

/**
 * Seconds per phase over one window, and the list of the phases that have any, in ascending order:
 * a window holds a few phases of the hundreds a run may name, and the sampler's work per window
 * (sharing its energy, learning the phases' power, the timeline's bands) visits those only.
 */
final class WindowSeconds {

  private final double[] seconds;
  private final int[] phases;
  private int count;
  private boolean sorted = true;

  WindowSeconds(int maxPhases) {
    this.seconds = new double[maxPhases];
    this.phases = new int[maxPhases];
  }

  /** Adds {@code s} seconds to a phase; a phase gets on the list with its first non-zero time. */
  void add(int phase, double s) {
    if (s == 0) {
      return;
    }
    if (seconds[phase] == 0) {
      if (count > 0 && phases[count - 1] > phase) {
        sorted = false;
      }
      phases[count++] = phase;
    }
    seconds[phase] += s;
  }

  /** Phases with time in the window. */
  int count() {
    if (!sorted) {
      // A window holds a few phases: insertion sort (Arrays.sort would load the JDK's general
      // sorter, a large class, into every agent for this).
      for (int i = 1; i < count; i++) {
        int p = phases[i];
        int j = i - 1;
        while (j >= 0 && phases[j] > p) {
          phases[j + 1] = phases[j];
          j--;
        }
        phases[j + 1] = p;
      }
      sorted = true;
    }
    return count;
  }

  /** The {@code i}-th phase with time in the window, in ascending order; after {@link #count()}. */
  int phase(int i) {
    return phases[i];
  }

  /** The seconds of a phase (0 for one without time in the window). */
  double of(int phase) {
    return seconds[phase];
  }

  /** Empties the window, in time proportional to the phases it held. */
  void clear() {
    for (int i = 0; i < count; i++) {
      seconds[phases[i]] = 0;
    }
    count = 0;
    sorted = true;
  }
}

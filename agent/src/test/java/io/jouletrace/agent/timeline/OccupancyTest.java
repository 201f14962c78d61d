package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.agent.phase.PhaseRegistry;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OccupancyTest {

  private static final int PHASES = 5;

  /**
   * Windows that end anywhere among many events (inside the cursor's slices of events and at their
   * edges) get each phase's time as a nanosecond-by-nanosecond count of the same timeline gives it:
   * at each instant every thread inside a phase carries 1/k of it, and an instant with none belongs
   * to other.
   */
  @Test
  void windowsEndingAnywhereAmongManyEventsGetEachPhaseItsShare() {
    Random r = new Random(5);
    for (int round = 0; round < 20; round++) {
      int slots = 1 + r.nextInt(4);
      int n = 50 + r.nextInt(400);
      long[] times = new long[n];
      int[] slotOf = new int[n];
      int[] phaseOf = new int[n];
      EventLog log = new EventLog();
      long t = 100;
      for (int i = 0; i < n; i++) {
        t += r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(20); // some events share an instant
        times[i] = t;
        slotOf[i] = r.nextInt(slots);
        phaseOf[i] = r.nextInt(PHASES); // OTHER (0) among them: leaving every phase
        log.append(t, slotOf[i], phaseOf[i]);
      }
      Occupancy cursor = new Occupancy(log, 0, PHASES);
      long from = 0;
      while (from < t + 50) {
        long to = from + 1 + r.nextInt(r.nextBoolean() ? 40 : 400);
        WindowSeconds got = new WindowSeconds(PHASES);
        double window = cursor.advance(to, got);
        double[] expected = count(times, slotOf, phaseOf, slots, from, to);
        assertThat(window).isCloseTo((to - from) * 1e-9, within(1e-15));
        for (int p = 0; p < PHASES; p++) {
          assertThat(got.of(p))
              .as("phase %d in [%d, %d)", p, from, to)
              .isCloseTo(expected[p], within(1e-15));
        }
        long applied = 0;
        while (applied < n && times[(int) applied] <= to) {
          applied++;
        }
        assertThat(cursor.seq()).isEqualTo(applied);
        from = to;
      }
    }
  }

  /** Seconds per phase over [from, to), one nanosecond at a time. */
  private static double[] count(
      long[] times, int[] slotOf, int[] phaseOf, int slots, long from, long to) {
    double[] seconds = new double[PHASES];
    for (long ns = from; ns < to; ns++) {
      int[] phase = new int[slots]; // every thread starts in other
      for (int i = 0; i < times.length && times[i] <= ns; i++) {
        phase[slotOf[i]] = phaseOf[i];
      }
      int inside = 0;
      for (int p : phase) {
        inside += p == PhaseRegistry.OTHER ? 0 : 1;
      }
      if (inside == 0) {
        seconds[PhaseRegistry.OTHER] += 1e-9;
        continue;
      }
      for (int p : phase) {
        if (p != PhaseRegistry.OTHER) {
          seconds[p] += 1e-9 / inside;
        }
      }
    }
    return seconds;
  }
}

package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The power gauge's window: the mean over the second up to the latest reading. */
class PowerWindowTest {

  private static final long MS = 1_000_000L;

  /** Cumulative joules of 100 W until 2 s, then 400 W. */
  private static double joules(long t) {
    double s = t * 1e-9;
    return 100 * Math.min(s, 2) + 400 * Math.max(0, s - 2);
  }

  @Test
  void isTheMeanOverTheSecondUpToTheLatestReadingWhateverTheReadRate() {
    PowerWindow w = new PowerWindow();
    w.add(0, 0);
    assertThat(w.watts()).isZero();
    // readings every 100 ms, with bursts of readings 1 ms apart (boundary reads) in between
    for (long t = 100 * MS; t <= 4_000 * MS; t += 100 * MS) {
      for (long b = t - 5 * MS; b < t; b += MS) {
        w.add(b, joules(b));
      }
      w.add(t, joules(t));
      // the truth at this reading: the energy over [t - 1 s, t] (the first second: what there is)
      double from = Math.max(0, t - 1_000 * MS);
      double truth = (joules(t) - joules((long) from)) / ((t - from) * 1e-9);
      assertThat(w.watts()).as("at %d ms", t / MS).isCloseTo(truth, within(1e-6 * truth));
    }
  }

  @Test
  void readingsAtOneInstantAndOutOfOrderDoNotBreakIt() {
    PowerWindow w = new PowerWindow();
    w.add(0, 0);
    w.add(500 * MS, 50);
    w.add(500 * MS, 50); // the same instant again
    w.add(400 * MS, 40); // late: taken as the same instant as the latest
    w.add(1_500 * MS, 150);
    assertThat(w.watts()).isCloseTo(100, within(1e-9));
  }
}

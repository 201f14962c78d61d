package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link UpdateGrid} driven in virtual time by a simulated counter whose update instants are known
 * to the test: each stamp is compared with the counter's true last update before the read.
 */
class UpdateGridTest {

  private static final long MS = 1_000_000L;

  /** A counter that updates at {@code phase + k * period}; reads take {@code cost}. */
  private static final class Counter {
    final double period;
    final long phase;
    final long cost;
    final Random jitter = new Random(7);
    final long jitterNanos;
    long now;
    long lastValue = Long.MIN_VALUE;

    Counter(double period, long phase, long cost, long jitterNanos) {
      this.period = period;
      this.phase = phase;
      this.cost = cost;
      this.jitterNanos = jitterNanos;
    }

    /** The latest update instant at or before {@code t}. */
    long lastUpdate(long t) {
      return phase + (long) (Math.floor((t - phase) / period) * period);
    }

    long valueAt(long t) {
      return (long) Math.floor((t - phase) / period);
    }
  }

  /** One read of the counter: the grid's stamp and the true last update before the read. */
  record Read(long start, long stamp, long truth, boolean changed, boolean planned) {}

  /** Runs the grid as the sampler does for {@code seconds} of virtual time. */
  private static List<Read> run(UpdateGrid grid, Counter c, double seconds, long interval) {
    return run(grid, c, seconds, interval, 0, 0);
  }

  /**
   * Runs the grid as the sampler does; once it is locked, every {@code holdEvery}-th read (0: none)
   * starts {@code hold} late, as when the sampler's thread waits for a CPU.
   */
  private static List<Read> run(
      UpdateGrid grid, Counter c, double seconds, long interval, int holdEvery, long hold) {
    List<Read> reads = new ArrayList<>();
    long end = c.now + (long) (seconds * 1e9);
    int n = 0;
    while (c.now < end) {
      long due = grid.nextRead(c.now, interval);
      if (due == Long.MAX_VALUE) {
        c.now += interval; // read at a tick instead
        due = c.now;
      }
      c.now = Math.max(c.now, due);
      if (holdEvery > 0 && grid.state() == UpdateGrid.State.LOCKED && ++n % holdEvery == 0) {
        c.now += hold;
      }
      boolean planned = grid.scheduled();
      long start = c.now;
      long sampled =
          start + c.cost / 2 + (c.jitterNanos > 0 ? c.jitter.nextLong(c.jitterNanos) : 0);
      long value = c.valueAt(sampled);
      boolean changed = c.lastValue != Long.MIN_VALUE && value != c.lastValue;
      c.lastValue = value;
      c.now = start + c.cost;
      long stamp = grid.read(start, c.now, changed, planned);
      reads.add(new Read(start, stamp, c.lastUpdate(sampled), changed, planned));
    }
    return reads;
  }

  @Test
  void locksOnTheUpdatesAndStampsEachReadingWithItsUpdate() {
    Counter c = new Counter(100 * MS, 37 * MS, 3 * MS, 0);
    c.now = 1_000 * MS;
    UpdateGrid grid = new UpdateGrid(100 * MS, c.now - 50 * MS);
    List<Read> reads = run(grid, c, 30, 100 * MS);
    assertThat(grid.state()).isEqualTo(UpdateGrid.State.LOCKED);
    assertThat(grid.period()).isCloseTo(100 * MS, org.assertj.core.data.Offset.offset(0.05 * MS));
    // After the first second, every changed reading is stamped within 2 ms of its true update.
    long settled = 2_000 * MS;
    List<Read> changed = reads.stream().filter(r -> r.changed() && r.start() > settled).toList();
    assertThat(changed).hasSizeGreaterThan(250);
    for (Read r : changed) {
      assertThat(Math.abs(r.stamp() - r.truth())).as("%s", r).isLessThanOrEqualTo(c.cost);
    }
    // One read per update plus the probes: far fewer than back-to-back reading would take.
    assertThat(reads.size()).isLessThan((int) (30 * 10 * 1.4));
  }

  @Test
  void aReadHeldUpPastTheNextUpdateIsStampedWithTheUpdateItSaw() {
    // one read in seven starts 1.5 periods late: its value holds a later update than planned
    Counter c = new Counter(100 * MS, 37 * MS, 3 * MS, 0);
    c.now = 1_000 * MS;
    UpdateGrid grid = new UpdateGrid(100 * MS, c.now - 50 * MS);
    List<Read> reads = run(grid, c, 30, 100 * MS, 7, 150 * MS);
    List<Read> changed = reads.stream().filter(r -> r.changed() && r.start() > 2_000 * MS).toList();
    assertThat(changed).hasSizeGreaterThan(150);
    for (Read r : changed) {
      // stamped a period early, a reading would put a period's energy before its time: the power
      // of the second ending there, and of the one starting there, would be off by a tenth
      assertThat(Math.abs(r.stamp() - r.truth())).as("%s", r).isLessThanOrEqualTo(c.cost);
    }
    assertThat(grid.state()).isEqualTo(UpdateGrid.State.LOCKED);
  }

  @Test
  void followsACounterWhoseTrueRateIsNotTheDeclaredOne() {
    // declared 100 ms, true 96.3 ms, with up to 0.5 ms of jitter in when a read samples it
    Counter c = new Counter(96.3 * MS, 11 * MS, 3 * MS, MS / 2);
    UpdateGrid grid = new UpdateGrid(100 * MS, -50 * MS);
    List<Read> reads = run(grid, c, 60, 100 * MS);
    assertThat(grid.period()).isCloseTo(96.3 * MS, org.assertj.core.data.Offset.offset(0.1 * MS));
    List<Read> late = reads.stream().filter(r -> r.changed() && r.start() > 5_000 * MS).toList();
    long worst = late.stream().mapToLong(r -> Math.abs(r.stamp() - r.truth())).max().orElseThrow();
    assertThat(worst).isLessThanOrEqualTo(3 * MS);
  }

  @Test
  void aCounterThatIsCurrentAtEveryReadNeedsNoGrid() {
    Counter c = new Counter(0.01 * MS, 0, 20_000, 0); // updates every 10 us: always changed
    UpdateGrid grid = new UpdateGrid(100 * MS, 0);
    run(grid, c, 0.1, 100 * MS);
    assertThat(grid.state()).isEqualTo(UpdateGrid.State.CONTINUOUS);
    assertThat(grid.scheduled()).isFalse();
  }

  @Test
  void aCounterThatNeverMovesIsReadAtTicksAndScannedAgainLater() {
    Counter c = new Counter(1e18, 0, 3 * MS, 0); // never updates (nothing consumed)
    UpdateGrid grid = new UpdateGrid(100 * MS, 0);
    List<Read> reads = run(grid, c, 1, 100 * MS);
    assertThat(grid.state()).isEqualTo(UpdateGrid.State.OFF);
    // the scan gave up after about two periods of reads
    assertThat(reads.stream().filter(Read::planned).count()).isLessThan(100);
    long stamp = reads.get(reads.size() - 1).stamp();
    assertThat(stamp).as("no update: the stamp stays").isEqualTo(0);
    // meanwhile it is read at ticks; ten seconds later it scans again
    assertThat(grid.nextRead(c.now, 100 * MS)).isEqualTo(Long.MAX_VALUE);
    long later = c.now + UpdateGrid.RETRY;
    assertThat(grid.nextRead(later, 100 * MS)).isEqualTo(later);
    assertThat(grid.state()).isEqualTo(UpdateGrid.State.SCAN);
  }

  @Test
  void aGridThatJumpsIsFoundAgain() {
    Counter c = new Counter(100 * MS, 20 * MS, 3 * MS, 0);
    UpdateGrid grid = new UpdateGrid(100 * MS, -50 * MS);
    run(grid, c, 5, 100 * MS);
    assertThat(grid.state()).isEqualTo(UpdateGrid.State.LOCKED);
    // the driver restarts its timer 45 ms later
    Counter moved = new Counter(100 * MS, 65 * MS, 3 * MS, 0);
    moved.now = c.now;
    moved.lastValue = moved.valueAt(c.now);
    List<Read> reads = run(grid, moved, 5, 100 * MS);
    assertThat(grid.state()).isEqualTo(UpdateGrid.State.LOCKED);
    List<Read> after =
        reads.stream().filter(r -> r.changed() && r.start() > c.now + MS * 2000).toList();
    assertThat(after).isNotEmpty();
    for (Read r : after) {
      assertThat(Math.abs(r.stamp() - r.truth())).as("%s", r).isLessThanOrEqualTo(c.cost);
    }
    // stamps never go back
    for (int i = 1; i < reads.size(); i++) {
      assertThat(reads.get(i).stamp()).isGreaterThanOrEqualTo(reads.get(i - 1).stamp());
    }
  }
}

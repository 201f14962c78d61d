package io.jouletrace.agent.phase;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The packed ring: each event's time is rebuilt from the gaps, exactly, whatever happens. */
class ThreadPhasesTest {

  private record Event(long time, int phase) {}

  private static List<Event> drain(ThreadPhases t, long now) {
    List<Event> out = new ArrayList<>();
    t.drain((time, slot, phase) -> out.add(new Event(time, phase)), now);
    return out;
  }

  @Test
  void timesAreRebuiltExactlyFromTheGaps() {
    long base = 1_000_000_000L;
    ThreadPhases t = new ThreadPhases(3, Thread.currentThread(), 64, base);
    Random random = new Random(42);
    List<Event> expected = new ArrayList<>();
    List<Event> got = new ArrayList<>();
    long now = base;
    for (int i = 0; i < 10_000; i++) {
      now += random.nextInt(3) == 0 ? 0 : random.nextInt(1_000_000_000);
      long token = t.push(2 + random.nextInt(100), now);
      expected.add(new Event(now, -1));
      now += random.nextInt(1000);
      t.pop(token, now);
      expected.add(new Event(now, PhaseRegistry.OTHER));
      if (i % 20 == 19) {
        got.addAll(drain(t, now));
      }
    }
    got.addAll(drain(t, now));
    assertThat(got).hasSameSizeAs(expected);
    for (int i = 0; i < got.size(); i++) {
      assertThat(got.get(i).time()).as("event %d", i).isEqualTo(expected.get(i).time());
    }
  }

  /**
   * A thread's first phases write nothing to the sampler's state of its slot ({@link DrainState}):
   * the line the owner wrote there at registration was the sampler's, a miss for every new thread.
   * The first drain starts it from the instant the thread registered; once the slot is freed, the
   * next thread on it starts afresh from its own.
   */
  @Test
  void theSamplersStateOfASlotIsStartedByItsFirstDrainFromTheThreadsRegistration() {
    DrainState state = new DrainState(1);
    ThreadPhases first =
        new ThreadPhases(0, Thread.currentThread(), 64, 1_000, new ChangedThreads(), state);
    first.pop(first.push(2, 1_500), 1_700);
    assertThat(state.owner(0)).as("before any drain").isNull();
    assertThat(drain(first, 2_000))
        .containsExactly(new Event(1_500, 2), new Event(1_700, PhaseRegistry.OTHER));
    assertThat(state.owner(0)).isSameAs(first);
    assertThat(state.phase(0)).isEqualTo(PhaseRegistry.OTHER);

    state.free(0);
    assertThat(state.owner(0)).isNull();
    ThreadPhases next =
        new ThreadPhases(0, Thread.currentThread(), 64, 5_000, new ChangedThreads(), state);
    next.push(3, 5_040);
    assertThat(drain(next, 6_000)).containsExactly(new Event(5_040, 3));
    assertThat(state.owner(0)).isSameAs(next);
    assertThat(state.phase(0)).isEqualTo(3);
    assertThat(state.drained(0)).isEqualTo(5_040);
  }

  /**
   * Positions are {@code int}s: past {@link Integer#MAX_VALUE} they wrap around, in the inline pair
   * of events, when the ring grows from it, and in the ring, and no event is lost or reordered.
   */
  @Test
  void positionsThatWrapAroundLoseAndReorderNothing() {
    for (int start : new int[] {Integer.MAX_VALUE - 1, Integer.MAX_VALUE, -2, -1}) {
      ThreadPhases t = new ThreadPhases(0, Thread.currentThread(), 128, 0); // 80 fit
      t.startAt(start);
      List<Event> expected = new ArrayList<>();
      List<Event> got = new ArrayList<>();
      long now = 0;
      // Batches of 1 to 40 events between drains: inline (up to 2), then a ring that grows.
      for (int batch = 1; batch <= 40; batch += 3) {
        for (int i = 0; i < batch; i++) {
          long token = t.push(2 + i % 5, now += 7);
          expected.add(new Event(now, 2 + i % 5));
          t.pop(token, now += 3);
          expected.add(new Event(now, PhaseRegistry.OTHER));
        }
        got.addAll(drain(t, now));
        assertThat(t.pending()).as("start %d, batch %d", start, batch).isFalse();
      }
      assertThat(got).as("start %d", start).isEqualTo(expected);
    }
  }

  @Test
  void aGapLongerThanFortyEightBitsOfNanosecondsKeepsTheTimeExact() {
    ThreadPhases t = new ThreadPhases(0, Thread.currentThread(), 64, 0);
    long threeDays = 3L * 86_400 * 1_000_000_000L; // more than 2^48 ns
    long token = t.push(5, 7);
    t.pop(token, 7 + 2 * threeDays + 11);
    assertThat(drain(t, 0))
        .containsExactly(new Event(7, 5), new Event(7 + 2 * threeDays + 11, PhaseRegistry.OTHER));
  }

  @Test
  void afterAnOverflowTheTimesOfLaterEventsStayExact() {
    ThreadPhases t = new ThreadPhases(0, Thread.currentThread(), 32, 0); // holds 32 events
    long now = 0;
    for (int i = 0; i < 40; i++) { // 80 events into a ring of 32: the last 48 are dropped
      long token = t.push(4, now += 10);
      t.pop(token, now += 10);
    }
    long token = t.push(9, now += 10); // dropped too; the thread is now in phase 9
    List<Event> first = drain(t, 5_000);
    assertThat(first).hasSize(33);
    assertThat(first.get(0)).isEqualTo(new Event(10, 4));
    assertThat(first.get(31)).isEqualTo(new Event(320, PhaseRegistry.OTHER));
    assertThat(first.get(32)).isEqualTo(new Event(5_000, 9)); // re-synchronised at the drain
    t.pop(token, 6_000);
    assertThat(drain(t, 7_000)).containsExactly(new Event(6_000, PhaseRegistry.OTHER));
  }

  @Test
  void theLastTwoNamesAreFoundByIdentityAndOthersThroughTheRegistry() {
    PhaseRegistry registry = new PhaseRegistry(16, w -> {});
    ThreadPhases t = new ThreadPhases(0, Thread.currentThread(), 16, 0);
    String a = new String("alpha");
    String b = "beta";
    int idA = t.idOf(a, registry);
    int idB = t.idOf(b, registry);
    assertThat(t.idOf(a, registry)).isEqualTo(idA);
    assertThat(t.idOf(new String("alpha"), registry)).isEqualTo(idA); // equal, not identical
    assertThat(t.idOf(b, registry)).isEqualTo(idB);
    assertThat(t.idOf(null, registry)).isEqualTo(registry.idOf("unnamed"));
    assertThat(registry.name(idA)).isEqualTo("alpha");
  }

  @Test
  void theRingStartsSmallAndGrowsToItsCapacityKeepingEveryEvent() {
    ThreadPhases t = new ThreadPhases(0, Thread.currentThread(), 1024, 0);
    assertThat(t.ringSize()).isEqualTo(ThreadPhases.INLINE);
    long now = 0;
    List<Event> expected = new ArrayList<>();
    for (int i = 0; i < 300; i++) { // 600 events, no drain: grows to 1024 without dropping any
      long token = t.push(2 + i % 7, now += 3);
      expected.add(new Event(now, 2 + i % 7));
      t.pop(token, now += 5);
      expected.add(new Event(now, PhaseRegistry.OTHER));
    }
    assertThat(t.ringSize()).isEqualTo(1024);
    assertThat(drain(t, -1)).isEqualTo(expected);
  }

  /**
   * The owner grows the ring while the sampler drains it from another thread: every event the
   * sampler gets is one the owner published (its time says which), in order.
   */
  @Test
  void aRingGrowingWhileTheSamplerDrainsHandsOverOnlyPublishedEvents() throws Exception {
    for (int round = 0; round < 20; round++) {
      long resync = Long.MIN_VALUE;
      ThreadPhases[] shared = new ThreadPhases[1];
      java.util.concurrent.CountDownLatch created = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.atomic.AtomicBoolean done =
          new java.util.concurrent.atomic.AtomicBoolean();
      Thread owner =
          new Thread(
              () -> {
                ThreadPhases t = new ThreadPhases(0, Thread.currentThread(), 1024, 0);
                shared[0] = t;
                created.countDown();
                long now = 0;
                for (int i = 0; i < 20_000; i++) {
                  // event k is published at time k; phase 2 at odd times, other at even ones
                  long token = t.push(2, ++now);
                  t.pop(token, ++now);
                }
                done.set(true);
              });
      owner.start();
      created.await();
      ThreadPhases t = shared[0];
      List<Event> got = new ArrayList<>();
      while (!done.get()) {
        t.drain((time, slot, phase) -> got.add(new Event(time, phase)), resync);
      }
      owner.join();
      t.drain((time, slot, phase) -> got.add(new Event(time, phase)), resync);
      long last = 0;
      for (Event e : got) {
        if (e.time() == resync) {
          continue; // a full ring's resynchronisation
        }
        assertThat(e.time()).isGreaterThan(last).isLessThanOrEqualTo(40_000);
        assertThat(e.phase()).isEqualTo(e.time() % 2 == 1 ? 2 : PhaseRegistry.OTHER);
        last = e.time();
      }
      // the state at the end is right: the last event, or the resynchronisation after it
      Event end = got.get(got.size() - 1);
      assertThat(end.phase()).isEqualTo(PhaseRegistry.OTHER);
      assertThat(end.time()).isIn(40_000L, resync);
    }
  }

  /**
   * A thread that publishes faster than the ticks drain it asks the sampler for a drain once half
   * of its full-sized ring waits, a quarter of a ring before events would be dropped; a sampler
   * that drains when asked then loses no change of a thread that changes phase as fast as it can.
   * The same thread drained only every 1,500 events (the ticks alone) drops changes.
   */
  @Test
  void aThreadThatPublishesFasterThanTheDrainsAsksForOneWhileAQuarterOfItsRingIsLeft() {
    ChangedThreads changed = new ChangedThreads();
    DrainState state = new DrainState(1);
    ThreadPhases t = new ThreadPhases(0, Thread.currentThread(), 1024, 0, changed, state);
    int published = 0;
    long now = 0;
    while (!changed.drainWanted() && published < 1024) {
      long token = t.push(2, now += 3);
      t.pop(token, now += 5);
      published += 2;
    }
    assertThat(published).isBetween(512, 768 + 2);
    assertThat(drain(t, now)).hasSize(published);

    for (boolean whenAsked : new boolean[] {true, false}) {
      List<Event> expected = new ArrayList<>();
      List<Event> got = new ArrayList<>();
      long resyncsBefore = state.resyncs;
      int drains = 0;
      for (int i = 0; i < 50_000; i++) {
        long token = t.push(2 + i % 5, now += 3);
        expected.add(new Event(now, 2 + i % 5));
        t.pop(token, now += 5);
        expected.add(new Event(now, PhaseRegistry.OTHER));
        if (whenAsked ? changed.drainWanted() : i % 750 == 749) {
          changed.drainStarted();
          got.addAll(drain(t, now));
          drains++;
        }
      }
      got.addAll(drain(t, now));
      if (whenAsked) {
        assertThat(got).isEqualTo(expected);
        assertThat(state.resyncs).isEqualTo(resyncsBefore);
        // one drain per quarter of a ring at most, and about one per half
        assertThat(drains).isBetween(100_000 / 768, 100_000 / 256);
      } else {
        assertThat(state.resyncs).isGreaterThan(resyncsBefore);
        assertThat(got).hasSizeLessThan(expected.size());
      }
    }
  }

  /** The request wakes the thread that asked to be woken, however long it meant to sleep. */
  @Test
  void aRequestForADrainWakesTheSampler() throws Exception {
    ChangedThreads changed = new ChangedThreads();
    DrainState state = new DrainState(1);
    ThreadPhases t = new ThreadPhases(0, Thread.currentThread(), 1024, 0, changed, state);
    java.util.concurrent.CountDownLatch parked = new java.util.concurrent.CountDownLatch(1);
    long[] sleptNanos = {-1};
    Thread sampler =
        new Thread(
            () -> {
              long start = System.nanoTime();
              parked.countDown();
              while (!changed.drainWanted() && System.nanoTime() - start < 60_000_000_000L) {
                java.util.concurrent.locks.LockSupport.parkNanos(60_000_000_000L);
              }
              sleptNanos[0] = System.nanoTime() - start;
            });
    changed.wakeWhenFilling(sampler);
    sampler.start();
    parked.await();
    long now = 0;
    while (!changed.drainWanted()) {
      long token = t.push(2, now += 3);
      t.pop(token, now += 5);
    }
    sampler.join(30_000);
    assertThat(sampler.isAlive()).isFalse();
    assertThat(sleptNanos[0]).isBetween(0L, 30_000_000_000L);
  }
}

package io.jouletrace.agent.phase;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class PhaseRecorderTest {

  private final List<String> warnings = new ArrayList<>();
  private final PhaseRegistry registry = new PhaseRegistry(8, warnings::add);
  private final PhaseRecorder recorder = new PhaseRecorder(registry, warnings::add);

  private record Event(long time, int slot, String phase) {}

  private List<Event> drain() {
    List<Event> out = new ArrayList<>();
    recorder.drain((t, s, p) -> out.add(new Event(t, s, registry.name(p))), System.nanoTime());
    return out;
  }

  private static List<String> names(List<Event> events) {
    return events.stream().map(Event::phase).toList();
  }

  @Test
  void nestingPublishesTheInnermostPhase() {
    long outer = recorder.enter("outer");
    long inner = recorder.enter("inner");
    recorder.exit(inner);
    recorder.exit(outer);
    List<Event> events = drain();
    assertThat(names(events)).containsExactly("outer", "inner", "outer", "other");
    for (int i = 1; i < events.size(); i++) {
      assertThat(events.get(i).time()).isGreaterThanOrEqualTo(events.get(i - 1).time());
    }
  }

  @Test
  void closingTwiceIsHarmlessAndClosingOuterClosesInner() {
    long a = recorder.enter("a");
    long b = recorder.enter("b");
    recorder.exit(a); // out of order: closes b too
    recorder.exit(b); // already closed
    recorder.exit(a); // twice
    long c = recorder.enter("c");
    recorder.exit(b); // stale token from the same depth as c's parent: ignored
    assertThat(names(drain())).containsExactly("a", "b", "other", "c");
    recorder.exit(c);
    assertThat(names(drain())).containsExactly("other");
  }

  @Test
  void closeFromAnotherThreadIsIgnoredAndReportedOnce() throws Exception {
    long a = recorder.enter("a");
    Thread t =
        new Thread(
            () -> {
              recorder.exit(a);
              recorder.exit(a);
            });
    t.start();
    t.join();
    assertThat(warnings).singleElement().asString().contains("other than the one that opened it");
    recorder.exit(a);
    assertThat(names(drain())).containsExactly("a", "other");
  }

  @Test
  void phasesOfAThreadThatEndsAreClosedAtItsEnd() throws Exception {
    Thread t = new Thread(() -> recorder.enter("never-closed"));
    t.start();
    t.join();
    List<Event> events = drain();
    assertThat(names(events)).containsExactly("never-closed", "other");
    assertThat(events.get(0).slot()).isEqualTo(events.get(1).slot());
    assertThat(drain()).isEmpty();
  }

  @Test
  void ringOverflowDropsEventsButResynchronisesTheCurrentPhase() {
    long outer = recorder.enter("outer");
    for (int i = 0; i < 10_000; i++) {
      recorder.exit(recorder.enter("burst"));
    }
    long last = recorder.enter("last");
    List<Event> events = drain();
    assertThat(events.size()).isLessThan(10_000);
    assertThat(events.get(events.size() - 1).phase()).isEqualTo("last");
    recorder.exit(last);
    recorder.exit(outer);
    assertThat(names(drain())).containsExactly("outer", "other");
  }

  @Test
  void distinctNamesBeyondTheCapGoToOverflowOnce() {
    for (int i = 0; i < 20; i++) {
      recorder.exit(recorder.enter("name-" + i));
    }
    assertThat(registry.size()).isEqualTo(8);
    assertThat(registry.idOf("name-19")).isEqualTo(PhaseRegistry.OVERFLOW);
    assertThat(warnings).singleElement().asString().contains("phases.max", "overflow");
    assertThat(registry.idOf(null)).isEqualTo(registry.idOf("unnamed"));
  }

  @Test
  void reenteringTheInnermostPhaseIsNotANewPhase() {
    long outer = recorder.enter("step");
    long again = recorder.enter("step"); // recursion, or an override calling super
    assertThat(again).isZero();
    long inner = recorder.enter("other-work");
    long back = recorder.enter("step"); // not innermost any more: a real nested phase
    assertThat(back).isNotZero();
    recorder.exit(back);
    recorder.exit(inner);
    recorder.exit(again);
    recorder.exit(outer);
    assertThat(names(drain()))
        .containsExactly("step", "other-work", "step", "other-work", "step", "other");
  }

  private static long allocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes();
  }

  @Test
  void aThreadThatOpensOnePhaseHoldsLittleMemory() throws Exception {
    registry.idOf("x"); // the name is known: what is left is the thread's own state
    long[] bytes = new long[1];
    Runnable measured =
        () -> {
          allocatedByThisThread(); // warm up the counter itself
          long before = allocatedByThisThread();
          long reading = allocatedByThisThread() - before; // what a reading allocates
          before = allocatedByThisThread();
          recorder.exit(recorder.enter("x"));
          bytes[0] = allocatedByThisThread() - before - reading;
        };
    // A first thread brings in the chunks of slots and of the thread index that t's phase uses
    // (about 8 KB for 1024 threads): one whose id falls in the same range of the index as t's.
    Thread t;
    Thread first;
    do {
      t = new Thread(measured);
      first = new Thread(() -> recorder.exit(recorder.enter("x")));
    } while (first.getId() / ThreadIndex.CHUNK != t.getId() / ThreadIndex.CHUNK);
    first.start();
    first.join();
    t.start();
    t.join();
    // A hundred thousand threads must not cost gigabytes: 8 KB per thread did (1.4 GB of heap for
    // 100,000 virtual threads), and 512 bytes still doubled the heap that 100,000 virtual threads
    // hold. The thread's state (its own weak reference to the thread, the instant it registered,
    // its outermost frame and its first two changes) is all: 152 bytes; the sampler's bookkeeping
    // in it made it 160, a separate 4-event ring 200, and a thread-local map (another 150 bytes or
    // so) is not made.
    assertThat(bytes[0]).as("bytes").isPositive().isLessThan(160);
    assertThat(names(drain())).containsExactly("x", "other", "x", "other");
  }

  @Test
  void aThreadWhoseEntryInTheIndexIsTakenKeepsOneStateForItsWholeLife() throws Exception {
    ThreadIndex small = new ThreadIndex(ThreadIndex.CHUNK);
    PhaseRecorder rec = new PhaseRecorder(registry, warnings::add, 1024, small);
    CountDownLatch aInside = new CountDownLatch(1);
    CountDownLatch aMayEnd = new CountDownLatch(1);
    Thread a = new Thread(() -> insideUntil(rec, "a", aInside, aMayEnd)); // ends inside it
    // b's id maps to a's entry of the index: a holds it while b registers
    CountDownLatch bRegistered = new CountDownLatch(1);
    CountDownLatch bGoOn = new CountDownLatch(1);
    long[] bSlots = new long[2];
    int[] bCurrent = new int[2];
    Thread b;
    do {
      b =
          new Thread(
              () -> {
                long outer = rec.enter("b-outer");
                bCurrent[0] = rec.currentPhase();
                bRegistered.countDown();
                awaitQuietly(bGoOn);
                // a has ended and its entry is free again: b must still find its own state
                long inner = rec.enter("b-inner");
                bCurrent[1] = rec.currentPhase();
                bSlots[0] = Tokens.slot(outer);
                bSlots[1] = Tokens.slot(inner);
                rec.exit(inner);
                rec.exit(outer);
              });
    } while ((b.getId() - a.getId()) % ThreadIndex.CHUNK != 0);
    a.start();
    aInside.await();
    b.start();
    bRegistered.await();
    aMayEnd.countDown();
    a.join();
    List<String> phases = new ArrayList<>();
    rec.drain((time, slot, phase) -> phases.add(registry.name(phase)), System.nanoTime());
    assertThat(phases).containsExactlyInAnyOrder("a", "other", "b-outer"); // a ended in its phase
    bGoOn.countDown();
    b.join();
    // one state, so one slot and one stack: b-inner nests in b-outer, and closing it returns there
    assertThat(bSlots[1]).isEqualTo(bSlots[0]);
    assertThat(registry.name(bCurrent[0])).isEqualTo("b-outer");
    assertThat(registry.name(bCurrent[1])).isEqualTo("b-inner");
    List<Event> events = new ArrayList<>();
    rec.drain((t, s, p) -> events.add(new Event(t, s, registry.name(p))), System.nanoTime());
    assertThat(names(events)).containsExactly("b-inner", "b-outer", "other");
    assertThat(events).extracting(Event::slot).containsOnly((int) bSlots[0]);
    // a thread new to that entry, once it is free, takes it
    Thread c = onEntryOf(a, () -> rec.exit(rec.enter("c")));
    c.start();
    c.join();
    assertThat(small.get(c, c.getId())).isNotNull(); // still there: the sampler has not freed it
  }

  /** A new thread whose id maps to the same entry of an index of {@link ThreadIndex#CHUNK}. */
  private static Thread onEntryOf(Thread a, Runnable task) {
    Thread t;
    do {
      t = new Thread(task);
    } while ((t.getId() - a.getId()) % ThreadIndex.CHUNK != 0);
    return t;
  }

  /** Enters {@code phase}, says so, and waits; returns the phase's token. */
  private static long insideUntil(
      PhaseRecorder rec, String phase, CountDownLatch inside, CountDownLatch mayGoOn) {
    long token = rec.enter(phase);
    inside.countDown();
    awaitQuietly(mayGoOn);
    return token;
  }

  @Test
  void anEntryOfTheIndexIsMarkedOnlyWhileAThreadThatFoundItTakenLives() throws Exception {
    ThreadIndex small = new ThreadIndex(ThreadIndex.CHUNK);
    PhaseRecorder rec = new PhaseRecorder(registry, warnings::add, 1024, small);
    CountDownLatch aInside = new CountDownLatch(1);
    CountDownLatch aMayEnd = new CountDownLatch(1);
    Thread a = new Thread(() -> rec.exit(insideUntil(rec, "a", aInside, aMayEnd)));
    // b and c map to a's entry: b registers while a holds it, c after b has been freed
    Thread b = onEntryOf(a, () -> rec.exit(rec.enter("b")));
    a.start();
    aInside.await();
    b.start();
    b.join();
    assertThat(small.elsewhere(b.getId())).as("marked while b lives").isTrue();
    List<String> phases = new ArrayList<>();
    rec.drain((time, slot, phase) -> phases.add(registry.name(phase)), System.nanoTime());
    assertThat(phases).containsExactlyInAnyOrder("a", "b", "other");
    assertThat(rec.slotsInUse()).as("b freed, a alive").isEqualTo(1);
    // A mark kept for good sent every later thread of this entry to the thread-local first, which
    // makes a map on each of them.
    assertThat(small.elsewhere(b.getId())).as("marked once b is freed").isFalse();
    assertThat(small.get(a, a.getId())).as("a keeps its entry").isNotNull();
    aMayEnd.countDown();
    a.join();
    rec.drain((time, slot, phase) -> phases.add(registry.name(phase)), System.nanoTime());
    assertThat(rec.slotsInUse()).isZero();
    Thread c = onEntryOf(a, () -> rec.exit(rec.enter("c")));
    c.start();
    c.join();
    assertThat(small.get(c, c.getId())).as("c takes the entry itself").isNotNull();
    assertThat(small.elsewhere(c.getId())).isFalse();
  }

  @Test
  void threadsThatShareEntriesOfTheIndexAtOnceEachKeepOneState() throws Exception {
    // two threads, all alive at once, per entry of a small index: half of them find their entry
    // taken and keep their state in the thread-local, racing for the entries' locks
    ThreadIndex small = new ThreadIndex(ThreadIndex.CHUNK);
    PhaseRecorder rec = new PhaseRecorder(registry, warnings::add, 4 * ThreadIndex.CHUNK, small);
    int n = 2 * ThreadIndex.CHUNK;
    CountDownLatch start = new CountDownLatch(1);
    CountDownLatch allInside = new CountDownLatch(n);
    int[] outerSlots = new int[n];
    int[] innerSlots = new int[n];
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      Thread t =
          new Thread(
              () -> {
                awaitQuietly(start);
                long outer = rec.enter("o");
                allInside.countDown();
                awaitQuietly(allInside); // every thread holds its entry, or found it taken
                long inner = rec.enter("i");
                outerSlots[k] = Tokens.slot(outer);
                innerSlots[k] = Tokens.slot(inner);
                rec.exit(inner);
                rec.exit(outer);
              });
      threads.add(t);
      t.start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    int split = 0; // threads whose inner phase went to another state than their outer one
    for (int i = 0; i < n; i++) {
      split += innerSlots[i] == outerSlots[i] ? 0 : 1;
    }
    assertThat(split).as("threads with two states").isZero();
    assertThat(java.util.Arrays.stream(outerSlots).distinct().count()).isEqualTo(n);
    assertThat(warnings).isEmpty();
  }

  /** A thread that reports an id of its own choosing (Thread.getId() may be overridden). */
  private static final class SameIdThread extends Thread {
    SameIdThread(Runnable r) {
      super(r);
    }

    @Override
    @SuppressWarnings("deprecation")
    public long getId() {
      return 42;
    }
  }

  @Test
  void threadsThatReportTheSameIdEachKeepTheirOwnState() throws Exception {
    CountDownLatch bothInside = new CountDownLatch(2);
    int[][] slots = new int[2][2];
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      int k = i;
      Thread t =
          new SameIdThread(
              () -> {
                long outer = recorder.enter("o" + k);
                bothInside.countDown();
                awaitQuietly(bothInside);
                long inner = recorder.enter("i" + k);
                slots[k][0] = Tokens.slot(outer);
                slots[k][1] = Tokens.slot(inner);
                recorder.exit(inner);
                recorder.exit(outer);
              });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(slots[0][1]).isEqualTo(slots[0][0]);
    assertThat(slots[1][1]).isEqualTo(slots[1][0]);
    assertThat(slots[0][0]).isNotEqualTo(slots[1][0]);
    assertThat(warnings).isEmpty(); // no close was taken for another thread's
  }

  @Test
  void askingTheCurrentPhaseDoesNotRegisterAThread() throws Exception {
    int[] phase = new int[1];
    Thread t = new Thread(() -> phase[0] = recorder.currentPhase());
    t.start();
    t.join();
    assertThat(phase[0]).isEqualTo(PhaseRegistry.OTHER);
    assertThat(recorder.slotsInUse()).isZero();
  }

  @Test
  void manyThreadsInsideAPhaseAreLookedAtASliceAtATime() throws Exception {
    // more threads inside a phase than one look takes; they all end without closing it
    int n = 3 * PhaseRecorder.SWEEP_MIN;
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Thread t = new Thread(() -> recorder.enter("open"));
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    List<String> first = names(drain());
    // every thread's phase was handed over, but a tick looks at a slice of the threads inside a
    // phase (and the sweep at a slice of the slots), not at all of them
    assertThat(first).filteredOn("open"::equals).hasSize(n);
    int ended = (int) first.stream().filter("other"::equals).count();
    assertThat(ended).isGreaterThanOrEqualTo(PhaseRecorder.SWEEP_MIN).isLessThan(n);
    for (int tick = 1; tick < PhaseRecorder.SWEEP_TICKS && ended < n; tick++) {
      List<String> more = names(drain());
      assertThat(more).containsOnly("other");
      ended += more.size();
    }
    assertThat(ended).isEqualTo(n);
    assertThat(drain()).isEmpty();
    assertThat(recorder.slotsInUse()).isZero();
  }

  @Test
  void threadsBeyondTheSlotsThatTokensCarryAreNotRecordedAndReportedOnce() throws Exception {
    PhaseRecorder two = new PhaseRecorder(registry, warnings::add, 2);
    CountDownLatch inside = new CountDownLatch(2);
    CountDownLatch release = new CountDownLatch(1);
    List<Thread> holders = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Thread t =
          new Thread(
              () -> {
                long token = two.enter("held");
                inside.countDown();
                try {
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                two.exit(token);
              });
      holders.add(t);
      t.start();
    }
    inside.await();
    long[] third = new long[2];
    Thread t = new Thread(() -> third[0] = two.enter("third"));
    t.start();
    t.join();
    Thread t2 = new Thread(() -> third[1] = two.enter("third"));
    t2.start();
    t2.join();
    assertThat(third).containsOnly(0L);
    assertThat(warnings).singleElement().asString().contains("threads alive at once");
    release.countDown();
    for (Thread h : holders) {
      h.join();
    }
    List<Event> events = new ArrayList<>();
    two.drain((time, slot, p) -> events.add(new Event(time, slot, registry.name(p))), 0);
    assertThat(names(events)).containsExactly("held", "other", "held", "other");
    assertThat(two.slotsInUse()).isZero();
    // the slots of ended threads are free again
    long[] later = new long[1];
    Thread t3 = new Thread(() -> later[0] = two.enter("later"));
    t3.start();
    t3.join();
    assertThat(later[0]).isNotZero();
  }

  /**
   * A new thread starts with the name last looked up in its cache of names: its phases are named
   * right whether its first phase is that one or another.
   */
  @Test
  void freshThreadsNameTheirPhasesRightWithAndWithoutTheNameLastLookedUp() throws Exception {
    List<String> opened = List.of("a", "b", "b", "a", "c", "a");
    for (String name : opened) {
      Thread t = new Thread(() -> recorder.exit(recorder.enter(name)));
      t.start();
      t.join();
      assertThat(names(drain())).containsExactly(name, "other");
    }
    assertThat(registry.name(registry.recentId())).isEqualTo("a");
    assertThat(registry.recentId()).isEqualTo(registry.idOf("a"));
  }

  @Test
  void slotsOfEndedThreadsAreReused() throws Exception {
    for (int round = 0; round < 20; round++) {
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        Thread t = new Thread(() -> recorder.exit(recorder.enter("short")));
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join();
      }
      List<Event> events = drain();
      assertThat(events).hasSize(100);
      assertThat(events).allSatisfy(e -> assertThat(e.slot()).isLessThan(50));
      assertThat(recorder.slotsInUse()).isZero();
    }
  }

  /**
   * The sampler keeps its state of each thread by slot ({@link DrainState}). A thread that puts
   * itself on the changed list and ends while a drain looks at it is finished, and its slot freed,
   * by that drain, while it still sits on the list; the next thread takes its slot. That thread's
   * changes must come out with their own times, in its own phase, and the finished thread's entry
   * on the list must change nothing of it.
   */
  @Test
  void aSlotFreedWhileItsThreadIsStillOnTheChangedListStartsAfreshForItsNextThread()
      throws Exception {
    PhaseRecorder one = new PhaseRecorder(registry, warnings::add, 1);
    CountDownLatch leave = new CountDownLatch(1);
    Thread first =
        new Thread(
            () -> {
              long token = one.enter("a");
              awaitQuietly(leave);
              one.exit(token);
            });
    first.start();
    while (!one.pending()) {
      Thread.onSpinWait();
    }
    List<Event> firstEvents = new ArrayList<>();
    one.drain(
        (t, s, p) -> {
          firstEvents.add(new Event(t, s, registry.name(p)));
          if (firstEvents.size() == 1) {
            // Taken off the list and being drained: it leaves its phase (and so puts itself on
            // the list again) and ends before the drain goes on.
            leave.countDown();
            joinQuietly(first);
          }
        },
        System.nanoTime());
    assertThat(names(firstEvents)).containsExactly("a", "other");
    assertThat(one.slotsInUse()).isZero();
    assertThat(one.pending()).as("the ended thread is still on the changed list").isTrue();

    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch end = new CountDownLatch(1);
    long[] window = new long[2];
    Thread second =
        new Thread(
            () -> {
              window[0] = System.nanoTime();
              long token = one.enter("b");
              window[1] = System.nanoTime();
              entered.countDown();
              awaitQuietly(end);
              one.exit(token);
            });
    second.start();
    entered.await();
    List<Event> secondEvents = new ArrayList<>();
    PhaseEvents sink = (t, s, p) -> secondEvents.add(new Event(t, s, registry.name(p)));
    one.drain(sink, System.nanoTime());
    one.drain(sink, System.nanoTime());
    assertThat(secondEvents)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.phase()).isEqualTo("b");
              assertThat(e.slot()).isEqualTo(firstEvents.get(0).slot());
              assertThat(e.time()).isBetween(window[0], window[1]);
            });
    assertThat(one.slotsInUse()).isEqualTo(1);
    end.countDown();
    second.join();
    one.drain(sink, System.nanoTime());
    assertThat(names(secondEvents)).containsExactly("b", "other");
    assertThat(one.slotsInUse()).isZero();
  }

  private static void joinQuietly(Thread t) {
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Threads that end just after leaving their last phase give their slots back at the next tick,
   * whatever their number (before: only as the sweep came by, a tenth of the slots per tick).
   */
  @Test
  void slotsOfThreadsThatEndRightAfterTheirLastPhaseAreFreedAtTheNextTick() throws Exception {
    int n = 3 * PhaseRecorder.SWEEP_MIN;
    for (int i = 0; i < n; i++) {
      Thread t = new Thread(() -> recorder.exit(recorder.enter("short")));
      t.start();
      t.join(); // one at a time: each takes a new slot, none is reused
    }
    assertThat(names(drain())).hasSize(2 * n);
    assertThat(recorder.slotsInUse()).isZero();
  }

  /**
   * The sampler walks its lists a slice of {@link PhaseRecorder#SLICE} threads at a time; lists
   * whose length is no multiple of it lose no thread at their ends: at one tick, threads that ended
   * inside a phase have it closed, and those that ended after their last phase free their slots.
   * Their slots lie beyond what that tick's sweep looks at (idle threads hold the first ones), so
   * only the walks can find them.
   */
  @Test
  void walksOfListsThatEndInsideASliceMissNoThread() throws Exception {
    int idle = 3 * PhaseRecorder.SWEEP_MIN;
    CountDownLatch end = new CountDownLatch(1);
    List<Thread> idleThreads = startIdle(idle, "idle", end); // slots 0 to idle - 1
    assertThat(names(drain())).hasSize(2 * idle); // the sweep looked at slots 0 to SWEEP_MIN - 1
    int open = PhaseRecorder.SWEEP_MIN - 27; // all looked at by each tick, in slices
    int closed = PhaseRecorder.SWEEP_MIN + 37;
    assertThat(open % PhaseRecorder.SLICE).isNotZero();
    assertThat(closed % PhaseRecorder.SLICE).isNotZero();
    for (int i = 0; i < open + closed; i++) {
      boolean leaveOpen = i < open;
      Thread t =
          new Thread(
              () -> {
                long token = recorder.enter(leaveOpen ? "left-open" : "short");
                if (!leaveOpen) {
                  recorder.exit(token);
                }
              });
      t.start();
      t.join(); // one at a time: each takes a new slot, from idle on
    }
    List<String> names = names(drain());
    assertThat(names).filteredOn("left-open"::equals).hasSize(open);
    assertThat(names).filteredOn("short"::equals).hasSize(closed);
    assertThat(names).filteredOn("other"::equals).hasSize(open + closed);
    assertThat(recorder.slotsInUse()).isEqualTo(idle);
    end.countDown();
    for (Thread t : idleThreads) {
      t.join();
    }
  }

  @Test
  void theListsABurstGrewKeepTheirRoomThroughAFewQuietDrainsThenHalve() throws Exception {
    int n = 600;
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Thread t = new Thread(() -> recorder.enter("left-open"));
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(names(drain())).filteredOn("left-open"::equals).hasSize(n);
    drain(); // the ended threads' slots go back
    int grown = recorder.listRoom();
    assertThat(grown).isGreaterThan(2 * n);
    // before, each drain with few threads halved a list, and the next burst grew it again by copies
    // (the lists' quiet drains count from the first or the second drain above)
    for (int i = 0; i < PhaseRecorder.QUIET_DRAINS - 3; i++) {
      assertThat(drain()).isEmpty();
      assertThat(recorder.listRoom()).isEqualTo(grown);
    }
    // then each halves every QUIET_DRAINS drains, down to a few dozen threads' room
    for (int i = 0; i < 8 * PhaseRecorder.QUIET_DRAINS; i++) {
      drain();
    }
    assertThat(recorder.listRoom()).isLessThanOrEqualTo(5 * 64);
  }

  /**
   * Starts {@code n} threads one after the other (each takes a new slot, none is reused), each
   * opening and closing one phase and then waiting for {@code end}.
   */
  private List<Thread> startIdle(int n, String phase, CountDownLatch end) throws Exception {
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CountDownLatch done = new CountDownLatch(1);
      Thread t =
          new Thread(
              () -> {
                recorder.exit(recorder.enter(phase));
                done.countDown();
                awaitQuietly(end);
              });
      t.setDaemon(true);
      threads.add(t);
      t.start();
      done.await();
    }
    return threads;
  }

  @Test
  void aTickLooksAtTheThreadsInsideAPhaseAndASliceOfTheOthers() throws Exception {
    // more idle threads than one tick's sweep: they all opened and closed a phase, were drained
    // while still alive, and ended after that
    int idle = 3 * PhaseRecorder.SWEEP_MIN;
    CountDownLatch end = new CountDownLatch(1);
    List<Thread> threads = startIdle(idle, "short", end);
    assertThat(names(drain())).hasSize(2 * idle);
    end.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(drain()).isEmpty();
    // the threads ended after the drain that saw them leave their phase: the next tick's sweep
    // reached only a slice of them
    assertThat(recorder.slotsInUse()).isGreaterThan(PhaseRecorder.SWEEP_MIN);
    // a thread that ends inside a phase has its phase closed at the very next tick, whichever
    // slot it holds and wherever the sweep is
    Thread inside = new Thread(() -> recorder.enter("left-open"));
    inside.start();
    inside.join();
    assertThat(names(drain())).containsExactly("left-open", "other");
    // within a few ticks every slot of an ended thread is free again
    for (int tick = 0; tick < 4; tick++) {
      assertThat(drain()).isEmpty();
    }
    assertThat(recorder.slotsInUse()).isZero();
  }

  @Test
  void pendingAndDrainChangedSeeTheOneThreadThatChangedAmongMany() throws Exception {
    int n = 200;
    CountDownLatch inside = new CountDownLatch(n);
    CountDownLatch release = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Thread t =
          new Thread(
              () -> {
                long token = recorder.enter("waiting");
                inside.countDown();
                try {
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                recorder.exit(token);
              });
      threads.add(t);
      t.start();
    }
    inside.await();
    assertThat(recorder.pending()).isTrue();
    assertThat(drain()).hasSize(n);
    assertThat(recorder.pending()).isFalse();
    long token = recorder.enter("here");
    assertThat(recorder.pending()).isTrue();
    List<Event> changed = new ArrayList<>();
    recorder.drainChanged(
        (time, slot, p) -> changed.add(new Event(time, slot, registry.name(p))), 0);
    assertThat(names(changed)).containsExactly("here");
    assertThat(recorder.pending()).isFalse();
    recorder.exit(token);
    release.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(names(drain())).hasSize(n + 1).containsOnly("other");
  }

  @Test
  void aChangeWakesTheThreadThatAsked() throws Exception {
    Thread sampler = Thread.currentThread();
    assertThat(recorder.wakeOnChange(sampler)).isTrue();
    Thread app = new Thread(() -> recorder.exit(recorder.enter("x")));
    long before = System.nanoTime();
    app.start();
    // parks until unparked by the change; 10 s would mean the wake-up never came
    java.util.concurrent.locks.LockSupport.parkNanos(10_000_000_000L);
    long waited = System.nanoTime() - before;
    app.join();
    assertThat(waited).isLessThan(5_000_000_000L);
    assertThat(recorder.pending()).isTrue();
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package io.jouletrace.agent.phase;

import io.jouletrace.bridge.Dispatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Records phase boundaries for every thread. {@link #enter(String)} and {@link #exit(long)} run on
 * application threads: they take no lock, do no I/O and allocate nothing once a thread has entered
 * its first phase. The sampler collects what they published with {@link #drainChanged(PhaseEvents,
 * long)} (the threads that changed phase since; at phase boundaries) and {@link #drain(PhaseEvents,
 * long)} (at each tick). Neither looks at every thread: a thread that published a change puts
 * itself on a list ({@link ChangedThreads}), the sampler keeps its own list of the threads inside a
 * phase (whose end must end their phases), and each tick looks at a slice of that list and of the
 * other slots, so that a hundred thousand threads cost the sampler what the ones that changed phase
 * cost.
 *
 * <p>Each thread that enters a phase gets a slot, a small number that names it in the timeline; the
 * slot of a thread that has ended is freed at the next {@link #drain} when it ended just after
 * leaving its last phase, within {@value #SWEEP_TICKS} drains when it ended inside one (at the next
 * while at most {@value #SWEEP_MIN} threads are inside a phase), and within {@value #SWEEP_DRAINS}
 * when it ended a while after leaving its last phase (an idle pool thread); the slot is then given
 * to the next new thread, so the slots in use are about as many as the threads alive with phases,
 * however many come and go. A thread found ended, outside any phase, when its last changes are
 * taken (a task on a virtual thread) is done with there and then, not by the walks of the next
 * tick: over thirty rounds of a hundred thousand such threads in one JVM the agent's own CPU time
 * fell from 0.94 to 0.77 CPU-s (medians of 5 runs each). Registering a thread takes no lock and
 * copies nothing of the other threads' state ({@link SlotTable}): a JVM may start a hundred
 * thousand virtual threads that each open one phase at once.
 *
 * <p>Phases are per thread and nest; closing a phase also closes the phases opened inside it. A
 * token closed on a thread other than the one that opened it is ignored (reported once).
 */
public final class PhaseRecorder implements Dispatch.Recorder, PhaseChanges {

  /**
   * Events per thread between two drains. The sampler drains at every phase boundary it notices
   * (within {@code boundary.resolution}) and every tick, so this holds even a thread that changes
   * phase every microsecond; beyond it the thread's current phase is resynchronised (see {@link
   * ThreadPhases}). At most 8 KB per thread; the first two events between drains live in the
   * thread's state, and a ring is made (64 bytes) and grows only when its thread publishes more
   * between two drains.
   */
  private static final int RING = 1024;

  private final PhaseRegistry registry;
  private final Consumer<String> warn;
  private final int maxSlots;

  /** Each thread's state, by thread id; set at its first phase. */
  private final ThreadIndex index;

  /**
   * The state of a thread whose entry in the index another thread held when it registered (a plain
   * thread-local: no supplier to call).
   */
  private final ThreadLocal<ThreadPhases> local = new ThreadLocal<>();

  private final ChangedThreads changed = new ChangedThreads();

  /** The sampler's state of each thread, by slot. */
  private final DrainState drainState;

  /**
   * Threads by slot (null where free), so that closing a phase needs no lookup by thread and the
   * sampler can walk them all; slots are handed out and given back without a lock.
   */
  private final SlotTable slots;

  /**
   * Slots the sweep of each tick looks at, at least; more when there are more slots, so that every
   * slot is looked at within {@value #SWEEP_DRAINS} ticks. Each tick also looks at this many
   * threads inside a phase, at least.
   */
  static final int SWEEP_MIN = 1024;

  /**
   * Ticks within which the threads inside a phase are all looked at: one that ended inside its
   * phase has that phase closed at most this many ticks late.
   */
  static final int SWEEP_TICKS = 10;

  /**
   * Ticks within which the sweep looks at every slot. What only the sweep finds costs no joule when
   * found late: a thread that ended a while after leaving its last phase (its slot and state are
   * freed then), and a change that no drain saw (a backstop: each drain's recheck takes those).
   * With a hundred thousand idle threads in a pool, a quiet job's sampler (a tick a second) used
   * 0.090 % of a core on a small machine, against 0.111 % when each tick swept a tenth of them.
   */
  static final int SWEEP_DRAINS = 30;

  /**
   * Threads one call of a walk's slice method looks at, at most. The sampler walks its lists in
   * slices so that a walk over many threads (the tick after a hundred thousand of them ended) runs
   * compiled code after its first few thousand: the JVM compiles a method after about a hundred
   * calls, but a loop that goes on inside one call only after tens of thousands of turns (on-stack
   * replacement), and the interpreter runs the turns before that about ten times slower.
   */
  static final int SLICE = 32;

  /**
   * Drains in a row that a list must stay under a quarter full before it halves. Drains come at the
   * sampler's ticks and at phase boundaries' reads, milliseconds apart in a burst of threads: a
   * list that halved at each drain with few threads in it grew again, by copies, at the next one
   * with many.
   */
  static final int QUIET_DRAINS = 16;

  // Sampler state.

  private int takenQuiet;
  private int openQuiet;
  private int leftQuiet;
  private int endedQuiet;

  /** Ended threads found by a drain, freed once the drain has handed over their last change. */
  private ThreadPhases[] ended = new ThreadPhases[16];

  private int endedCount;

  /** The slots of the ended threads being freed, given back together. */
  private int[] freed = new int[16];

  /**
   * The threads that drains since the last tick left outside any phase: looked at by the next tick
   * (after its own drain), which frees the slots of those that have ended by then. A thread that
   * opens one phase and ends right after closing it (a task on a virtual thread) then gives its
   * slot and state back within a tick or two instead of waiting for the sweep, so that they die
   * young.
   */
  private ThreadPhases[] left = new ThreadPhases[16];

  private int leftCount;

  /** The threads whose last change handed over put them inside a phase. */
  private ThreadPhases[] open = new ThreadPhases[16];

  private int openCount;

  /** Where the next look at the open list starts (it goes down from here). */
  private int openScan;

  /**
   * The threads taken off the changed list by the last drain, looked at again by the next: a change
   * published as the sampler took its thread off the list may not have been visible to that drain
   * yet, and its thread does not put itself on the list again for it.
   */
  private ThreadPhases[] recheck = new ThreadPhases[16];

  private int recheckCount;
  private ThreadPhases[] taken = new ThreadPhases[16];
  private int takenCount;

  /** The next slot the sweep looks at. */
  private int sweep;

  private final AtomicBoolean crossThreadReported = new AtomicBoolean();
  private final AtomicBoolean slotsReported = new AtomicBoolean();

  /**
   * Sampler: how many times a drain found a thread's ring overflowed, dropped events, and handed
   * over the thread's current phase instead (a phase shorter than a drain may then be lost).
   *
   * @return the count so far
   */
  public long resyncs() {
    return drainState.resyncs;
  }

  /**
   * Creates a recorder.
   *
   * @param registry phase names
   * @param warn receives one-line warnings
   */
  public PhaseRecorder(PhaseRegistry registry, Consumer<String> warn) {
    this(registry, warn, Tokens.MAX_SLOT + 1);
  }

  /**
   * Creates a recorder with fewer slots than tokens can carry (tests).
   *
   * @param maxSlots most threads with phases alive at once
   */
  PhaseRecorder(PhaseRegistry registry, Consumer<String> warn, int maxSlots) {
    this(registry, warn, maxSlots, new ThreadIndex());
  }

  /**
   * Creates a recorder with a given index of threads (tests: a small one, where threads share
   * entries).
   */
  PhaseRecorder(PhaseRegistry registry, Consumer<String> warn, int maxSlots, ThreadIndex index) {
    this.registry = registry;
    this.warn = warn;
    this.maxSlots = Math.max(1, Math.min(Tokens.MAX_SLOT + 1, maxSlots));
    this.slots = new SlotTable(this.maxSlots);
    this.drainState = new DrainState(this.maxSlots);
    this.index = index;
  }

  @Override
  public long enter(String phase) {
    Thread current = Thread.currentThread();
    long id = current.getId();
    ThreadPhases t = find(current, id);
    long now = System.nanoTime();
    if (t == null) {
      t = register(current, now); // its first phase: its clock starts there
      if (t == null) {
        return 0L; // no slot was free: try again at this thread's next phase
      }
      if (!index.claim(t)) {
        local.set(t);
      }
    }
    return t.push(t.idOf(phase, registry), now);
  }

  /**
   * The calling thread's state: in the index, or in the thread-local when another thread held its
   * entry when it registered (a thread on such a marked entry makes the thread-local's map as it
   * looks); {@code null} before its first phase.
   */
  private ThreadPhases find(Thread current, long id) {
    ThreadPhases t = index.get(current, id);
    return t != null || !index.elsewhere(id) ? t : local.get();
  }

  @Override
  public void exit(long token) {
    long now = System.nanoTime();
    ThreadPhases t = slots.own(Tokens.slot(token));
    // The slot's owner is this thread, another one (its state refers to that one), or nobody.
    if (t == null || !t.refersTo(Thread.currentThread())) {
      if (crossThreadReported.compareAndSet(false, true)) {
        warn.accept(
            "jouletrace: a phase was closed on a thread other than the one that opened it; such"
                + " closes are ignored and the phase ends when its own thread closes it or ends");
      }
      return;
    }
    t.pop(token, now);
  }

  /**
   * Returns the calling thread's innermost phase.
   *
   * @return the phase id ({@link PhaseRegistry#OTHER} outside any phase)
   */
  public int currentPhase() {
    Thread current = Thread.currentThread();
    ThreadPhases t = find(current, current.getId());
    return t == null ? PhaseRegistry.OTHER : t.current();
  }

  private ThreadPhases register(Thread current, long now) {
    int slot = slots.take();
    ThreadPhases t = null;
    if (slot >= 0) {
      t = new ThreadPhases(slot, current, RING, now, changed, drainState);
      registry.seed(t);
      slots.set(slot, t);
    }
    if (t == null && slotsReported.compareAndSet(false, true)) {
      warn.accept(
          "jouletrace: more than "
              + maxSlots
              + " threads alive at once have opened phases; phases of threads beyond them are"
              + " not recorded (their time goes to the phases of the others, or other) until"
              + " earlier threads end");
    }
    return t;
  }

  /**
   * Sampler: tells whether any thread published a phase change since the last drain, without taking
   * it: one read, whatever the number of threads. Cheap enough to poll every millisecond.
   */
  @Override
  public boolean pending() {
    return !changed.isEmpty();
  }

  @Override
  public long sourcesTaken() {
    return threadsTaken;
  }

  @Override
  public long threadsAtOnceHighWater() {
    return slots.highWater();
  }

  @Override
  public boolean drainWanted() {
    return changed.drainWanted();
  }

  @Override
  public void wakeWhenFilling(Thread waiter) {
    changed.wakeWhenFilling(waiter);
  }

  @Override
  public boolean wakeOnChange(Thread waiter) {
    changed.wakeOnPush(waiter);
    return true;
  }

  /**
   * Returns the thread that holds a slot now, for readers that map the slots of drained events to
   * threads (the profiler); call it while draining, before the slot of an ended thread is freed.
   *
   * @param slot a slot from a {@link PhaseEvents} event
   * @return its thread's {@link Thread#getId()}, or -1 when the slot is free
   */
  public long threadId(int slot) {
    ThreadPhases t = slots.get(slot);
    return t == null ? -1 : t.threadId;
  }

  /**
   * Describes the phases still open, for the report at exit: one entry per thread that is inside a
   * phase, as {@code name (thread)}.
   *
   * @return the open phases, empty when none
   */
  public List<String> openPhases() {
    List<String> open = new ArrayList<>();
    for (int i = 0, n = slots.highWater(); i < n; i++) {
      ThreadPhases t = slots.get(i);
      if (t == null) {
        continue;
      }
      int phase = t.current();
      Thread thread = t.get();
      if (phase != PhaseRegistry.OTHER && thread != null && thread.isAlive()) {
        open.add(registry.name(phase) + " (thread " + thread.getName() + ")");
      }
    }
    return open;
  }

  /** Threads taken off the changed lists so far ({@link #sourcesTaken()}); sampler only. */
  private long threadsTaken;

  /**
   * Sampler: hands over the phase changes of the threads that published some since they were last
   * drained, without looking at the others. A change that raced with the previous drain may wait
   * for the next {@link #drain}.
   *
   * @param sink receives events, per thread in time order
   * @param now the current {@link System#nanoTime()}
   */
  public void drainChanged(PhaseEvents sink, long now) {
    changed.drainStarted();
    takenCount = 0;
    recheck(sink, now);
    for (int s = 0; s < ChangedThreads.STRIPES; s++) {
      takeChanged(changed.take(s), sink, now);
    }
    ThreadPhases[] r = recheck;
    recheck = taken;
    recheckCount = takenCount;
    // The two arrays take turns: quiet while this drain's count is small against the larger one,
    // and it is the larger one that halves, at its turn.
    int room = 4 * Math.max(16, takenCount);
    takenQuiet = room < Math.max(r.length, recheck.length) ? takenQuiet + 1 : 0;
    if (takenQuiet >= QUIET_DRAINS && r.length > room) {
      r = new ThreadPhases[r.length / 2];
      takenQuiet = 0;
    }
    taken = r;
  }

  // Each list the sampler walks has methods of its own, and each walk goes in slices of at most
  // SLICE threads, one call each (see SLICE).

  private void recheck(PhaseEvents sink, long now) {
    for (int i = 0; i < recheckCount; i += SLICE) {
      recheckSlice(i, Math.min(recheckCount, i + SLICE), sink, now);
    }
  }

  private void recheckSlice(int from, int to, PhaseEvents sink, long now) {
    for (int i = from; i < to; i++) {
      ThreadPhases t = recheck[i];
      recheck[i] = null;
      if (!t.finished && t.pending()) {
        t.drain(sink, now);
        track(t);
      }
    }
  }

  private void takeChanged(ThreadPhases first, PhaseEvents sink, long now) {
    for (ThreadPhases t = first; t != null; ) {
      t = takeSlice(t, sink, now);
    }
  }

  /** Takes up to {@link #SLICE} threads of a changed list; returns the first one it left. */
  private ThreadPhases takeSlice(ThreadPhases first, PhaseEvents sink, long now) {
    ThreadPhases t = first;
    for (int k = 0; k < SLICE && t != null; k++) {
      threadsTaken++;
      ThreadPhases next = t.dequeued(); // before the drain: from here, t may push itself again
      // A thread finished since it put itself on the list (it ended, and a walk found it) has
      // nothing left to hand over, and its slot may be another thread's by now.
      if (!t.finished) {
        t.drain(sink, now);
        if (drainState.phase(t.slot) == PhaseRegistry.OTHER && t.ended()) {
          // Ended outside any phase since it last published (a task on a virtual thread): done
          // with now, while its state is at hand, rather than by the walks of the next tick and
          // the recheck of the next drain, each of which would read it from memory again.
          finish(t, sink, now);
        } else {
          track(t);
          if (takenCount == taken.length) {
            taken = Arrays.copyOf(taken, takenCount * 2);
          }
          taken[takenCount++] = t;
        }
      }
      t = next;
    }
    return t;
  }

  /** Keeps the list of threads inside a phase up to date with what {@code t} handed over. */
  private void track(ThreadPhases t) {
    boolean inside = drainState.phase(t.slot) != PhaseRegistry.OTHER;
    int index = drainState.openIndex(t.slot);
    if (inside && index < 0) {
      if (openCount == open.length) {
        open = Arrays.copyOf(open, openCount * 2);
      }
      drainState.openIndex(t.slot, openCount);
      open[openCount++] = t;
    } else if (!inside) {
      if (index >= 0) {
        unlist(t);
      }
      if (!t.onLeft) {
        t.onLeft = true;
        if (leftCount == left.length) {
          left = Arrays.copyOf(left, leftCount * 2);
        }
        left[leftCount++] = t;
      }
    }
  }

  private void unlist(ThreadPhases t) {
    int i = drainState.openIndex(t.slot);
    ThreadPhases last = open[--openCount];
    open[i] = last;
    drainState.openIndex(last.slot, i);
    open[openCount] = null;
    drainState.openIndex(t.slot, -1);
  }

  /**
   * Sampler: hands over the published phase changes; for each thread inside a phase that has ended,
   * a last change to {@code other} at {@code now} (its open phases end with it); and frees the
   * slots of ended threads. The changes of the threads that published some are all handed over; of
   * the threads inside a phase, and of the other slots, a slice (at least {@value #SWEEP_MIN}, and
   * every one within {@value #SWEEP_TICKS} and {@value #SWEEP_DRAINS} drains), which frees the
   * slots of threads that ended and hands over what a thread published unseen.
   *
   * @param sink receives events, per thread in time order
   * @param now the current {@link System#nanoTime()}
   */
  @Override
  public void drain(PhaseEvents sink, long now) {
    drainChanged(sink, now);
    lookAtOpen(sink, now);
    lookAtLeft(sink, now);
    sweep(sink, now);
    freeEnded();
  }

  private void freeEnded() {
    if (freed.length < endedCount) {
      freed = new int[ended.length];
    }
    for (int i = 0; i < endedCount; i += SLICE) {
      freeSlice(i, Math.min(endedCount, i + SLICE));
    }
    slots.release(freed, endedCount);
    // The lists shrink again after a burst of threads, a half at a time, once they have stayed
    // under a quarter full for QUIET_DRAINS drains: memory follows the threads alive, and a burst
    // that goes on does not make them grow again at every drain.
    openQuiet = quiet(openQuiet, open.length, openCount);
    if (openQuiet >= QUIET_DRAINS) {
      open = Arrays.copyOf(open, open.length / 2);
      openQuiet = 0;
    }
    endedQuiet = quiet(endedQuiet, ended.length, endedCount);
    if (endedQuiet >= QUIET_DRAINS) {
      ended = new ThreadPhases[ended.length / 2];
      freed = new int[ended.length];
      endedQuiet = 0;
    }
    endedCount = 0;
  }

  /** Frees the slots and index entries of ended threads {@code from} to {@code to}. */
  private void freeSlice(int from, int to) {
    for (int i = from; i < to; i++) {
      ThreadPhases t = ended[i];
      ended[i] = null;
      index.remove(t);
      drainState.free(t.slot);
      slots.set(t.slot, null);
      freed[i] = t.slot;
    }
  }

  /**
   * Looks whether threads inside a phase have ended: all of them while they are at most {@value
   * #SWEEP_MIN}, else a slice of a tenth (at least {@value #SWEEP_MIN}), going down the list from
   * where the last look stopped, so that a hundred thousand threads waiting inside their phases
   * cost a tick a tenth of them, not all. A thread that a finished one's place is given to may wait
   * for the next pass; the sweep also finds ended threads, every slot within {@value #SWEEP_DRAINS}
   * drains.
   */
  private void lookAtOpen(PhaseEvents sink, long now) {
    if (openCount <= SWEEP_MIN) {
      // Backwards, a slice at a time: unlisting moves the last one, already looked at, here.
      for (int to = openCount; to > 0; to -= SLICE) {
        openSlice(Math.max(0, to - SLICE), to, sink, now);
      }
      openScan = 0;
      return;
    }
    for (int look = Math.max(SWEEP_MIN, openCount / SWEEP_TICKS + 1); look > 0; look -= SLICE) {
      openScanSlice(Math.min(SLICE, look), sink, now);
    }
  }

  /** Looks at the open threads {@code to - 1} down to {@code from}. */
  private void openSlice(int from, int to, PhaseEvents sink, long now) {
    for (int i = to - 1; i >= from; i--) {
      ThreadPhases t = open[i];
      if (t.ended()) {
        finish(t, sink, now);
      }
    }
  }

  /** Looks at {@code n} open threads, down from where the last look stopped. */
  private void openScanSlice(int n, PhaseEvents sink, long now) {
    for (int k = 0; k < n && openCount > 0; k++) {
      // Downwards from where the last look stopped, round to the top at the bottom.
      if (openScan <= 0 || openScan > openCount) {
        openScan = openCount;
      }
      ThreadPhases t = open[--openScan];
      if (t.ended()) {
        finish(t, sink, now);
      }
    }
  }

  private void lookAtLeft(PhaseEvents sink, long now) {
    for (int i = 0; i < leftCount; i += SLICE) {
      leftSlice(i, Math.min(leftCount, i + SLICE), sink, now);
    }
    // Shrinks as the open list does: a burst of threads leaves no large list.
    leftQuiet = quiet(leftQuiet, left.length, leftCount);
    if (leftQuiet >= QUIET_DRAINS) {
      left = new ThreadPhases[left.length / 2];
      leftQuiet = 0;
    }
    leftCount = 0;
  }

  private void leftSlice(int from, int to, PhaseEvents sink, long now) {
    for (int i = from; i < to; i++) {
      ThreadPhases t = left[i];
      left[i] = null;
      t.onLeft = false;
      // Back inside a phase: on the open list again. Still alive: the sweep will come by.
      if (!t.finished && drainState.openIndex(t.slot) < 0 && t.ended()) {
        finish(t, sink, now);
      }
    }
  }

  private void sweep(PhaseEvents sink, long now) {
    int n = slots.highWater();
    for (int budget = Math.min(n, Math.max(SWEEP_MIN, n / SWEEP_DRAINS + 1));
        budget > 0;
        budget -= SLICE) {
      sweepSlice(n, Math.min(SLICE, budget), sink, now);
    }
  }

  private void sweepSlice(int n, int look, PhaseEvents sink, long now) {
    for (int k = 0; k < look; k++) {
      if (sweep >= n) {
        sweep = 0;
      }
      ThreadPhases t = slots.get(sweep++);
      if (t == null || t.finished) {
        continue;
      }
      if (t.pending()) {
        t.drain(sink, now);
        track(t);
      }
      if (t.ended()) {
        finish(t, sink, now);
      }
    }
  }

  /**
   * A dead thread publishes nothing more, and its termination makes its last writes visible here:
   * hands over what is left, ends the phases it left open, and queues its slot to be freed.
   */
  private void finish(ThreadPhases t, PhaseEvents sink, long now) {
    t.drain(sink, now);
    if (drainState.phase(t.slot) != PhaseRegistry.OTHER) {
      drainState.phase(t.slot, PhaseRegistry.OTHER);
      sink.accept(now, t.slot, PhaseRegistry.OTHER);
    }
    if (drainState.openIndex(t.slot) >= 0) {
      unlist(t);
    }
    t.finished = true;
    if (endedCount == ended.length) {
      ended = Arrays.copyOf(ended, endedCount * 2);
    }
    ended[endedCount++] = t;
  }

  /**
   * A list's quiet drains in a row after this one: one more when it has room for more than 64
   * threads and this drain left it under a quarter full, else none.
   */
  private static int quiet(int drains, int room, int count) {
    return room > 64 && count < room / 4 ? drains + 1 : 0;
  }

  /** The sampler's lists' room, in threads (tests). */
  int listRoom() {
    return taken.length + recheck.length + open.length + left.length + ended.length;
  }

  /** Slots handed out so far and not freed (tests). */
  int slotsInUse() {
    return slots.inUse();
  }
}

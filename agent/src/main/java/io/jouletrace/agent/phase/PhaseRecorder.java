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
 * its first phase. The sampler collects what they published with {@link #drain(PhaseEvents, long)}
 * (every thread; at each tick) and {@link #drainChanged(PhaseEvents, long)} (only the threads that
 * changed phase since; at phase boundaries).
 *
 * <p>Each thread that enters a phase gets a slot, a small number that names it in the timeline; the
 * slot of a thread that has ended is freed at the next {@link #drain} and given to the next new
 * thread, so the slots in use are as many as the threads alive with phases, however many come and
 * go. Registering a thread takes no lock and copies nothing of the other threads' state ({@link
 * SlotTable}): a JVM may start a hundred thousand virtual threads that each open one phase at once.
 *
 * <p>Phases are per thread and nest; closing a phase also closes the phases opened inside it. A
 * token closed on a thread other than the one that opened it is ignored (reported once).
 */
public final class PhaseRecorder implements Dispatch.Recorder, PhaseChanges {

  /**
   * Events per thread between two drains. The sampler drains at every phase boundary it notices
   * (within {@code boundary.resolution}) and every tick, so this holds even a thread that changes
   * phase every microsecond; beyond it the thread's current phase is resynchronised (see {@link
   * ThreadPhases}). At most 8 KB per thread; a ring starts at 128 bytes and grows only when its
   * thread publishes more between two drains.
   */
  private static final int RING = 1024;

  private final PhaseRegistry registry;
  private final Consumer<String> warn;
  private final int maxSlots;

  /** Each thread's state; set at its first phase (a plain thread-local: no supplier to call). */
  private final ThreadLocal<ThreadPhases> local = new ThreadLocal<>();

  private final ChangedThreads changed = new ChangedThreads();

  /**
   * Threads by slot (null where free), so that closing a phase needs no thread-local lookup and the
   * sampler can walk them all; slots are handed out and given back without a lock.
   */
  private final SlotTable slots;

  // Sampler state: ended threads found by a drain, to be freed under one lock.
  private ThreadPhases[] ended = new ThreadPhases[16];

  private final AtomicBoolean crossThreadReported = new AtomicBoolean();
  private final AtomicBoolean slotsReported = new AtomicBoolean();

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
    this.registry = registry;
    this.warn = warn;
    this.maxSlots = Math.max(1, Math.min(Tokens.MAX_SLOT + 1, maxSlots));
    this.slots = new SlotTable(this.maxSlots);
  }

  @Override
  public long enter(String phase) {
    ThreadPhases t = local.get();
    if (t == null) {
      t = register();
      if (t == null) {
        return 0L; // no slot was free: try again at this thread's next phase
      }
      local.set(t);
    }
    return t.push(t.idOf(phase, registry), System.nanoTime());
  }

  @Override
  public void exit(long token) {
    long now = System.nanoTime();
    ThreadPhases t = slots.get(Tokens.slot(token));
    // Thread.getId() is final and reads a field; the slot's owner is this thread or nobody's.
    if (t == null || t.threadId != Thread.currentThread().getId()) {
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
    ThreadPhases t = local.get();
    return t == null ? PhaseRegistry.OTHER : t.current();
  }

  private ThreadPhases register() {
    int slot = slots.take();
    ThreadPhases t = null;
    if (slot >= 0) {
      t = new ThreadPhases(slot, Thread.currentThread(), RING, System.nanoTime(), changed);
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
      Thread thread = t.thread.get();
      if (phase != PhaseRegistry.OTHER && thread != null && thread.isAlive()) {
        open.add(registry.name(phase) + " (thread " + thread.getName() + ")");
      }
    }
    return open;
  }

  /**
   * Sampler: hands over the phase changes of the threads that published some since they were last
   * drained, without looking at the others. A change that raced with the previous drain may wait
   * for the next {@link #drain}.
   *
   * @param sink receives events, per thread in time order
   * @param now the current {@link System#nanoTime()}
   */
  public void drainChanged(PhaseEvents sink, long now) {
    for (int s = 0; s < ChangedThreads.STRIPES; s++) {
      for (ThreadPhases t = changed.take(s); t != null; ) {
        ThreadPhases next = t.dequeued(); // before the drain: from here, t may push itself again
        t.drain(sink, now);
        t = next;
      }
    }
  }

  /**
   * Sampler: hands over every published phase change, then for each thread that has ended, a last
   * change to {@code other} at {@code now} (its open phases end with it) and frees its slot.
   *
   * @param sink receives events, per thread in time order
   * @param now the current {@link System#nanoTime()}
   */
  @Override
  public void drain(PhaseEvents sink, long now) {
    drainChanged(sink, now);
    int endedCount = 0;
    for (int i = 0, n = slots.highWater(); i < n; i++) {
      ThreadPhases t = slots.get(i);
      if (t == null) {
        continue;
      }
      t.drain(sink, now);
      if (t.ended()) {
        // A dead thread publishes nothing more, and its termination makes its stack visible
        // here: drain once more, then end the phases it left open.
        t.drain(sink, now);
        if (t.depth() > 0) {
          sink.accept(now, t.slot, PhaseRegistry.OTHER);
        }
        if (endedCount == ended.length) {
          ended = Arrays.copyOf(ended, endedCount * 2);
        }
        ended[endedCount++] = t;
      }
    }
    if (endedCount > 0) {
      free(endedCount);
    }
  }

  private void free(int count) {
    for (int i = 0; i < count; i++) {
      ThreadPhases t = ended[i];
      ended[i] = null;
      slots.set(t.slot, null);
      slots.release(t.slot);
    }
  }

  /** Slots handed out so far and not freed (tests). */
  int slotsInUse() {
    return slots.inUse();
  }
}

package io.jouletrace.agent.phase;

import io.jouletrace.bridge.Dispatch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Records phase boundaries for every thread. {@link #enter(String)} and {@link #exit(long)} run on
 * application threads: they take no lock, do no I/O and allocate nothing once a thread has entered
 * its first phase. The sampler collects what they published with {@link #drain(PhaseEvents, long)}.
 *
 * <p>Phases are per thread and nest; closing a phase also closes the phases opened inside it. A
 * token closed on a thread other than the one that opened it is ignored (reported once).
 */
public final class PhaseRecorder implements Dispatch.Recorder {

  /**
   * Events per thread between two drains. The sampler drains at every phase boundary it notices
   * (within {@code boundary.resolution}) and every tick, so this holds even a thread that changes
   * phase every microsecond; beyond it the thread's current phase is resynchronised (see {@link
   * ThreadPhases}). 8 KB per thread.
   */
  private static final int RING = 1024;

  private final PhaseRegistry registry;
  private final Consumer<String> warn;
  private final ThreadLocal<ThreadPhases> local = ThreadLocal.withInitial(this::register);
  private final List<ThreadPhases> live = new ArrayList<>();
  private volatile ThreadPhases[] liveArray = new ThreadPhases[0];

  /** Live threads by slot, so that closing a phase needs no thread-local lookup. */
  private volatile ThreadPhases[] bySlot = new ThreadPhases[16];

  private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
  private final AtomicBoolean crossThreadReported = new AtomicBoolean();
  private int nextSlot;

  /**
   * Creates a recorder.
   *
   * @param registry phase names
   * @param warn receives one-line warnings
   */
  public PhaseRecorder(PhaseRegistry registry, Consumer<String> warn) {
    this.registry = registry;
    this.warn = warn;
  }

  @Override
  public long enter(String phase) {
    ThreadPhases t = local.get();
    return t.push(t.idOf(phase, registry), System.nanoTime());
  }

  @Override
  public void exit(long token) {
    long now = System.nanoTime();
    ThreadPhases[] slots = bySlot;
    int slot = Tokens.slot(token);
    ThreadPhases t = slot < slots.length ? slots[slot] : null;
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

  private synchronized ThreadPhases register() {
    Integer free = freeSlots.poll();
    int slot = free != null ? free : nextSlot++;
    ThreadPhases t = new ThreadPhases(slot, Thread.currentThread(), RING, System.nanoTime());
    live.add(t);
    liveArray = live.toArray(new ThreadPhases[0]);
    ThreadPhases[] slots = bySlot;
    if (slot >= slots.length) {
      slots = Arrays.copyOf(slots, Math.max(slot + 1, slots.length * 2));
    } else {
      slots = slots.clone();
    }
    slots[slot] = t;
    bySlot = slots;
    return t;
  }

  /**
   * Sampler: tells whether any thread published a phase change since the last drain, without taking
   * it. Cheap enough to poll every millisecond.
   */
  public boolean pending() {
    for (ThreadPhases t : liveArray) {
      if (t.pending()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns the thread that holds a slot now, for readers that map the slots of drained events to
   * threads (the profiler); call it while draining, before the slot of an ended thread is freed.
   *
   * @param slot a slot from a {@link PhaseEvents} event
   * @return its thread's {@link Thread#getId()}, or -1 when the slot is free
   */
  public long threadId(int slot) {
    ThreadPhases[] slots = bySlot;
    ThreadPhases t = slot >= 0 && slot < slots.length ? slots[slot] : null;
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
    for (ThreadPhases t : liveArray) {
      int phase = t.current();
      Thread thread = t.thread.get();
      if (phase != PhaseRegistry.OTHER && thread != null && thread.isAlive()) {
        open.add(registry.name(phase) + " (thread " + thread.getName() + ")");
      }
    }
    return open;
  }

  /**
   * Sampler: hands over every published phase change, then for each thread that has ended, a last
   * change to {@code other} at {@code now} (its open phases end with it) and frees its slot.
   *
   * @param sink receives events, per thread in time order
   * @param now the current {@link System#nanoTime()}
   */
  public void drain(PhaseEvents sink, long now) {
    List<ThreadPhases> ended = null;
    for (ThreadPhases t : liveArray) {
      t.drain(sink, now);
      if (t.ended()) {
        // A dead thread publishes nothing more, and its termination makes its stack visible
        // here: drain once more, then end the phases it left open.
        t.drain(sink, now);
        if (t.depth() > 0) {
          sink.accept(now, t.slot, PhaseRegistry.OTHER);
        }
        if (ended == null) {
          ended = new ArrayList<>();
        }
        ended.add(t);
      }
    }
    if (ended != null) {
      synchronized (this) {
        ThreadPhases[] slots = bySlot.clone();
        for (ThreadPhases t : ended) {
          live.remove(t);
          freeSlots.add(t.slot);
          slots[t.slot] = null;
        }
        liveArray = live.toArray(new ThreadPhases[0]);
        bySlot = slots;
      }
    }
  }
}

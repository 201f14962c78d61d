package io.jouletrace.agent.phase;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads that published phase changes since the sampler last took them: lock-free stacks
 * linked through {@link ThreadPhases#nextChanged}, so that pushing allocates nothing. A thread
 * pushes itself at its first change after the sampler took it (at most once per drain, whatever its
 * rate of changes), and the sampler takes each stack whole. The sampler therefore learns whether
 * anything changed with a few reads, and drains only the threads that did, however many threads
 * there are.
 *
 * <p>Threads are spread over {@value #STRIPES} stacks by slot, each head on a cache line of its
 * own: a hundred thousand threads that start at once would otherwise all compete for one word.
 */
final class ChangedThreads {

  static final int STRIPES = 8;

  /** References per 64-byte cache line at most (4-byte compressed references). */
  private static final int SPREAD = 16;

  private final AtomicReferenceArray<ThreadPhases> tops =
      new AtomicReferenceArray<>(STRIPES * SPREAD);

  /** The thread to wake at the next push, if one asked ({@link #wakeOnPush}); else null. */
  private final AtomicReference<Thread> waiter = new AtomicReference<>();

  /**
   * Wakes {@code t} at the next push, once. A push costs the pushing thread one read of this while
   * nobody waits, and one unpark when somebody does: the sampler asks only while it may still read
   * counters at boundaries, so at most a few hundred times a second.
   */
  void wakeOnPush(Thread t) {
    waiter.set(t);
  }

  /** Owner of {@code t}: pushes it; {@code t} is in no stack. */
  void push(ThreadPhases t) {
    int i = (t.slot & (STRIPES - 1)) * SPREAD;
    ThreadPhases h;
    do {
      h = tops.get(i);
      t.nextChanged = h;
    } while (!tops.compareAndSet(i, h, t));
    if (waiter.get() != null) {
      Thread w = waiter.getAndSet(null);
      if (w != null) {
        LockSupport.unpark(w);
      }
    }
  }

  /**
   * Sampler: takes every thread pushed so far onto one stack, linked through {@link
   * ThreadPhases#nextChanged}, most recent first; {@code null} when none.
   *
   * @param stripe 0 to {@value #STRIPES} - 1
   */
  ThreadPhases take(int stripe) {
    int i = stripe * SPREAD;
    return tops.get(i) == null ? null : tops.getAndSet(i, null);
  }

  /** Whether a thread was pushed since the stacks were last taken. */
  boolean isEmpty() {
    for (int s = 0; s < STRIPES; s++) {
      if (tops.get(s * SPREAD) != null) {
        return false;
      }
    }
    return true;
  }
}

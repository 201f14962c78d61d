package io.jouletrace.agent.phase;

import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
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
 * Heads and the waiter are volatile fields changed through field updaters, which call the JVM's
 * atomics directly: {@code AtomicReferenceArray} and {@code AtomicReference} go through {@code
 * VarHandle}s, linked at first use through method handles (see {@link ThreadPhases}).
 */
final class ChangedThreads {

  static final int STRIPES = 8;

  /** A cache line's worth of fields, for {@link Stripe}. */
  @SuppressWarnings("unused")
  private static class Pad {
    long p0;
    long p1;
    long p2;
    long p3;
    long p4;
    long p5;
    long p6;
    long p7;
  }

  /**
   * One stack's head, in an object of two cache lines and more (whatever order the JVM lays its
   * fields out in), so that the heads of the stripes, allocated one after the other, never share a
   * line.
   */
  @SuppressWarnings("unused")
  private static final class Stripe extends Pad {
    volatile ThreadPhases top;
    long q0;
    long q1;
    long q2;
    long q3;
    long q4;
    long q5;
    long q6;
    long q7;
  }

  private static final AtomicReferenceFieldUpdater<Stripe, ThreadPhases> TOP =
      AtomicReferenceFieldUpdater.newUpdater(Stripe.class, ThreadPhases.class, "top");

  private static final AtomicReferenceFieldUpdater<ChangedThreads, Thread> WAITER =
      AtomicReferenceFieldUpdater.newUpdater(ChangedThreads.class, Thread.class, "waiter");

  private final Stripe[] stripes = new Stripe[STRIPES];

  /** The thread to wake at the next push, if one asked ({@link #wakeOnPush}); else null. */
  private volatile Thread waiter;

  ChangedThreads() {
    for (int s = 0; s < STRIPES; s++) {
      stripes[s] = new Stripe();
    }
  }

  /**
   * Wakes {@code t} at the next push, once. A push costs the pushing thread one read of this while
   * nobody waits, and one unpark when somebody does: the sampler asks only while it may still read
   * counters at boundaries, so at most a few hundred times a second.
   */
  void wakeOnPush(Thread t) {
    waiter = t;
  }

  /**
   * The thread to wake whenever a thread's ring is filling ({@link #requestDrain}); set once by the
   * sampler, and kept.
   */
  private volatile Thread fillWaiter;

  /** A thread asked for a drain since the sampler last began one. */
  private volatile boolean drainWanted;

  /** Sampler: wakes {@code t} whenever a thread's ring fills faster than the ticks drain it. */
  void wakeWhenFilling(Thread t) {
    fillWaiter = t;
  }

  /**
   * Owner of a ring that is half full: asks the sampler for a drain before it is full and events
   * must be dropped. Called at most once per quarter of a ring's events, and only by a thread that
   * publishes faster than the ticks drain.
   */
  void requestDrain() {
    if (!drainWanted) {
      drainWanted = true;
      Thread w = fillWaiter;
      if (w != null) {
        LockSupport.unpark(w);
      }
    }
  }

  /** Whether a thread asked for a drain since the last began. */
  boolean drainWanted() {
    return drainWanted;
  }

  /** Sampler: a drain begins; it takes what the threads that asked have published by now. */
  void drainStarted() {
    if (drainWanted) {
      drainWanted = false;
    }
  }

  /** Owner of {@code t}: pushes it; {@code t} is in no stack. */
  void push(ThreadPhases t) {
    Stripe s = stripes[t.slot & (STRIPES - 1)];
    ThreadPhases h;
    do {
      h = s.top;
      t.nextChanged = h;
    } while (!TOP.compareAndSet(s, h, t));
    if (waiter != null) {
      Thread w = WAITER.getAndSet(this, null);
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
    Stripe s = stripes[stripe];
    return s.top == null ? null : TOP.getAndSet(s, null);
  }

  /** Whether a thread was pushed since the stacks were last taken. */
  boolean isEmpty() {
    for (Stripe s : stripes) {
      if (s.top != null) {
        return false;
      }
    }
    return true;
  }
}

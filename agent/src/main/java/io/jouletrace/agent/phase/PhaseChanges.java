package io.jouletrace.agent.phase;

/**
 * Where the sampler takes phase changes from: the {@link PhaseRecorder} of application threads, or
 * a script in tests.
 */
public interface PhaseChanges {

  /**
   * Tells whether changes were published since the last {@link #drain}, without taking them.
   *
   * @return {@code true} when a drain would hand something over
   */
  boolean pending();

  /**
   * Hands over every published change in time order per thread.
   *
   * @param sink receives the changes
   * @param now the current {@link System#nanoTime()}
   */
  void drain(PhaseEvents sink, long now);

  /**
   * Hands over the changes of the sources that published some since they were last drained, without
   * looking at the others; a change that raced with the previous drain may wait for the next {@link
   * #drain}. By default, everything.
   *
   * @param sink receives the changes
   * @param now the current {@link System#nanoTime()}
   */
  default void drainChanged(PhaseEvents sink, long now) {
    drain(sink, now);
  }

  /**
   * How many times so far a drain took a source that had published changes (a thread with news):
   * the sampler's work per drain grows with it, not with the number of changes.
   *
   * @return a count that never falls; by default 0 (not known)
   */
  default long sourcesTaken() {
    return 0;
  }

  /**
   * How many threads have held a place among the sources of changes at once, at most, so far: it
   * grows when threads new to phases start faster than ended ones are drained, and each such thread
   * has at least one change to hand over. By default 0 (not known).
   *
   * @return a count that never falls
   */
  default long threadsAtOnceHighWater() {
    return 0;
  }

  /**
   * Tells whether a source of changes asked for a drain before the next tick: one that publishes so
   * fast that it would otherwise drop changes.
   *
   * @return {@code true} when a {@link #drainChanged} is wanted now
   */
  default boolean drainWanted() {
    return false;
  }

  /**
   * Asks to be woken ({@link java.util.concurrent.locks.LockSupport#unpark}) whenever a source of
   * changes asks for a drain ({@link #drainWanted()}), from now on.
   *
   * @param waiter the thread to wake
   */
  default void wakeWhenFilling(Thread waiter) {}

  /**
   * Asks to be woken ({@link java.util.concurrent.locks.LockSupport#unpark}) at the next change
   * published from now on, once; the caller then checks {@link #pending()} again before it parks,
   * so that a change published meanwhile is not missed.
   *
   * @param waiter the thread to wake
   * @return {@code false} when changes cannot wake anyone (the caller then polls)
   */
  default boolean wakeOnChange(Thread waiter) {
    return false;
  }
}

package io.jouletrace.agent.phase;

/** Receives changes of a thread's innermost phase, as published by application threads. */
@FunctionalInterface
public interface PhaseEvents {

  /**
   * One change.
   *
   * @param time {@link System#nanoTime()} of the change
   * @param slot the thread's slot
   * @param phase the thread's innermost phase id from then on ({@link PhaseRegistry#OTHER} when
   *     none)
   */
  void accept(long time, int slot, int phase);
}

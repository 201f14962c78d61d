package io.jouletrace.agent.phase;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The threads that published phase changes since the sampler last took them: a lock-free stack
 * linked through {@link ThreadPhases#nextChanged}, so that pushing allocates nothing. A thread
 * pushes itself at its first change after the sampler took it (at most once per drain, whatever its
 * rate of changes), and the sampler takes the whole stack at once. The sampler therefore learns
 * whether anything changed with one read, and drains only the threads that did, however many
 * threads there are.
 */
final class ChangedThreads {

  private final AtomicReference<ThreadPhases> top = new AtomicReference<>();

  /** Owner of {@code t}: pushes it; {@code t} is in no stack. */
  void push(ThreadPhases t) {
    ThreadPhases h;
    do {
      h = top.get();
      t.nextChanged = h;
    } while (!top.compareAndSet(h, t));
  }

  /** Sampler: takes every thread pushed so far, most recent first; {@code null} when none. */
  ThreadPhases takeAll() {
    return top.get() == null ? null : top.getAndSet(null);
  }

  /** Whether a thread was pushed since the last {@link #takeAll()}. */
  boolean isEmpty() {
    return top.get() == null;
  }
}

package io.jouletrace.agent.phase;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;

/**
 * One thread's phase stack and the single-producer, single-consumer ring through which it publishes
 * changes of its innermost phase to the sampler. The owning thread writes without locks; only the
 * sampler reads.
 */
final class ThreadPhases {

  static final int MAX_DEPTH = 1024;
  private static final VarHandle HEAD;
  private static final VarHandle TAIL;
  private static final VarHandle CURRENT;
  private static final VarHandle OVERFLOWED;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      HEAD = l.findVarHandle(ThreadPhases.class, "head", long.class);
      TAIL = l.findVarHandle(ThreadPhases.class, "tail", long.class);
      CURRENT = l.findVarHandle(ThreadPhases.class, "current", int.class);
      OVERFLOWED = l.findVarHandle(ThreadPhases.class, "overflowed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final int slot;
  final WeakReference<Thread> thread;

  // Owner-thread state.
  private int[] stack = new int[16];
  private int[] generations = new int[16];
  private int depth;
  private int nextGeneration = 1;

  // Ring: written by the owner, read by the sampler.
  private final long[] times;
  private final int[] phases;
  private final int mask;
  @SuppressWarnings("unused") // accessed through HEAD
  private long head;
  @SuppressWarnings("unused") // accessed through TAIL
  private long tail;
  @SuppressWarnings("unused") // accessed through CURRENT
  private int current = PhaseRegistry.OTHER;
  @SuppressWarnings("unused") // accessed through OVERFLOWED
  private boolean overflowed;

  ThreadPhases(int slot, Thread thread, int ringCapacity) {
    this.slot = slot;
    this.thread = new WeakReference<>(thread);
    int cap = Integer.highestOneBit(Math.max(16, ringCapacity - 1)) << 1;
    this.times = new long[cap];
    this.phases = new int[cap];
    this.mask = cap - 1;
  }

  /** Owner: pushes a phase; returns its token, or 0 when the stack is too deep. */
  long push(int phase, long now) {
    if (depth == MAX_DEPTH || (depth > 0 && stack[depth - 1] == phase)) {
      // Too deep, or re-entering the innermost phase (recursion, an overriding method calling
      // its super): changes nothing, so nothing is pushed and the caller's close is a no-op.
      return 0L;
    }
    if (depth == stack.length) {
      stack = java.util.Arrays.copyOf(stack, depth * 2);
      generations = java.util.Arrays.copyOf(generations, depth * 2);
    }
    int generation = nextGeneration;
    nextGeneration = (generation + 1) & Tokens.GENERATION_MASK;
    if (nextGeneration == 0) {
      nextGeneration = 1;
    }
    stack[depth] = phase;
    generations[depth] = generation;
    depth++;
    publish(now, phase);
    return Tokens.encode(slot, depth, generation);
  }

  /**
   * Owner: closes the frame a token names and every frame above it; does nothing when that frame
   * is already closed.
   */
  void pop(long token, long now) {
    int d = Tokens.depth(token);
    if (d < 1 || d > depth || generations[d - 1] != Tokens.generation(token)) {
      return;
    }
    depth = d - 1;
    publish(now, depth == 0 ? PhaseRegistry.OTHER : stack[depth - 1]);
  }

  /** Owner: current stack depth. */
  int depth() {
    return depth;
  }

  private void publish(long now, int phase) {
    CURRENT.setRelease(this, phase);
    long h = (long) HEAD.getOpaque(this);
    if (h - (long) TAIL.getAcquire(this) > mask) {
      OVERFLOWED.setRelease(this, true);
      return;
    }
    int i = (int) (h & mask);
    times[i] = now;
    phases[i] = phase;
    HEAD.setRelease(this, h + 1);
  }

  /**
   * Sampler: hands over published events. When the ring overflowed, events were dropped; the
   * thread's current innermost phase is then handed over at {@code now} so the state is right
   * again from here on.
   *
   * @return number of events handed over
   */
  int drain(PhaseEvents sink, long now) {
    long t = (long) TAIL.getOpaque(this);
    long h = (long) HEAD.getAcquire(this);
    int n = 0;
    for (long i = t; i < h; i++) {
      int j = (int) (i & mask);
      sink.accept(times[j], slot, phases[j]);
      n++;
    }
    TAIL.setRelease(this, h);
    if ((boolean) OVERFLOWED.getAcquire(this)) {
      OVERFLOWED.setRelease(this, false);
      sink.accept(now, slot, (int) CURRENT.getAcquire(this));
      n++;
    }
    return n;
  }

  /** Any thread: the innermost phase this thread last published. */
  int current() {
    return (int) CURRENT.getAcquire(this);
  }

  /** Sampler: whether changes were published since the last drain. */
  boolean pending() {
    return (long) HEAD.getAcquire(this) != (long) TAIL.getOpaque(this)
        || (boolean) OVERFLOWED.getOpaque(this);
  }

  /** Sampler: the thread has ended (or was collected). */
  boolean ended() {
    Thread t = thread.get();
    return t == null || !t.isAlive();
  }
}

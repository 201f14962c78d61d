package io.jouletrace.agent.phase;

import java.lang.invoke.VarHandle;

/**
 * What the sampler keeps of each thread between drains, by slot, in arrays of its own instead of
 * fields of {@link ThreadPhases}: the time of the last event it took, the innermost phase that
 * event left, and the thread's place in the recorder's list of threads inside a phase.
 *
 * <p>The owner of a {@link ThreadPhases} writes its state's cache lines at every phase change, and
 * a line that the sampler writes between two of them must come back to the owner's core, a miss of
 * about a hundred nanoseconds between cores. Kept in the thread's state, this bookkeeping made
 * every drain write to each of its lines; here a drain writes to the thread's state only what the
 * hand-over needs (how far it took the ring, and that the thread is off the changed list).
 *
 * <p>A slot's state belongs to the thread that holds the slot: its owner starts it when it takes
 * the slot ({@link #start}), before it publishes anything, and the sampler alone reads and writes
 * it afterwards. The sampler must therefore never touch it for a thread it has finished (whose slot
 * may have passed to another thread): every walk checks {@link ThreadPhases#finished} first.
 *
 * <p>Two {@code long}s per slot, in chunks of {@value #CHUNK} slots made when the first thread of a
 * chunk starts and never moved: the time, then the list index (high half) and the phase (low half).
 */
final class DrainState {

  /** Drains that found a thread's ring overflowed and handed over its current phase instead. */
  long resyncs;

  static final int CHUNK_BITS = 10;
  static final int CHUNK = 1 << CHUNK_BITS;
  private static final int MASK = CHUNK - 1;

  private final long[][] chunks;

  /**
   * @param maxSlots slots, at most
   */
  DrainState(int maxSlots) {
    this.chunks = new long[(maxSlots + CHUNK - 1) >>> CHUNK_BITS][];
  }

  /**
   * Owner of a new slot: its state starts at {@code base}, outside any phase and off the list. The
   * sampler reads it after it has seen the thread's state, which the owner publishes after this.
   */
  void start(int slot, long base) {
    long[] c = chunks[slot >>> CHUNK_BITS];
    VarHandle.acquireFence();
    if (c == null) {
      c = makeChunk(slot >>> CHUNK_BITS);
    }
    int i = (slot & MASK) << 1;
    c[i] = base;
    c[i + 1] = pack(-1, PhaseRegistry.OTHER);
  }

  private synchronized long[] makeChunk(int c) {
    long[] chunk = chunks[c];
    if (chunk == null) {
      chunk = new long[CHUNK << 1];
      VarHandle.releaseFence();
      chunks[c] = chunk;
    }
    return chunk;
  }

  private long[] chunk(int slot) {
    return chunks[slot >>> CHUNK_BITS];
  }

  /** Sampler: the time of the last event taken from the slot's thread. */
  long drained(int slot) {
    return chunk(slot)[(slot & MASK) << 1];
  }

  void drained(int slot, long time) {
    chunk(slot)[(slot & MASK) << 1] = time;
  }

  /** Sampler: the innermost phase last handed over for the slot's thread. */
  int phase(int slot) {
    return (int) chunk(slot)[((slot & MASK) << 1) + 1];
  }

  void phase(int slot, int phase) {
    long[] c = chunk(slot);
    int i = ((slot & MASK) << 1) + 1;
    c[i] = pack((int) (c[i] >> 32), phase);
  }

  /** Sampler: where the slot's thread sits in the list of threads inside a phase, or -1. */
  int openIndex(int slot) {
    return (int) (chunk(slot)[((slot & MASK) << 1) + 1] >> 32);
  }

  void openIndex(int slot, int index) {
    long[] c = chunk(slot);
    int i = ((slot & MASK) << 1) + 1;
    c[i] = pack(index, (int) c[i]);
  }

  private static long pack(int index, int phase) {
    return ((long) index << 32) | (phase & 0xFFFFFFFFL);
  }
}

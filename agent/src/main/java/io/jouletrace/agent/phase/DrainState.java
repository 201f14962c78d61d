package io.jouletrace.agent.phase;

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
 * <p>A slot's state belongs to the thread that holds the slot, and only the sampler reads and
 * writes it: the sampler starts it when it first takes that thread's changes ({@link #own}), from
 * the instant the thread registered, and forgets whose it was when it frees the slot ({@link
 * #free}). A new thread thus writes nothing here: its slot's line was last written by the sampler's
 * core, and the owner's write made it a miss for every new thread. The sampler must never touch a
 * slot's state for a thread it has finished (whose slot may have passed to another thread): every
 * walk checks {@link ThreadPhases#finished} first.
 *
 * <p>Two {@code long}s per slot, in chunks of {@value #CHUNK} slots made when the sampler first
 * meets a thread of the chunk and never moved: the time, then the list index (high half) and the
 * phase (low half); and, per slot, the thread whose state it is.
 */
final class DrainState {

  /** Drains that found a thread's ring overflowed and handed over its current phase instead. */
  long resyncs;

  static final int CHUNK_BITS = 10;
  static final int CHUNK = 1 << CHUNK_BITS;
  private static final int MASK = CHUNK - 1;

  private final long[][] chunks;

  /**
   * Per chunk: the thread whose state each slot holds, or null. Only the sampler reads and writes
   * these and the chunks, under the ledger's lock: no fences.
   */
  private final ThreadPhases[][] owners;

  /**
   * @param maxSlots slots, at most
   */
  DrainState(int maxSlots) {
    this.chunks = new long[(maxSlots + CHUNK - 1) >>> CHUNK_BITS][];
    this.owners = new ThreadPhases[chunks.length][];
  }

  /**
   * Sampler: makes the slot's state {@code t}'s, started at {@code base} (outside any phase, off
   * the list), unless it is already.
   */
  void own(int slot, ThreadPhases t, long base) {
    ThreadPhases[] o = owners[slot >>> CHUNK_BITS];
    if (o == null) {
      makeChunk(slot >>> CHUNK_BITS);
      o = owners[slot >>> CHUNK_BITS];
    } else if (o[slot & MASK] == t) {
      return;
    }
    o[slot & MASK] = t;
    long[] c = chunks[slot >>> CHUNK_BITS];
    int i = (slot & MASK) << 1;
    c[i] = base;
    c[i + 1] = pack(-1, PhaseRegistry.OTHER);
  }

  /** Sampler: the slot's thread has been finished; its state is no one's until {@link #own}. */
  void free(int slot) {
    ThreadPhases[] o = owners[slot >>> CHUNK_BITS];
    if (o != null) {
      o[slot & MASK] = null;
    }
  }

  /** The thread whose state the slot holds, or null (tests). */
  ThreadPhases owner(int slot) {
    ThreadPhases[] o = owners[slot >>> CHUNK_BITS];
    return o == null ? null : o[slot & MASK];
  }

  private void makeChunk(int c) {
    chunks[c] = new long[CHUNK << 1];
    owners[c] = new ThreadPhases[CHUNK];
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

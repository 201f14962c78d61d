package io.jouletrace.agent.timeline;

import java.util.Arrays;

/**
 * Phase changes of all threads in time order, kept until every {@link Occupancy} cursor has passed
 * them. Events are addressed by an absolute sequence number.
 *
 * <p>Events live in chunks of {@value #CHUNK}, which are added as the log grows and dropped once
 * every cursor has passed them: a burst of changes (a hundred thousand threads ending within one
 * tick) neither copies the log to grow it nor needs one large array, which the collector would have
 * to place in regions of its own (2 MB and more is "humongous" for G1 on a heap of a few hundred
 * MB). A few dropped chunks are kept for the next ones, so that a log that a tick's changes fill
 * and the next sample empties allocates little.
 */
final class EventLog {

  static final int CHUNK_BITS = 12;

  /** Events per chunk: 32 KB of times and 16 KB each of slots and phases. */
  static final int CHUNK = 1 << CHUNK_BITS;

  private static final int MASK = CHUNK - 1;

  /** Dropped chunks kept for reuse, at most (256 KB). */
  static final int SPARE_CHUNKS = 4;

  /** One chunk's events, by position. */
  private static final class Chunk {
    final long[] times = new long[CHUNK];
    final int[] slots = new int[CHUNK];
    final int[] phases = new int[CHUNK];
  }

  /** Chunks in use, the first holding chunk number {@code base}; then nulls. */
  private Chunk[] chunks = new Chunk[4];

  private int used;

  /** Chunk number (sequence number / {@value #CHUNK}) of the first chunk in use. */
  private long base;

  private long first; // sequence number of the first event kept
  private long end; // sequence number the next event gets
  private long lastTime = Long.MIN_VALUE;

  /** Events appended after a later one, and the most any of them was moved forward (ns). */
  private long moved;

  private long maxLateness;

  private final Chunk[] spares = new Chunk[SPARE_CHUNKS];
  private int spareCount;

  /**
   * Appends an event. An event older than the last one (a thread that published late) is moved to
   * the last one's time, so that order, and with it conservation, holds.
   */
  void append(long time, int slot, int phase) {
    int k = (int) ((end >>> CHUNK_BITS) - base);
    if (k == used) {
      addChunk();
    }
    Chunk c = chunks[k];
    int i = (int) end & MASK;
    long t = Math.max(time, lastTime);
    if (t != time) {
      moved++;
      maxLateness = Math.max(maxLateness, t - time);
    }
    c.times[i] = t;
    c.slots[i] = slot;
    c.phases[i] = phase;
    end++;
    lastTime = t;
  }

  private void addChunk() {
    if (used == chunks.length) {
      chunks = Arrays.copyOf(chunks, used * 2);
    }
    if (spareCount > 0) {
      chunks[used] = spares[--spareCount];
      spares[spareCount] = null;
    } else {
      chunks[used] = new Chunk();
    }
    used++;
  }

  private Chunk chunkOf(long seq) {
    return chunks[(int) ((seq >>> CHUNK_BITS) - base)];
  }

  /** Events moved to a later one's time so far ({@link #append}). */
  long moved() {
    return moved;
  }

  /** The most an event was moved forward so far, in nanoseconds. */
  long maxLateness() {
    return maxLateness;
  }

  /** The time of the latest event, {@link Long#MIN_VALUE} before the first. */
  long lastTime() {
    return lastTime;
  }

  long end() {
    return end;
  }

  long time(long seq) {
    return chunkOf(seq).times[(int) seq & MASK];
  }

  int slot(long seq) {
    return chunkOf(seq).slots[(int) seq & MASK];
  }

  int phase(long seq) {
    return chunkOf(seq).phases[(int) seq & MASK];
  }

  /** Forgets events before {@code seq} (at most up to the end). */
  void trimBefore(long seq) {
    if (seq <= first) {
      return;
    }
    first = Math.min(seq, end);
    int drop = (int) ((first >>> CHUNK_BITS) - base);
    if (drop <= 0) {
      return;
    }
    for (int k = 0; k < drop && spareCount < SPARE_CHUNKS; k++) {
      spares[spareCount++] = chunks[k];
    }
    int keep = used - drop;
    System.arraycopy(chunks, drop, chunks, 0, keep);
    Arrays.fill(chunks, keep, used, null);
    used = keep;
    base += drop;
    if (chunks.length > 16 && used < chunks.length / 4) {
      chunks = Arrays.copyOf(chunks, chunks.length / 2);
    }
  }

  int size() {
    return (int) (end - first);
  }

  /** Chunks holding events, and chunks kept for reuse (tests). */
  int[] chunkCounts() {
    return new int[] {used, spareCount};
  }
}

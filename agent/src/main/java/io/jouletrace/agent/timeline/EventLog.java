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

  private long[][] times = new long[4][];
  private int[][] slots = new int[4][];
  private int[][] phases = new int[4][];

  /**
   * Chunks in use: indices 0 to {@code chunks - 1}, the first holding chunk number {@code base}.
   */
  private int chunks;

  /** Chunk number (sequence number / {@value #CHUNK}) of the first chunk in use. */
  private long base;

  private long first; // sequence number of the first event kept
  private long end; // sequence number the next event gets
  private long lastTime = Long.MIN_VALUE;

  private final long[][] spareTimes = new long[SPARE_CHUNKS][];
  private final int[][] spareSlots = new int[SPARE_CHUNKS][];
  private final int[][] sparePhases = new int[SPARE_CHUNKS][];
  private int spares;

  /**
   * Appends an event. An event older than the last one (a thread that published late) is moved to
   * the last one's time, so that order, and with it conservation, holds.
   */
  void append(long time, int slot, int phase) {
    int k = (int) ((end >>> CHUNK_BITS) - base);
    if (k == chunks) {
      addChunk();
    }
    int i = (int) end & MASK;
    long t = Math.max(time, lastTime);
    times[k][i] = t;
    slots[k][i] = slot;
    phases[k][i] = phase;
    end++;
    lastTime = t;
  }

  private void addChunk() {
    if (chunks == times.length) {
      times = Arrays.copyOf(times, chunks * 2);
      slots = Arrays.copyOf(slots, chunks * 2);
      phases = Arrays.copyOf(phases, chunks * 2);
    }
    if (spares > 0) {
      spares--;
      times[chunks] = spareTimes[spares];
      slots[chunks] = spareSlots[spares];
      phases[chunks] = sparePhases[spares];
      spareTimes[spares] = null;
      spareSlots[spares] = null;
      sparePhases[spares] = null;
    } else {
      times[chunks] = new long[CHUNK];
      slots[chunks] = new int[CHUNK];
      phases[chunks] = new int[CHUNK];
    }
    chunks++;
  }

  /** The time of the latest event, {@link Long#MIN_VALUE} before the first. */
  long lastTime() {
    return lastTime;
  }

  long end() {
    return end;
  }

  long time(long seq) {
    return times[(int) ((seq >>> CHUNK_BITS) - base)][(int) seq & MASK];
  }

  int slot(long seq) {
    return slots[(int) ((seq >>> CHUNK_BITS) - base)][(int) seq & MASK];
  }

  int phase(long seq) {
    return phases[(int) ((seq >>> CHUNK_BITS) - base)][(int) seq & MASK];
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
    for (int k = 0; k < drop; k++) {
      if (spares < SPARE_CHUNKS) {
        spareTimes[spares] = times[k];
        spareSlots[spares] = slots[k];
        sparePhases[spares] = phases[k];
        spares++;
      }
    }
    int keep = chunks - drop;
    System.arraycopy(times, drop, times, 0, keep);
    System.arraycopy(slots, drop, slots, 0, keep);
    System.arraycopy(phases, drop, phases, 0, keep);
    Arrays.fill(times, keep, chunks, null);
    Arrays.fill(slots, keep, chunks, null);
    Arrays.fill(phases, keep, chunks, null);
    chunks = keep;
    base += drop;
    if (times.length > 16 && chunks < times.length / 4) {
      times = Arrays.copyOf(times, times.length / 2);
      slots = Arrays.copyOf(slots, slots.length / 2);
      phases = Arrays.copyOf(phases, phases.length / 2);
    }
  }

  int size() {
    return (int) (end - first);
  }

  /** Chunks holding events, and chunks kept for reuse (tests). */
  int[] chunkCounts() {
    return new int[] {chunks, spares};
  }
}

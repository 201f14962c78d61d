package io.jouletrace.agent.phase;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The threads with phases, by slot, and the handing out of slots, without a lock.
 *
 * <p>A hundred thousand virtual threads may each open their first phase at the same instant: a lock
 * there makes them queue on one monitor, and on a few carrier threads a monitor hands over far more
 * slowly than the work it guards takes (seconds for 100,000 threads). Here a new thread takes a
 * freed slot from a lock-free stack, or the next never-used one from a counter; only the sampler
 * frees slots.
 *
 * <p>Slots live in chunks of {@value #CHUNK} that are allocated once the chunk before is half taken
 * (or when first needed) and never moved, so that a reader never sees a table being copied: the
 * table costs a directory of {@code maxSlots / CHUNK} references up front and 8 KB per chunk in
 * use, and one chunk ahead. The free stack links slots through an int per slot, kept in the same
 * chunks; its head carries a tag that changes with every operation, so that a thread that read the
 * head before other threads popped and pushed again cannot pop a stale link.
 *
 * <p>Slots and chunks are published with a release fence before a plain write and read with an
 * acquire fence after a plain read, for the reason {@link ThreadPhases} gives.
 */
final class SlotTable {

  static final int CHUNK_BITS = 10;
  static final int CHUNK = 1 << CHUNK_BITS;
  private static final int MASK = CHUNK - 1;

  private final int maxSlots;

  /** Per chunk: the threads (release/acquire), then the free-stack links. */
  private final ThreadPhases[][] threads;

  private final int[][] links;

  /** Slots handed out at least once: every slot below it has its chunk. */
  private final AtomicInteger used = new AtomicInteger();

  /** Tag in the high 32 bits, top free slot + 1 in the low 32 (0: empty). */
  private final AtomicLong head = new AtomicLong();

  SlotTable(int maxSlots) {
    this.maxSlots = maxSlots;
    int chunks = (maxSlots + CHUNK - 1) >>> CHUNK_BITS;
    this.threads = new ThreadPhases[chunks][];
    this.links = new int[chunks][];
    if (chunks > 0) {
      ensureChunk(0);
    }
  }

  /**
   * Takes a slot: a freed one if any, else the next never used.
   *
   * @return the slot, or -1 when all {@code maxSlots} are taken
   */
  int take() {
    while (true) {
      long h = head.get();
      int top = (int) h - 1;
      if (top < 0) {
        break;
      }
      int next = linkChunk(top)[top & MASK];
      VarHandle.acquireFence();
      if (head.compareAndSet(h, tagged(h, next + 1))) {
        return top;
      }
    }
    while (true) {
      int slot = used.get();
      if (slot >= maxSlots) {
        return -1;
      }
      int c = slot >>> CHUNK_BITS;
      ThreadPhases[] chunk = threads[c];
      VarHandle.acquireFence();
      if (chunk == null) {
        ensureChunk(c);
      }
      if (used.compareAndSet(slot, slot + 1)) {
        if ((slot & MASK) == CHUNK / 2 && c + 1 < threads.length) {
          ensureChunk(c + 1); // the next chunk, made by this slot's thread alone
        }
        return slot;
      }
    }
  }

  /**
   * Makes chunk {@code c} if it is missing. The thread that takes the slot half-way through a chunk
   * makes the next one, so that the threads that reach it find it made: a virtual thread that has
   * to wait for this monitor unmounts, which copies its stack out, and a hundred thousand new
   * threads would meet here once per chunk.
   */
  private synchronized void ensureChunk(int c) {
    if (threads[c] == null) {
      int[] l = new int[CHUNK];
      ThreadPhases[] t = new ThreadPhases[CHUNK];
      VarHandle.releaseFence();
      links[c] = l;
      VarHandle.releaseFence();
      threads[c] = t;
    }
  }

  /**
   * Gives slots back, for the next new threads; sampler only. Their threads must have been cleared.
   * The slots are linked to each other first and put on the free stack with one atomic operation:
   * the sampler frees the slots of a hundred thousand ended threads in a few drains, and one such
   * operation per slot made the stack's head a line that the carrier threads taking slots and the
   * sampler passed between their cores at every slot.
   *
   * @param freed the slots, in {@code freed[0..n)}
   * @param n how many
   */
  void release(int[] freed, int n) {
    if (n <= 0) {
      return;
    }
    for (int i = 0; i < n - 1; i++) {
      linkChunk(freed[i])[freed[i] & MASK] = freed[i + 1];
    }
    int last = freed[n - 1];
    int[] chunk = linkChunk(last);
    while (true) {
      long h = head.get();
      chunk[last & MASK] = (int) h - 1;
      VarHandle.releaseFence(); // the links before the head that makes them reachable
      if (head.compareAndSet(h, tagged(h, freed[0] + 1))) {
        return;
      }
    }
  }

  private static long tagged(long h, int low) {
    return (((h >>> 32) + 1) << 32) | (low & 0xFFFFFFFFL);
  }

  private int[] linkChunk(int slot) {
    int[] chunk = links[slot >>> CHUNK_BITS];
    VarHandle.acquireFence();
    return chunk;
  }

  private ThreadPhases[] threadChunk(int slot) {
    ThreadPhases[] chunk = threads[slot >>> CHUNK_BITS];
    VarHandle.acquireFence();
    return chunk;
  }

  /** Publishes a slot's thread (or clears it with {@code null}). */
  void set(int slot, ThreadPhases t) {
    ThreadPhases[] chunk = threadChunk(slot);
    VarHandle.releaseFence();
    chunk[slot & MASK] = t;
  }

  /** The slot's thread, or {@code null}. */
  ThreadPhases get(int slot) {
    if (slot < 0 || slot >= used.get()) {
      return null;
    }
    ThreadPhases[] chunk = threadChunk(slot);
    if (chunk == null) {
      return null;
    }
    ThreadPhases t = chunk[slot & MASK];
    VarHandle.acquireFence();
    return t;
  }

  /**
   * The slot's thread as read by that thread itself, which published it: plain reads, cheap also
   * before this code is compiled. From another thread it may read {@code null} or a thread that no
   * longer holds the slot; callers check the owner.
   */
  ThreadPhases own(int slot) {
    if (slot < 0 || slot >= maxSlots) {
      return null;
    }
    ThreadPhases[] chunk = threads[slot >>> CHUNK_BITS];
    return chunk == null ? null : chunk[slot & MASK];
  }

  /** Whether chunk {@code c} has been made (tests). */
  boolean hasChunk(int c) {
    return threadChunk(c << CHUNK_BITS) != null;
  }

  /** Slots handed out at least once; every slot with a thread is below it. */
  int highWater() {
    return used.get();
  }

  /** Slots handed out and not given back (tests: walks the free stack, while nothing changes). */
  int inUse() {
    int free = 0;
    for (int top = (int) head.get() - 1; top >= 0; top = linkChunk(top)[top & MASK]) {
      free++;
    }
    return used.get() - free;
  }
}

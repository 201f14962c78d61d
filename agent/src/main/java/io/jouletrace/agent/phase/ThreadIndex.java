package io.jouletrace.agent.phase;

/**
 * Each thread's {@link ThreadPhases} by its {@link Thread#getId() id}, so that a thread's first
 * phase does not create the thread-local map that a {@link ThreadLocal} puts on every thread that
 * uses one: a table of arrays, entry {@code id mod size}, which a thread claims at its first phase
 * and the sampler frees once the thread has ended. The JVM hands out ids in turn, so threads
 * started close together have nearby ids and the threads alive at once rarely share an entry; an
 * entry's state is a thread's when it refers to that thread, whatever id the thread reports. A
 * thread whose entry is held by another thread alive at the time keeps its state elsewhere (the
 * recorder's thread-local); the entry's mark then counts it until the sampler frees it, and while
 * the mark is set a thread whose id maps there and that finds no state of its own in it looks in
 * the thread-local before it takes itself for a new one (and makes the thread-local's map as it
 * looks). A mark kept for good instead put that look, and its map, on every later thread of an
 * entry that had once been shared: in thirty rounds of a hundred thousand short virtual threads, 14
 * and 22 % of all the threads took it in two runs of three, against none or one with counted marks.
 *
 * <p>A thread-local would put a map on each virtual thread that opens a phase (three objects, one
 * of them a weak reference that the collector processes while the thread lives): such a thread
 * allocates 200 bytes for the agent with the index against 336 with a thread-local.
 *
 * <p>Only a thread itself looks up, claims or marks its own entry; the sampler only frees entries
 * and marks of threads that have ended. A lookup reads without a lock (an array read as missing is
 * read again with it): a thread reads back what it wrote itself, and what it may read of another
 * thread's entry only sends it to the locked claim, which reads again; a mark matters only to the
 * threads it counts, and each reads back its own count, which the frees of other threads leave
 * above zero. Claims (once per thread) and frees lock their entry (one of a few locks). The arrays
 * are made at the first claim in their range, {@value #CHUNK} entries each, {@value #SIZE} entries
 * at most (about 1.3 MB when all are made, a few KB for a job with a few threads).
 */
final class ThreadIndex {

  /** Entries, at most: more than the threads a JVM keeps alive with phases at once, usually. */
  static final int SIZE = 1 << 18;

  static final int CHUNK_BITS = 10;
  static final int CHUNK = 1 << CHUNK_BITS;
  private static final int MASK = CHUNK - 1;

  /**
   * Locks of the entries, by entry mod {@value #LOCKS}: threads started one after the other claim
   * neighbouring entries, so two carrier threads starting tasks do not wait for each other (a
   * virtual thread that waits for a monitor may be unmounted). Each is an array of its own, a cache
   * line or more apart from the next.
   */
  private static final int LOCKS = 8;

  private final Object[] locks = new Object[LOCKS];

  private final int size;
  private final ThreadPhases[][] states;

  /**
   * Per entry, the threads whose ids map there that keep their state elsewhere and have not been
   * freed (127: that many or more, for good).
   */
  private final byte[][] elsewhere;

  ThreadIndex() {
    this(SIZE);
  }

  /**
   * Creates an index with fewer entries (tests).
   *
   * @param size entries, a power of two of at least {@value #CHUNK}
   */
  ThreadIndex(int size) {
    if (size < CHUNK || Integer.bitCount(size) != 1) {
      throw new IllegalArgumentException("size must be a power of two >= " + CHUNK + ": " + size);
    }
    this.size = size;
    for (int i = 0; i < LOCKS; i++) {
      locks[i] = new long[8];
    }
    this.states = new ThreadPhases[size >>> CHUNK_BITS][];
    this.elsewhere = new byte[size >>> CHUNK_BITS][];
  }

  private int entry(long threadId) {
    return (int) threadId & (size - 1);
  }

  /**
   * Owner: its state in this index.
   *
   * @param current the calling thread
   * @param threadId its id
   * @return its state, or {@code null} when this index holds none for it
   */
  ThreadPhases get(Thread current, long threadId) {
    int e = entry(threadId);
    ThreadPhases[] chunk = states[e >>> CHUNK_BITS];
    if (chunk == null && (chunk = statesOf(e >>> CHUNK_BITS)) == null) {
      return null;
    }
    ThreadPhases t = chunk[e & MASK];
    // By the thread itself, not its id: a Thread subclass may report any id.
    return t != null && t.refersTo(current) ? t : null;
  }

  /**
   * Owner: whether a thread whose id maps to the same entry may keep its state elsewhere: one that
   * found the entry held when it registered and has not been freed since.
   *
   * @param threadId the calling thread's id
   */
  boolean elsewhere(long threadId) {
    int e = entry(threadId);
    byte[] marks = elsewhere[e >>> CHUNK_BITS];
    if (marks == null && (marks = marksOf(e >>> CHUNK_BITS)) == null) {
      return false;
    }
    return marks[e & MASK] != 0;
  }

  /**
   * Owner: takes the entry of its id for its state; when another thread holds it, counts the caller
   * on the entry's mark instead and flags its state (the caller then keeps it elsewhere).
   *
   * @param t the calling thread's new state
   * @return {@code true} when the entry is now {@code t}'s
   */
  boolean claim(ThreadPhases t) {
    int e = entry(t.threadId);
    int c = e >>> CHUNK_BITS;
    ThreadPhases[] chunk = states[c];
    byte[] marks = elsewhere[c];
    if (chunk == null || marks == null) {
      chunk = makeChunk(c);
      marks = marksOf(c);
    }
    synchronized (locks[e & (LOCKS - 1)]) {
      if (chunk[e & MASK] == null) {
        chunk[e & MASK] = t;
        return true;
      }
      // One more thread of this entry elsewhere, until it ends; a count that reaches the top
      // stays there, for good.
      if (marks[e & MASK] != Byte.MAX_VALUE) {
        marks[e & MASK]++;
      }
      t.elsewhere = true;
      return false;
    }
  }

  private synchronized ThreadPhases[] makeChunk(int c) {
    if (states[c] == null) {
      elsewhere[c] = new byte[CHUNK];
      states[c] = new ThreadPhases[CHUNK];
    }
    return states[c];
  }

  // A chunk read as missing without the lock is read again with it: another thread may have made
  // it, and a read without the lock is not bound to see that even after an earlier one did.

  private synchronized ThreadPhases[] statesOf(int c) {
    return states[c];
  }

  private synchronized byte[] marksOf(int c) {
    return elsewhere[c];
  }

  /**
   * Sampler: frees the entry of a thread that has ended, when it holds it; when it kept its state
   * elsewhere, takes it off its entry's count of such threads.
   *
   * @param t an ended thread's state
   */
  void remove(ThreadPhases t) {
    int e = entry(t.threadId);
    int c = e >>> CHUNK_BITS;
    ThreadPhases[] chunk = states[c];
    byte[] marks = elsewhere[c];
    if (chunk == null || marks == null) {
      chunk = statesOf(c);
      marks = marksOf(c);
      if (chunk == null || marks == null) {
        return;
      }
    }
    synchronized (locks[e & (LOCKS - 1)]) {
      if (t.elsewhere) {
        byte n = marks[e & MASK];
        if (n != Byte.MAX_VALUE && n > 0) {
          marks[e & MASK] = (byte) (n - 1);
        }
      } else if (chunk[e & MASK] == t) {
        chunk[e & MASK] = null;
      }
    }
  }
}

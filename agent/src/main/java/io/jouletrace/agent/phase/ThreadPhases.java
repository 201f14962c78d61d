package io.jouletrace.agent.phase;

import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One thread's phase stack and the single-producer, single-consumer ring through which it publishes
 * changes of its innermost phase to the sampler. The owning thread writes without locks; only the
 * sampler reads.
 *
 * <p>An event is one {@code long}: the phase id in the low 16 bits and, above them, the nanoseconds
 * since the thread's previous published event (the first counts from the instant the thread was
 * registered). Eight events share a cache line, so the lines the sampler reads and the owner must
 * take back when it writes there again are as few as they can be. A gap longer than 2<sup>48</sup>
 * ns (3 days) is carried by time-only events ({@link #TIME_ONLY}). When the ring is full the owner
 * drops the event, leaves its own clock where the last published event put it (so the gaps still
 * add up), and marks the ring overflowed; the sampler then hands over the thread's current phase at
 * the drain's time.
 *
 * <p>The first {@value #INLINE} events live in two fields of this object, not in an array: a thread
 * that opens one phase and closes it between two drains (a task on a virtual thread) publishes
 * nothing more, and a JVM may run a hundred thousand of them. A thread that publishes more between
 * two drains gets a ring of {@value #FIRST_RING} events, which doubles up to its capacity. The
 * positions are {@code int}s that wrap around: only their differences, never more than the
 * capacity, are used. After its first change since a drain, the thread puts itself on the
 * recorder's {@link ChangedThreads} stack, so that the sampler finds the threads with news without
 * looking at the others.
 *
 * <p>Memory order between the owner and the sampler comes from {@link VarHandle}'s fences around
 * plain accesses (a release fence before a write that publishes, an acquire fence after a read that
 * takes), not from {@code VarHandle} access modes: a call through a {@code VarHandle} is linked at
 * its first use through method handles and runs through generic guards until the JIT compiles its
 * caller, which made a thread's first phases cost tens of microseconds each and the JIT compile
 * guard code; a fence is one static call to an intrinsic, and compiles to the same instructions as
 * the access modes did (none on x86). The two flags are volatile; the owner raises the overflow
 * flag with a release store ({@link #dropped()}).
 */
final class ThreadPhases extends WeakReference<Thread> {

  static final int MAX_DEPTH = 1024;

  /** Events held in this object's own fields, before a ring is needed. */
  static final int INLINE = 2;

  /** Events the ring holds when the inline events no longer suffice. */
  static final int FIRST_RING = 8;

  private static final int PHASE_BITS = 16;
  private static final long PHASE_MASK = (1L << PHASE_BITS) - 1;

  /** A phase code no registry hands out: the event only moves the thread's clock. */
  static final int TIME_ONLY = (int) PHASE_MASK;

  private static final long MAX_GAP = (1L << (64 - PHASE_BITS)) - 1;

  /** A string no caller holds: an empty cache entry (a null name must not match it). */
  @SuppressWarnings("StringOperationCanBeSimplified")
  private static final String NONE = new String("none");

  private static final AtomicIntegerFieldUpdater<ThreadPhases> OVERFLOWED =
      AtomicIntegerFieldUpdater.newUpdater(ThreadPhases.class, "overflowed");

  /** Set once, before the recorder publishes this thread in its slot table. */
  int slot;

  final long threadId;

  /** The instant this thread registered: its first event counts from here. */
  private final long base;

  private final ChangedThreads changed;

  /** The next thread on the {@link ChangedThreads} stack; written before each push. */
  ThreadPhases nextChanged;

  // Owner-thread state.
  // The outermost frame; the ones inside it, (phase << 32) | generation, from when there are any:
  // most threads open one phase at a time.
  private int phase0;
  private int generation0;
  private long[] frames;
  private int depth;
  private int nextGeneration = 1;
  private long published;
  private int tailSeen;
  // The last two names this thread entered, by identity (callers pass the same constant).
  private String name0 = NONE;
  private String name1 = NONE;
  private int id0;
  private int id1;

  // Sampler state: the rest of it is in the recorder's DrainState, by slot.
  private final DrainState drainState;

  /**
   * Sampler: the thread has ended and its last change was handed over; from here on its slot, and
   * the slot's {@link DrainState}, may be another thread's.
   */
  boolean finished;

  /** Sampler: on the recorder's list of threads to look at again at the next tick. */
  boolean onLeft;

  /**
   * Set once by the owner, under its entry's lock, when its entry in the {@link ThreadIndex} was
   * another thread's and its state went to the recorder's thread-local; read by the sampler under
   * the same lock when it frees the thread.
   */
  boolean elsewhere;

  // Ring: written by the owner, read by the sampler. Null while the events fit in e0 (even
  // positions) and e1 (odd ones); the owner replaces it by a larger copy when it is full (until it
  // holds capacity events) and never writes the one it replaced again; the sampler reads it after
  // head.
  private long[] ring;
  private long e0;
  private long e1;
  private final int capacity;

  /** Events published: written by the owner (release), read by the sampler (acquire). */
  private int head;

  /** Events taken: written by the sampler (release), read by the owner (acquire). */
  private int tail;

  /** The innermost phase: written by the owner (release), read by any thread (acquire). */
  private int current = PhaseRegistry.OTHER;

  /** 1 when the owner dropped an event since the sampler last handed over its current phase. */
  private volatile int overflowed;

  /**
   * On the {@link ChangedThreads} stack: set by the owner when it pushes, cleared by the sampler
   * when it has taken it off.
   */
  private volatile boolean queued;

  /** A thread that no recorder drains by its changes (tests). */
  ThreadPhases(int slot, Thread thread, int ringCapacity, long base) {
    this(slot, thread, ringCapacity, base, new ChangedThreads(), new DrainState(slot + 1));
  }

  /**
   * @param base the instant the thread registered: its first event counts from here, and the
   *     sampler starts the slot's {@link DrainState} there when it first drains this thread
   * @param drainState the sampler's state of the slots
   */
  ThreadPhases(
      int slot,
      Thread thread,
      int ringCapacity,
      long base,
      ChangedThreads changed,
      DrainState drainState) {
    super(thread);
    this.slot = slot;
    this.threadId = thread.getId();
    this.changed = changed;
    this.drainState = drainState;
    this.capacity = Integer.highestOneBit(Math.max(16, ringCapacity - 1)) << 1;
    this.base = base;
    this.published = base;
  }

  /** Owner: starts this thread's cache of names with a name and its id. */
  void seed(String name, int id) {
    name0 = name;
    id0 = id;
  }

  /** Owner: the id of a phase name, from this thread's last two names when it is one of them. */
  int idOf(String name, PhaseRegistry registry) {
    if (name == name0) {
      return id0;
    }
    if (name == name1) {
      return id1;
    }
    int id = registry.idOf(name);
    if (name != null) {
      name1 = name0;
      id1 = id0;
      name0 = name;
      id0 = id;
    }
    return id;
  }

  /** Owner: pushes a phase; returns its token, or 0 when the stack is too deep. */
  long push(int phase, long now) {
    if (depth == MAX_DEPTH || (depth > 0 && phaseAt(depth - 1) == phase)) {
      // Too deep, or re-entering the innermost phase (recursion, an overriding method calling
      // its super): changes nothing, so nothing is pushed and the caller's close is a no-op.
      return 0L;
    }
    int generation = nextGeneration;
    nextGeneration = (generation + 1) & Tokens.GENERATION_MASK;
    if (nextGeneration == 0) {
      nextGeneration = 1;
    }
    if (depth == 0) {
      phase0 = phase;
      generation0 = generation;
    } else {
      if (frames == null) {
        frames = new long[2];
      } else if (depth - 1 == frames.length) {
        frames = Arrays.copyOf(frames, frames.length * 2);
      }
      frames[depth - 1] = ((long) phase << 32) | generation;
    }
    depth++;
    publish(now, phase);
    return Tokens.encode(slot, depth, generation);
  }

  /**
   * Owner: closes the frame a token names and every frame above it; does nothing when that frame is
   * already closed.
   */
  void pop(long token, long now) {
    int d = Tokens.depth(token);
    if (d < 1 || d > depth || generationAt(d - 1) != Tokens.generation(token)) {
      return;
    }
    depth = d - 1;
    publish(now, depth == 0 ? PhaseRegistry.OTHER : phaseAt(depth - 1));
  }

  private int phaseAt(int i) {
    return i == 0 ? phase0 : (int) (frames[i - 1] >>> 32);
  }

  private int generationAt(int i) {
    return i == 0 ? generation0 : (int) frames[i - 1];
  }

  private void publish(long now, int phase) {
    VarHandle.releaseFence();
    current = phase;
    long gap = Math.max(0, now - published);
    if (gap > MAX_GAP) {
      publishLongGap(now, phase);
    } else if (append((gap << PHASE_BITS) | phase)) {
      published += gap;
    } else {
      dropped();
    }
    // The first change since the sampler took this thread: tell it. A later one finds it queued.
    if (!queued) {
      queued = true;
      changed.push(this);
    }
  }

  private void publishLongGap(long now, int phase) {
    while (now - published > MAX_GAP) {
      if (!append((MAX_GAP << PHASE_BITS) | TIME_ONLY)) {
        dropped();
        return;
      }
      published += MAX_GAP;
    }
    publish(now, phase);
  }

  /**
   * Owner: flags an event dropped on a full ring. A release store, not a volatile one: it orders
   * this thread's writes before it (its current phase) for the sampler that reads the flag, without
   * the full fence a volatile store costs on every change while the ring stays full (when changes
   * come faster than the sampler drains, most of them). A later read of this thread's that the
   * store does not wait for is the {@code queued} check, which the recheck of each drain covers
   * already (see {@link PhaseRecorder}).
   */
  private void dropped() {
    OVERFLOWED.lazySet(this, 1);
  }

  /** Owner: writes one event at the head; {@code false} when the ring is full and at capacity. */
  private boolean append(long event) {
    long[] r = ring;
    int h = head;
    int size = r == null ? INLINE : r.length;
    if (h - tailSeen >= size) {
      tailSeen = tail;
      VarHandle.acquireFence(); // the sampler's reads of the slots it freed come before our writes
      if (h - tailSeen >= size) {
        if (size >= capacity) {
          return false;
        }
        r = grow(r, h);
      }
    }
    if (r != null && (h & ((capacity >>> 2) - 1)) == 0 && r.length == capacity) {
      // Once every quarter of a full-sized ring: when half of it waits, the ticks do not drain
      // this thread fast enough; ask the sampler for a drain before events must be dropped.
      tailSeen = tail;
      VarHandle.acquireFence();
      if (h - tailSeen >= capacity >>> 1) {
        changed.requestDrain();
      }
    }
    if (r != null) {
      r[h & (r.length - 1)] = event;
    } else if ((h & 1) == 0) {
      e0 = event;
    } else {
      e1 = event;
    }
    VarHandle.releaseFence();
    head = h + 1;
    return true;
  }

  /**
   * Owner: replaces a full ring by one twice its size holding the same events. The old one is never
   * written again, so a sampler still reading it reads what it holds; one that reads the new one
   * (after a HEAD that covers it) finds every event it has not taken yet, from {@link #tailSeen}.
   */
  private long[] grow(long[] old, int h) {
    long[] r = new long[old == null ? FIRST_RING : old.length * 2];
    for (int i = tailSeen; i != h; i++) {
      r[i & (r.length - 1)] = event(old, i);
    }
    VarHandle.releaseFence();
    ring = r;
    return r;
  }

  /** The event at position {@code i}: in the ring, or inline when there is none yet. */
  private long event(long[] r, int i) {
    return r != null ? r[i & (r.length - 1)] : (i & 1) == 0 ? e0 : e1;
  }

  /**
   * Sampler: takes this thread off the {@link ChangedThreads} stack it was taken from; its next
   * change pushes it again.
   *
   * @return the next thread of that stack
   */
  ThreadPhases dequeued() {
    ThreadPhases next = nextChanged;
    nextChanged = null;
    queued = false;
    return next;
  }

  /**
   * Moves this new thread's positions to {@code position} (tests: positions that wrap around past
   * {@link Integer#MAX_VALUE}).
   */
  void startAt(int position) {
    head = position;
    tail = position;
    tailSeen = position;
  }

  /** Sampler: events the ring holds now (its capacity grows up to the one it was created with). */
  int ringSize() {
    long[] r = ring;
    VarHandle.acquireFence();
    return r == null ? INLINE : r.length;
  }

  /**
   * Sampler: hands over published events. When the ring overflowed, events were dropped; the
   * thread's current innermost phase is then handed over at {@code now} so the state is right again
   * from here on.
   *
   * @return number of events handed over
   */
  int drain(PhaseEvents sink, long now) {
    drainState.own(slot, this, base);
    int n = drainRing(sink);
    // Taken atomically: an overflow flagged while this drain runs is not lost. The events
    // published before the flagged drop are handed over first, then the current phase.
    if (overflowed != 0 && OVERFLOWED.getAndSet(this, 0) != 0) {
      n += drainRing(sink);
      drainState.resyncs++;
      int phase = current();
      drainState.phase(slot, phase);
      sink.accept(now, slot, phase);
      n++;
    }
    return n;
  }

  private int drainRing(PhaseEvents sink) {
    int t = tail;
    int h = head;
    VarHandle.acquireFence();
    if (h == t) {
      return 0; // nothing new; and no write to a line the owner is using
    }
    // As new as head, or newer; when null (or replaced since), the inline events still hold every
    // event up to head that the owner has not been allowed to overwrite.
    long[] r = ring;
    VarHandle.acquireFence();
    int n = 0;
    long time = drainState.drained(slot);
    int last = TIME_ONLY;
    for (int i = t; i != h; i++) {
      long e = event(r, i);
      time += e >>> PHASE_BITS;
      int phase = (int) (e & PHASE_MASK);
      if (phase != TIME_ONLY) {
        last = phase;
        sink.accept(time, slot, phase);
        n++;
      }
    }
    drainState.drained(slot, time);
    if (last != TIME_ONLY) {
      drainState.phase(slot, last);
    }
    VarHandle.releaseFence(); // our reads of the ring come before the owner may write there again
    tail = h;
    return n;
  }

  /** Any thread: the innermost phase this thread last published. */
  int current() {
    int c = current;
    VarHandle.acquireFence();
    return c;
  }

  /** Sampler: whether changes were published since the last drain. */
  boolean pending() {
    int h = head;
    VarHandle.acquireFence();
    return h != tail || overflowed != 0;
  }

  /** Sampler: the thread has ended (or was collected). */
  boolean ended() {
    Thread t = get();
    return t == null || !t.isAlive();
  }
}

package io.jouletrace.agent;

/**
 * When a slowly updating energy counter updates, learnt from the reads of it, so that each reading
 * is stamped with the instant its value stands for and reads are taken just after an update.
 *
 * <p>NVML's energy counter updates about every 100 ms and a read takes about 3 ms. A value read at
 * time t is the energy up to the counter's last update before t, not up to t: stamped at t (or half
 * a period early), up to 100 ms of energy lands on the wrong side of a phase boundary, which is a
 * large error for phases of a few hundred milliseconds. Once the update instants are known, a read
 * taken just after an update gives the energy up to a known instant; the ledger then splits only
 * the update period that holds a boundary, by the phases' learnt power.
 *
 * <p>States:
 *
 * <ul>
 *   <li>{@code SCAN}: reads back to back until two updates are each seen between two reads a few
 *       milliseconds apart; their distance is the period, the later one the anchor.
 *   <li>{@code LOCKED}: each update worth reading has a predicted interval (from the anchor, the
 *       period and their uncertainties), and is read just after it. Some updates also get a probe
 *       read: at the interval's middle, which halves it whichever way it answers, or (every third
 *       probe) a guard just before it, which must not see the update yet. Each update seen becomes
 *       the anchor, and the period is re-learnt over the whole distance from the first anchor, so
 *       its error shrinks as the run goes on. A read after the interval that sees no change, or a
 *       guard that sees one, means the counter no longer follows the grid: back to {@code SCAN}.
 *   <li>{@code CONTINUOUS}: the counter changed at every read while scanning: it is current when
 *       read, and each reading is stamped with the middle of its read.
 *   <li>{@code OFF}: scanning found no regular updates (nothing consumed, or irregular updates):
 *       the source is read at the sampler's ticks, each changed reading stamped half the declared
 *       period before the middle of its read, as without a grid; scanning is tried again later.
 * </ul>
 *
 * <p>Every stamp is the best estimate of the last update before the read, and stamps never
 * decrease; a reading whose value did not change keeps the previous stamp, since no update
 * happened. Not thread-safe: the sampler's thread owns it.
 */
final class UpdateGrid {

  /** Shortest update period taken for a grid; faster counters count as continuous. */
  static final long MIN_PERIOD = 5_000_000L;

  /** Longest update period taken for a grid. */
  static final long MAX_PERIOD = 2_000_000_000L;

  /** Least time between two reads while scanning, so that a fast read does not spin. */
  static final long SCAN_SPACING = 500_000L;

  /** Changed readings in a row, while scanning, that make the counter continuous. */
  static final int CONTINUOUS_AFTER = 4;

  /** Updates after a lock that are all probed, to learn anchor and period quickly. */
  static final int EARLY_PROBES = 10;

  /** After the early probes, one update in this many is probed. */
  static final int PROBE_EVERY = 4;

  /** Margin kept beyond a predicted interval. */
  static final long MARGIN = 1_000_000L;

  /** Locks lost in a row after which the grid waits {@link #RETRY} before scanning again. */
  static final int LOSSES_BEFORE_PAUSE = 3;

  /** How long the grid stays off after failing, before scanning again. */
  static final long RETRY = 10_000_000_000L;

  /** The state; see the class notes. */
  enum State {
    SCAN,
    LOCKED,
    CONTINUOUS,
    OFF
  }

  private static final long NONE = Long.MIN_VALUE;

  private final long declared;
  private State state = State.SCAN;
  private long stamp;

  private long prevStart = NONE;
  private long prevEnd = NONE;
  private long readNanos;

  private long scanStart = NONE;
  private int changedInARow;
  private long firstMid = NONE;
  private long firstHalf;

  /** The latest update seen: the middle and half-width of the interval it lies in. */
  private long anchor;

  private long anchorHalf;
  private double period;
  private double periodError;

  /** The first update seen since the lock, from which the period is measured. */
  private long baseMid;

  private long baseHalf;

  /** The interval of the update to read next; {@link #NONE} when none is planned. */
  private long lo = NONE;

  private long hi;
  private boolean probe;
  private boolean guard;
  private int targets;
  private int probes;
  private int lostLocks;
  private int pauses;
  private long offUntil;

  /**
   * Creates a grid for a counter that updates about every {@code declaredPeriod}.
   *
   * @param declaredPeriod the update period the source declares, in nanoseconds
   * @param firstStamp the instant the source's first reading stands for
   */
  UpdateGrid(long declaredPeriod, long firstStamp) {
    this.declared = declaredPeriod;
    this.stamp = firstStamp;
  }

  State state() {
    return state;
  }

  /** The learnt period in nanoseconds, 0 before the first lock. */
  double period() {
    return period;
  }

  /**
   * Returns when a read would first see the counter's next update after {@code t}: the update's
   * predicted instant plus its uncertainty and a margin; while scanning, a declared period and a
   * margin later; {@link Long#MIN_VALUE} for a counter that is current or read at ticks.
   */
  long nextUpdateSeenAfter(long t) {
    if (state == State.SCAN) {
      return t + declared + MARGIN;
    }
    if (state != State.LOCKED) {
      return NONE;
    }
    double k = Math.floor((t - anchor) / period) + 1;
    long update = anchor + (long) (k * period);
    return update + anchorHalf + (long) Math.ceil(Math.abs(k) * periodError) + MARGIN;
  }

  /**
   * Returns the instant a value read at {@code t} stands for, as far as the grid knows now: the
   * latest update before {@code t} once locked, {@code t} itself for a continuous counter, {@link
   * Long#MIN_VALUE} while that is not known.
   */
  long standsFor(long t) {
    if (state == State.CONTINUOUS) {
      return t;
    }
    if (state != State.LOCKED) {
      return NONE;
    }
    return lastUpdateAtOrBefore(t);
  }

  /** The predicted update at or before {@code t}. */
  private long lastUpdateAtOrBefore(long t) {
    return anchor + (long) (Math.floor((t - anchor) / period) * period);
  }

  /** Whether the source is read on the grid's schedule ({@link #nextRead}) instead of at ticks. */
  boolean scheduled() {
    return state == State.SCAN || state == State.LOCKED;
  }

  /**
   * Returns when the source should be read next: at once while scanning, at a probe or just after
   * the next update worth reading while locked, {@link Long#MAX_VALUE} when it is read at ticks.
   *
   * @param now the current time
   * @param interval the sampling interval: while locked, the next update read is at least about
   *     that far after the last one
   */
  long nextRead(long now, long interval) {
    switch (state) {
      case SCAN:
        return prevEnd == NONE ? now : Math.max(now, prevEnd + SCAN_SPACING);
      case LOCKED:
        if (lo == NONE) {
          plan(interval);
          if (hi - lo > period / 2) {
            lost(now); // the prediction has grown too uncertain to plan on
            return nextRead(now, interval);
          }
        }
        if (probe) {
          return guard ? lo - MARGIN - readNanos : lo + (hi - lo) / 2 - readNanos / 2;
        }
        return hi + MARGIN;
      case OFF:
        if (now >= offUntil) {
          rescan();
          return now;
        }
        return Long.MAX_VALUE;
      default:
        return Long.MAX_VALUE;
    }
  }

  /** Picks the next update worth reading and predicts the interval it falls in. */
  private void plan(long interval) {
    double gap = Math.max(period / 2, interval - period / 2);
    long predicted = anchor + (long) (Math.ceil((stamp + gap - anchor) / period) * period);
    double k = Math.max(1, Math.round((predicted - anchor) / period));
    long spread = anchorHalf + (long) Math.ceil(k * periodError);
    lo = predicted - spread;
    hi = predicted + spread;
    targets++;
    probe = targets <= EARLY_PROBES || targets % PROBE_EVERY == 0;
    guard = probe && ++probes % 3 == 0;
  }

  /**
   * Takes one read of the counter into account.
   *
   * @param start when the read began
   * @param end when it returned
   * @param changed whether the value differs from the previous read's
   * @param planned whether this is the read {@link #nextRead} asked for
   * @return the instant the value read stands for; never less than the previous one
   */
  long read(long start, long end, boolean changed, boolean planned) {
    readNanos = readNanos == 0 ? end - start : (3 * readNanos + (end - start)) / 4;
    long s;
    switch (state) {
      case SCAN:
        s = scan(start, end, changed);
        break;
      case LOCKED:
        s = planned && lo != NONE ? locked(start, end, changed) : unplanned(start, end, changed);
        break;
      case CONTINUOUS:
        s = start + (end - start) / 2;
        break;
      default:
        s = changed ? fallback(start, end) : stamp;
        break;
    }
    prevStart = start;
    prevEnd = end;
    stamp = Math.max(stamp, s);
    return stamp;
  }

  /** The stamp of a changed reading when nothing is known of the grid. */
  private long fallback(long start, long end) {
    long s = start + (end - start) / 2 - declared / 2;
    return prevStart == NONE ? s : Math.max(prevStart, s);
  }

  private long scan(long start, long end, boolean changed) {
    if (scanStart == NONE) {
      scanStart = start;
    }
    long s = stamp;
    if (changed && prevStart != NONE) {
      changedInARow++;
      long width = end - prevStart;
      // Back-to-back reads: the update lies between the previous read's middle and this one's.
      boolean narrow = width <= 3 * (end - start) + 2 * SCAN_SPACING + MARGIN;
      if (narrow) {
        long a = prevStart + (prevEnd - prevStart) / 2;
        long b = start + (end - start) / 2;
        long mid = a + (b - a) / 2;
        s = mid;
        if (firstMid != NONE && mid - firstMid >= MIN_PERIOD && mid - firstMid <= MAX_PERIOD) {
          lock(mid, (b - a) / 2);
        } else {
          firstMid = mid;
          firstHalf = (b - a) / 2;
        }
      } else {
        s = fallback(start, end);
      }
    } else if (!changed) {
      changedInARow = 0;
    }
    if (state == State.SCAN && changedInARow >= CONTINUOUS_AFTER) {
      state = State.CONTINUOUS;
    } else if (state == State.SCAN && end - scanStart > scanLimit(end - start)) {
      pause(end); // no two updates seen close enough: nothing consumed, or no regular updates
    }
    return s;
  }

  /** How long a scan may take: two declared periods, and some reads' worth of slack. */
  private long scanLimit(long read) {
    return 2 * Math.max(declared, MIN_PERIOD) + 2 * MARGIN + 20 * read;
  }

  private void lock(long mid, long half) {
    state = State.LOCKED;
    period = mid - firstMid;
    periodError = firstHalf + half;
    baseMid = firstMid;
    baseHalf = firstHalf;
    anchor = mid;
    anchorHalf = half;
    lo = NONE;
    targets = 0;
    pauses = 0;
  }

  /**
   * A planned read while locked: a probe, or the read after the predicted interval. A read is taken
   * to see the counter at its middle.
   */
  private long locked(long start, long end, boolean changed) {
    if (start > hi + (long) (period / 2)) {
      // Held up past the next update (the thread waited for a CPU): the value may stand for a
      // later update than the planned one, so it is stamped as a read outside the plan, and it
      // tells nothing of where the planned update lay. The next read is planned afresh.
      probe = false;
      lo = NONE;
      return unplanned(start, end, changed);
    }
    long mid = start + (end - start) / 2;
    if (probe && guard) {
      probe = false;
      if (changed && end <= lo) {
        // The update came before its interval: the counter has left the grid.
        lost(end);
        return Math.max(prevStart, start);
      }
      if (!changed) {
        lo = Math.max(lo, mid);
        return stamp;
      }
      // a guard taken late (the thread was held up) that already sees the update: as a probe
    } else if (probe) {
      probe = false;
      if (!changed) {
        lo = Math.max(lo, mid); // not yet: the update lies in the later half
        return stamp;
      }
      // seen: it lies in the earlier half; no read after the interval is needed
    } else if (!changed) {
      lost(end); // the update is late: the counter has left the grid
      return stamp;
    }
    hi = Math.min(hi, mid);
    if (hi < lo) {
      // reads a little off their middle: the bounds crossed by less than a read
      long m = hi + (lo - hi) / 2;
      lo = m;
      hi = m;
    }
    return seen(lo, hi);
  }

  /** The planned update was seen within {@code [a, b]}: it becomes the anchor. */
  private long seen(long a, long b) {
    anchor = a + (b - a) / 2;
    anchorHalf = (b - a) / 2;
    long n = Math.round((anchor - baseMid) / period);
    if (n >= 1) {
      period = (double) (anchor - baseMid) / n;
      periodError = (double) (baseHalf + anchorHalf) / n;
    }
    lo = NONE;
    lostLocks = 0;
    return anchor;
  }

  /** A read outside the plan (at exit): stamped with the latest predicted update before it. */
  private long unplanned(long start, long end, boolean changed) {
    if (!changed) {
      return stamp;
    }
    long mid = start + (end - start) / 2;
    long u = lastUpdateAtOrBefore(mid);
    return Math.min(end, Math.max(prevStart, u));
  }

  private void lost(long now) {
    if (++lostLocks >= LOSSES_BEFORE_PAUSE) {
      lostLocks = 0;
      pause(now);
      return;
    }
    rescan();
  }

  private void rescan() {
    state = State.SCAN;
    scanStart = NONE;
    firstMid = NONE;
    changedInARow = 0;
    lo = NONE;
    probe = false;
  }

  /** Stops scanning for a while, longer after each pause in a row (up to a minute). */
  private void pause(long now) {
    pauses = Math.min(pauses + 1, 6);
    state = State.OFF;
    offUntil = now + RETRY * pauses;
    lo = NONE;
  }
}

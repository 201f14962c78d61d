package io.jouletrace.bench;

import io.jouletrace.agent.phase.PhaseEvents;
import io.jouletrace.agent.phase.PhaseRecorder;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Stands in for the agent's sampler in phase benchmarks: a daemon thread that keeps draining a
 * {@link PhaseRecorder} so that the per-thread rings do not stay full and the application threads
 * take the normal publish path, not the ring-full (overflow) path, which skips the ring writes and
 * would look cheaper than it is.
 *
 * <p>The ring size is private to the recorder ({@code PhaseRecorder.RING}, 1024 events when this
 * was written); the drainer reads it reflectively and says so in its reports. A hot benchmark loop
 * publishes two events per enter/exit pair, so at ~50 ns a pair a 1024-event ring fills in ~25 µs:
 * less than the shortest real {@code LockSupport.parkNanos} (~50 µs of timer slack on Linux). By
 * default the drainer therefore paces itself to collect about half a ring of each thread per drain:
 * it halves its wait after one thread's batch was larger or its ring overflowed, and lengthens it
 * when every batch was small, parking when the wait is long and spinning ({@link
 * Thread#onSpinWait()}) when it is short, so with a hot producer it occupies a core. Rings that
 * filled while the drainer itself was off its core for much longer than its wait (one thread among
 * many that want a core) do not shorten the wait. With {@code -Djouletrace.bench.drainSpinUs=N} it
 * spins a fixed {@code N} µs between drains (how often a drain comes, and so how often the owner's
 * cache lines move to the drainer's core and back, is then the variable). With {@code
 * -Djouletrace.bench.drainParkUs=N} it instead parks a fixed {@code N} µs between drains, like a
 * plain sampler loop (expect overflows with a fast producer).
 *
 * <p>It counts what it hands over. The drain's {@code now} argument only time-stamps the re-sync
 * event that follows an overflow (and the end of a dead thread's open phases, which the benchmarks
 * never leave), so the drainer passes a sentinel time and counts those events as overflows exactly.
 * Every iteration it prints one line: drains, events, overflows, and the bytes the drainer thread
 * itself allocated ({@link PhaseRecorder#drain} allocates nothing; this should stay near 0), which
 * {@code -prof gc} counts into {@code gc.alloc.rate.norm} since that is a JVM-wide figure; the line
 * gives that share per op so it can be subtracted. Benchmark threads added with {@link #watch} get
 * a second line: their enter/exit pairs, the events lost to full rings (each pair publishes two;
 * those that never reached a drain were dropped), and the bytes they allocated themselves, the
 * direct answer to "does enter/exit allocate". The overflow count says how many drains found a ring
 * that had been full, not how many events were lost: one starved drain can cost thousands.
 */
final class RecorderDrainer implements PhaseEvents, Runnable {

  /** Time passed to {@link PhaseRecorder#drain}: marks re-sync (overflow) events. */
  static final long RESYNC = Long.MIN_VALUE;

  /** Events a thread's ring holds. */
  static final int RING_CAPACITY = ringCapacity();

  /** Events per drain the paced mode aims for: half a ring. */
  static final int TARGET_BATCH = RING_CAPACITY / 2;

  private static final long PARK_ABOVE_NS = 80_000;
  private static final long MAX_WAIT_NS = 1_000_000;

  private final PhaseRecorder recorder;
  private final long fixedParkNs;
  private final long fixedSpinNs;
  private final Thread thread;
  private final List<Thread> workers = new CopyOnWriteArrayList<>();
  private final List<LongSupplier> opCounters = new CopyOnWriteArrayList<>();
  private volatile boolean running = true;

  // Written by the drainer thread only (the sink runs on it).
  private long events;
  private long resyncs;
  private long drains;
  private int runSlot = -1;
  private int run;
  private boolean runOverflowed;
  private int largestRun;
  private int largestOverflowedRun;

  // Published after each drain for the reporting thread.
  private volatile long eventsSeen;
  private volatile long resyncsSeen;
  private volatile long drainsSeen;
  private volatile long finalBytes = -1;

  // Reporting thread only: values at the previous report.
  private long lastEvents;
  private long lastResyncs;
  private long lastDrains;
  private long lastBytes;
  private long lastWorkerBytes;
  private long lastOps;
  private long lastReportNs;
  private final long firstReportNs;

  private RecorderDrainer(PhaseRecorder recorder, long fixedParkNs, long fixedSpinNs) {
    this.recorder = recorder;
    this.fixedParkNs = fixedParkNs;
    this.fixedSpinNs = fixedSpinNs;
    this.thread = new Thread(this, "jouletrace-bench-drainer");
    thread.setDaemon(true);
    lastReportNs = System.nanoTime();
    firstReportNs = lastReportNs;
  }

  /**
   * Starts a drainer.
   *
   * @param recorder the recorder to drain
   * @return the running drainer
   */
  static RecorderDrainer start(PhaseRecorder recorder) {
    long park = microsProperty("jouletrace.bench.drainParkUs");
    long spin = microsProperty("jouletrace.bench.drainSpinUs");
    RecorderDrainer d = new RecorderDrainer(recorder, park, spin);
    d.thread.start();
    return d;
  }

  /** A property in µs, as ns; -1 when unset. */
  private static long microsProperty(String name) {
    String value = System.getProperty(name);
    return value == null || value.isBlank() ? -1 : Long.parseLong(value.trim()) * 1000;
  }

  /** {@code PhaseRecorder.RING}, rounded as {@code ThreadPhases} rounds it; 1024 if unreadable. */
  private static int ringCapacity() {
    int ring = 1024;
    try {
      Field f = PhaseRecorder.class.getDeclaredField("RING");
      f.setAccessible(true);
      ring = f.getInt(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      System.out.println("[drainer] cannot read PhaseRecorder.RING (" + e + "), assuming 1024");
    }
    return Integer.highestOneBit(Math.max(16, ring - 1)) << 1;
  }

  @Override
  public void accept(long time, int slot, int phase) {
    // A drain hands over each thread's events together, its re-sync event (if any) last.
    if (slot != runSlot) {
      endRun();
      runSlot = slot;
    }
    if (time == RESYNC) {
      resyncs++;
      runOverflowed = true;
    } else {
      events++;
      run++;
    }
  }

  /**
   * Ends the current thread's batch: the largest batch of the drain, of threads that did not
   * overflow and of those that did.
   */
  private void endRun() {
    if (runOverflowed) {
      largestOverflowedRun = Math.max(largestOverflowedRun, run);
    } else {
      largestRun = Math.max(largestRun, run);
    }
    run = 0;
    runOverflowed = false;
  }

  @Override
  public void run() {
    long wait = 20_000;
    long previous = System.nanoTime();
    while (running) {
      long start = System.nanoTime();
      // Away for much longer than it meant to wait: off its core, as one thread among many that
      // want one. A ring that filled meanwhile says nothing of the wait.
      boolean away = start - previous > 2 * wait + PARK_ABOVE_NS;
      previous = start;
      largestRun = 0;
      largestOverflowedRun = 0;
      runSlot = -1;
      recorder.drain(this, RESYNC);
      endRun();
      drains++;
      eventsSeen = events;
      resyncsSeen = resyncs;
      drainsSeen = drains;
      if (fixedSpinNs >= 0) {
        spin(System.nanoTime() + fixedSpinNs);
        continue;
      }
      if (fixedParkNs >= 0) {
        LockSupport.parkNanos(fixedParkNs);
        continue;
      }
      // A full ring caps what a drain sees, so steer by the batch size rather than by the rate:
      // halve the wait when one thread's batch was large (or its ring overflowed), lengthen it when
      // every batch was small. Per thread, not in all: with many threads, the sum says how many
      // threads ran, not how full each ring got.
      long got = away ? largestRun : Math.max(largestRun, largestOverflowedRun);
      if (got > TARGET_BATCH || (!away && largestOverflowedRun > 0)) {
        wait /= 2;
      } else if (got < TARGET_BATCH / 2) {
        wait = Math.min(MAX_WAIT_NS, wait + wait / 4 + 1_000);
      }
      if (wait >= PARK_ABOVE_NS) {
        LockSupport.parkNanos(wait);
      } else {
        spin(System.nanoTime() + wait);
      }
    }
    recorder.drain(this, RESYNC);
    drains++;
    eventsSeen = events;
    resyncsSeen = resyncs;
    drainsSeen = drains;
    finalBytes = ownAllocatedBytes();
  }

  private void spin(long until) {
    while (running && System.nanoTime() - until < 0) {
      Thread.onSpinWait();
    }
  }

  /** Events handed over so far (re-sync events not counted); read after {@link #stop()}. */
  long eventsDrained() {
    return eventsSeen;
  }

  /** Drains that found a ring had been full, so far. */
  long overflows() {
    return resyncsSeen;
  }

  /** Stops the thread after a last drain. */
  void stop() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Adds a benchmark thread whose ops and own allocation the reports show.
   *
   * @param worker a thread that enters and exits phases
   * @param ops how many enter/exit pairs it has done (read only between iterations)
   */
  synchronized void watch(Thread worker, LongSupplier ops) {
    workers.add(worker);
    opCounters.add(ops);
    lastWorkerBytes = workerBytes();
    lastOps = ops();
  }

  /** Prints what happened since the previous call. */
  synchronized void reportIteration() {
    long e = eventsSeen;
    long r = resyncsSeen;
    long d = drainsSeen;
    long b = allocatedBytes();
    long w = workerBytes();
    long ops = ops();
    long now = System.nanoTime();
    long dOps = ops - lastOps;
    long dEvents = e - lastEvents;
    print(
        "iteration",
        dEvents,
        r - lastResyncs,
        d - lastDrains,
        b < 0 ? -1 : b - lastBytes,
        now - lastReportNs,
        workers.isEmpty() ? -1 : dOps);
    if (!workers.isEmpty()) {
      long bytes = w - lastWorkerBytes;
      long lost = Math.max(0, 2 * dOps - dEvents);
      System.out.println(
          String.format(
              Locale.ROOT,
              "[benchmark threads] %d enter/exit pairs, events lost to full rings: %d (%.3f %%);"
                  + " allocated %d B (JMH's bookkeeping included) = %.5f B/op",
              dOps,
              lost,
              dOps == 0 ? 0.0 : 100.0 * lost / (2.0 * dOps),
              bytes,
              dOps == 0 ? 0.0 : (double) bytes / dOps));
    }
    lastWorkerBytes = workerBytes(); // after printing: this report's own garbage is not counted
    lastOps = ops;
    lastEvents = e;
    lastResyncs = r;
    lastDrains = d;
    lastBytes = b;
    lastReportNs = now;
  }

  /** Prints the totals of the trial. */
  void reportTrial() {
    print(
        "trial",
        eventsSeen,
        resyncsSeen,
        drainsSeen,
        allocatedBytes(),
        System.nanoTime() - firstReportNs,
        -1);
  }

  private void print(String what, long e, long r, long d, long bytes, long ns, long ops) {
    double pairs = ops >= 0 ? ops : e / 2.0;
    String per = ops >= 0 ? "B/op" : "B per drained enter/exit pair";
    String mode =
        fixedSpinNs >= 0
            ? "spin " + fixedSpinNs / 1000 + " us"
            : fixedParkNs >= 0 ? "park " + fixedParkNs / 1000 + " us" : "paced";
    String alloc =
        bytes < 0
            ? "n/a"
            : String.format(
                Locale.ROOT,
                "%d B = %.3f %s (included in gc.alloc.rate.norm)",
                bytes,
                pairs == 0 ? 0.0 : bytes / pairs,
                per);
    System.out.println(
        String.format(
            Locale.ROOT,
            "%n[drainer %s, %s, ring %d] %d drains in %.2f s, %d events (%.0f per drain),"
                + " overflows: %d, drainer allocated %s",
            what,
            mode,
            RING_CAPACITY,
            d,
            ns * 1e-9,
            e,
            d == 0 ? 0.0 : (double) e / d,
            r,
            alloc));
  }

  private long ops() {
    long sum = 0;
    for (LongSupplier c : opCounters) {
      sum += c.getAsLong();
    }
    return sum;
  }

  private long allocatedBytes() {
    if (!thread.isAlive()) {
      return finalBytes;
    }
    try {
      return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
          .getThreadAllocatedBytes(thread.getId());
    } catch (RuntimeException | LinkageError e) {
      return -1;
    }
  }

  private long workerBytes() {
    long sum = 0;
    for (Thread t : workers) {
      try {
        long b =
            ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(t.getId());
        sum += Math.max(0, b);
      } catch (RuntimeException | LinkageError e) {
        return 0;
      }
    }
    return sum;
  }

  private static long ownAllocatedBytes() {
    try {
      return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
          .getCurrentThreadAllocatedBytes();
    } catch (RuntimeException | LinkageError e) {
      return -1;
    }
  }
}

package io.jouletrace.bench;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The workload of {@link ManyThreadsHarness}: {@code n} threads, each opening one phase ({@code
 * JouleTrace.phase("x")} in try-with-resources) around a sleep. Virtual threads are all submitted
 * at once to a thread-per-task executor (Java 21 and later); platform threads are all started, then
 * joined. Prints one line: the workload's own time, the phases closed, the peak heap in use (sum of
 * the heap pools' peaks), the heap in use after a full GC at the end, and the collections during
 * the first round with their time (the JVM's collector beans, read before the first round and after
 * it, so that JMX starts before the workload is timed), which tell the collections' part of a run's
 * time from the rest, and the bytes allocated per thread in the first round and in the last (all of
 * the JVM's threads, Java 21 and later; -1 before).
 *
 * <pre>
 * java -cp ... io.jouletrace.bench.ManyThreads virtual|platform THREADS SLEEP_MS [ROUNDS [PHASES]]
 * </pre>
 *
 * <p>With more than one round, the same workload runs again once the first is over, and the line
 * gives the first round's time and the last's: the last is the steady state, once the JVM and the
 * agent have started up and the code is compiled.
 */
public final class ManyThreads {

  private ManyThreads() {}

  /**
   * The most heap in use, sampled every 5 ms on a daemon thread (the heap pools' own peaks are
   * updated only at collections, and a short run may have none).
   */
  private static final class HeapWatch {
    private volatile boolean running = true;
    private volatile long peak;
    private final Thread thread;

    HeapWatch() {
      thread =
          new Thread(
              () -> {
                Runtime rt = Runtime.getRuntime();
                while (running) {
                  peak = Math.max(peak, rt.totalMemory() - rt.freeMemory());
                  LockSupport.parkNanos(5_000_000L);
                }
              },
              "heap-watch");
      thread.setDaemon(true);
      thread.start();
    }

    long stop() throws InterruptedException {
      running = false;
      thread.join();
      return peak;
    }
  }

  /** Starts the threads and waits for them all; returns the seconds it took. */
  private static double round(boolean virtual, int n, Runnable task) throws Exception {
    long start = System.nanoTime();
    if (virtual) {
      // Java 21 API, called reflectively: this module is built for Java 17.
      ExecutorService ex =
          (ExecutorService)
              Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
      for (int i = 0; i < n; i++) {
        ex.execute(task);
      }
      ex.shutdown();
      if (!ex.awaitTermination(10, TimeUnit.MINUTES)) {
        throw new IllegalStateException("virtual threads did not finish");
      }
    } else {
      List<Thread> threads = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Thread t = new Thread(task);
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join();
      }
    }
    return (System.nanoTime() - start) * 1e-9;
  }

  public static void main(String[] args) throws Exception {
    boolean virtual = args[0].equals("virtual");
    int n = Integer.parseInt(args[1]);
    long sleepMs = Long.parseLong(args[2]);
    // Only failures are counted: a shared counter that every thread bumps is contended enough to
    // show up in the profile of this workload.
    AtomicInteger failed = new AtomicInteger();
    boolean phases = args.length <= 4 || Boolean.parseBoolean(args[4]);
    Runnable task =
        phases
            ? () -> {
              try (Phase p = JouleTrace.phase("x")) {
                Thread.sleep(sleepMs);
              } catch (InterruptedException e) {
                failed.incrementAndGet();
              }
            }
            : () -> {
              try {
                Thread.sleep(sleepMs);
              } catch (InterruptedException e) {
                failed.incrementAndGet();
              }
            };
    HeapWatch heap = new HeapWatch();
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    double first = 0;
    double last = 0;
    long[] gcBefore = collections();
    long[] gcFirst = gcBefore;
    long allocFirst = -1;
    long allocLast = -1;
    for (int round = 0; round < rounds; round++) {
      long allocBefore = allocatedBytes();
      last = round(virtual, n, task);
      long alloc = allocBefore < 0 ? -1 : (allocatedBytes() - allocBefore) / n;
      if (round == 0) {
        first = last;
        gcFirst = collections();
        allocFirst = alloc;
      }
      allocLast = alloc;
    }

    long peak = heap.stop();
    // Give the agent eleven of its default 100 ms ticks, within which it frees the slots of all
    // the ended threads, then count what is still held.
    Thread.sleep(1100);
    System.gc();
    Runtime rt = Runtime.getRuntime();
    long after = rt.totalMemory() - rt.freeMemory();
    System.out.printf(
        Locale.ROOT,
        "workload-s %.4f last-round-s %.4f phases %d peak-heap-mb %.1f heap-after-gc-mb %.1f"
            + " recording %b gcs %d gc-ms %d alloc-first-b %d alloc-last-b %d%n",
        first,
        last,
        (long) n * rounds - failed.get(),
        peak / 1048576.0,
        after / 1048576.0,
        JouleTrace.isRecording(),
        gcFirst[0] - gcBefore[0],
        gcFirst[1] - gcBefore[1],
        allocFirst,
        allocLast);
  }

  /**
   * Bytes allocated so far by all of the JVM's threads (a virtual thread's allocations count on its
   * carrier): {@code com.sun.management.ThreadMXBean.getTotalThreadAllocatedBytes}, Java 21 and
   * later, called reflectively since this module is built for Java 17; -1 where it is missing.
   */
  private static long allocatedBytes() {
    try {
      Object bean = ManagementFactory.getThreadMXBean();
      return (Long)
          Class.forName("com.sun.management.ThreadMXBean")
              .getMethod("getTotalThreadAllocatedBytes")
              .invoke(bean);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return -1;
    }
  }

  /** Collections so far and their accumulated time in ms, over all of the JVM's collectors. */
  private static long[] collections() {
    long count = 0;
    long millis = 0;
    for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += Math.max(0, b.getCollectionCount());
      millis += Math.max(0, b.getCollectionTime());
    }
    return new long[] {count, millis};
  }
}

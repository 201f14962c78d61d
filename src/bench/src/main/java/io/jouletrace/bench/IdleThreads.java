package io.jouletrace.bench;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The workload of {@link IdleThreadsHarness}: {@code n} virtual threads (Java 21 and later) that
 * each open and close one phase and then stay alive, idle, outside any phase (a server's pool of
 * virtual threads between requests). Once they all have, it measures the CPU time of the agent's
 * sampler thread over a few seconds, from {@code SKIP} seconds after that (1.5 unless given), and
 * prints its share of one core.
 *
 * <pre>java -javaagent:... -cp ... io.jouletrace.bench.IdleThreads THREADS SECONDS [SKIP]</pre>
 */
public final class IdleThreads {

  private IdleThreads() {}

  private static long samplerCpuNanos() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("jouletrace-sampler")) {
        return mx.getThreadCpuTime(t.getId());
      }
    }
    return -1;
  }

  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    double seconds = Double.parseDouble(args[1]);
    double skip = args.length > 2 ? Double.parseDouble(args[2]) : 1.5;
    CountDownLatch opened = new CountDownLatch(n);
    CountDownLatch release = new CountDownLatch(1);
    // Java 21 API, called reflectively: this module is built for Java 17.
    ExecutorService ex =
        (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    for (int i = 0; i < n; i++) {
      ex.execute(
          () -> {
            try (Phase p = JouleTrace.phase("x")) {
              opened.countDown();
            }
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
    }
    opened.await();
    // The phases' last changes are taken in, start-up is over (and, with a longer skip, the JIT has
    // compiled what the sampler runs every tick).
    Thread.sleep((long) (skip * 1000));
    long c0 = samplerCpuNanos();
    long t0 = System.nanoTime();
    Thread.sleep((long) (seconds * 1000));
    long c1 = samplerCpuNanos();
    long t1 = System.nanoTime();
    release.countDown();
    ex.shutdown();
    System.out.printf(
        Locale.ROOT,
        "idle-threads %d sampler-share-percent %.3f recording %b%n",
        n,
        c0 < 0 ? -1 : (c1 - c0) * 100.0 / (t1 - t0),
        JouleTrace.isRecording());
  }
}

package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code virtual|platform <n> <sleep-ms>}: n threads, all started at once, each opening one phase
 * {@code x} around a sleep. Virtual threads need Java 21 or later. Prints the phases closed, the
 * seconds it took and the heap in use after a full GC once the agent's sampler has had eleven ticks
 * to take in the ended threads and free their slots.
 */
public final class ManyThreadsApp {

  private ManyThreadsApp() {}

  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[1]);
    long sleepMs = Long.parseLong(args[2]);
    LongAdder done = new LongAdder();
    Runnable task =
        () -> {
          try (Phase p = JouleTrace.phase("x")) {
            Thread.sleep(sleepMs);
            done.increment();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    long start = System.nanoTime();
    if (args[0].equals("virtual")) {
      // Java 21 API, called reflectively: the tests are built for Java 17.
      ExecutorService ex =
          (ExecutorService)
              Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
      for (int i = 0; i < n; i++) {
        ex.execute(task);
      }
      ex.shutdown();
      if (!ex.awaitTermination(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException("threads did not finish");
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
    double seconds = (System.nanoTime() - start) * 1e-9;
    Thread.sleep(1100);
    System.gc();
    Runtime rt = Runtime.getRuntime();
    System.out.printf(
        Locale.ROOT,
        "phases %d seconds %.3f heap-after-gc-mb %d recording %b%n",
        done.sum(),
        seconds,
        (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024),
        JouleTrace.isRecording());
  }
}

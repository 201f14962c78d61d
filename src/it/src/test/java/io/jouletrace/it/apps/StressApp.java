package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Abuse of the phase API. {@code threads <n> <seconds>}: n threads enter and leave nested phases
 * (20 names) for that long. {@code names <n>}: one thread opens and closes n distinct phase names.
 * Prints the number of phases it ran and the heap in use at the end.
 */
public final class StressApp {

  private StressApp() {}

  public static void main(String[] args) throws Exception {
    LongAdder count = new LongAdder();
    if (args[0].equals("threads")) {
      int n = Integer.parseInt(args[1]);
      long end = System.nanoTime() + (long) (Double.parseDouble(args[2]) * 1e9);
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Thread t =
            new Thread(
                () -> {
                  ThreadLocalRandom r = ThreadLocalRandom.current();
                  while (System.nanoTime() < end) {
                    try (Phase outer = JouleTrace.phase("stress-" + r.nextInt(20))) {
                      try (Phase inner = JouleTrace.phase("inner-" + r.nextInt(5))) {
                        LockSupport.parkNanos(r.nextInt(200_000));
                      }
                    }
                    count.add(2);
                  }
                });
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join();
      }
    } else {
      int n = Integer.parseInt(args[1]);
      for (int i = 0; i < n; i++) {
        JouleTrace.phase("name-" + i).close();
        count.increment();
      }
    }
    System.gc();
    Runtime rt = Runtime.getRuntime();
    System.out.println(
        "phases "
            + count.sum()
            + " heap-used-mb "
            + (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024));
  }
}

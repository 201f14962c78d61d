package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Stands in for a framework whose compute runs on worker threads no phase knows about (PyTorch's
 * OpenMP pool): the main thread opens {@code drive} and waits while two workers burn CPU, then
 * everything idles outside any phase.
 */
public final class NativeHeavyApp {

  private NativeHeavyApp() {}

  public static void main(String[] args) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> workers = new ArrayList<>();
    try (Phase p = JouleTrace.phase("drive")) {
      for (int i = 0; i < 2; i++) {
        Thread t =
            new Thread(
                () -> {
                  double x = 0;
                  while (!stop.get()) {
                    x += Math.sqrt(x + 1);
                  }
                  if (x == 42) {
                    System.out.println();
                  }
                });
        workers.add(t);
        t.start();
      }
      Thread.sleep(2000);
      stop.set(true);
      for (Thread t : workers) {
        t.join();
      }
    }
    Thread.sleep(1500); // idle, outside any phase
    System.out.println("done");
  }
}

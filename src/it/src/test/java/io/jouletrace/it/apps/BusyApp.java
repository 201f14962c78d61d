package io.jouletrace.it.apps;

/**
 * Keeps every core busy for the given milliseconds (one spinning thread per available processor,
 * the main thread among them), then ends.
 */
public final class BusyApp {

  private static volatile double sink;

  private BusyApp() {}

  public static void main(String[] args) throws InterruptedException {
    long end = System.nanoTime() + Long.parseLong(args[0]) * 1_000_000L;
    Runnable spin =
        () -> {
          double x = 0;
          while (System.nanoTime() < end) {
            for (int i = 0; i < 1_000; i++) {
              x += Math.sqrt(i);
            }
          }
          sink = x;
        };
    int n = Runtime.getRuntime().availableProcessors();
    Thread[] others = new Thread[n - 1];
    for (int i = 0; i < others.length; i++) {
      others[i] = new Thread(spin, "spin-" + i);
      others[i].start();
    }
    spin.run();
    for (Thread t : others) {
      t.join();
    }
    System.out.println("busy-end");
  }
}

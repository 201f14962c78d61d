package io.jouletrace.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * The floor under any periodic sampler: the CPU time a thread uses to do nothing but wake up at a
 * fixed period (parking until its next deadline, as the agent's sampler does), measured from the
 * thread's own CPU clock. What a sampler reads and computes at each tick comes on top.
 *
 * <pre>
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.WakeUpCost [period-ms] [seconds]
 * </pre>
 */
public final class WakeUpCost {

  private WakeUpCost() {}

  public static void main(String[] args) throws Exception {
    long period = (args.length > 0 ? Long.parseLong(args[0]) : 100) * 1_000_000L;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 20;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Thread waker =
        new Thread(
            () -> {
              long next = System.nanoTime();
              while (true) {
                next += period;
                long wait;
                while ((wait = next - System.nanoTime()) > 0) {
                  LockSupport.parkNanos(wait);
                }
              }
            },
            "waker");
    waker.setDaemon(true);
    waker.start();
    Thread.sleep(2000); // past the thread's start
    long cpu0 = mx.getThreadCpuTime(waker.getId());
    long wall0 = System.nanoTime();
    Thread.sleep((long) (seconds * 1000));
    long cpu1 = mx.getThreadCpuTime(waker.getId());
    long wall1 = System.nanoTime();
    double wakeUps = (wall1 - wall0) / (double) period;
    System.out.printf(
        Locale.ROOT,
        "period %d ms: %.1f us of CPU per wake-up, %.4f %% of one core%n",
        period / 1_000_000,
        (cpu1 - cpu0) / 1e3 / wakeUps,
        (cpu1 - cpu0) * 100.0 / (wall1 - wall0));
  }
}

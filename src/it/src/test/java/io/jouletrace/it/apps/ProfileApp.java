package io.jouletrace.it.apps;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;

/**
 * CPU-bound workloads with a known split, for the energy profiler. Each writes, as ground truth,
 * the CPU time its methods used, measured with {@link ThreadMXBean} around whole calls, and their
 * wall time (a call is a millisecond or more of arithmetic, so the clock reads are a negligible
 * part of it): {@code method cpuNanos wallNanos}.
 *
 * <ul>
 *   <li>{@code split <seconds> <truth>}: one thread calls {@code alpha} (3 units) and {@code beta}
 *       (1 unit) by turns.
 *   <li>{@code two <seconds> <truth>}: {@code gamma} on one thread all the time, {@code delta} on
 *       another half of the time.
 *   <li>{@code deep <depth> <seconds>}: {@code alpha} at the bottom of a recursion that deep.
 *   <li>{@code compilers <seconds> <out>}: {@code split}, while a thread reads each JIT compiler
 *       thread's CPU time every 5 ms from the start of {@code main} to shutdown; the JVM's uptime
 *       when the profile's recording started in {@code <out>.running}.
 *   <li>{@code stop-user <seconds> <truth>}: {@code split} for half the time, then stops the JFR
 *       recording named {@code user} and runs {@code afterStop} for the other half.
 *   <li>{@code slow-jfr-exit <seconds> <truth>}: {@code split}, then, as JFR's own shutdown hook
 *       does, stops every running recording holding JFR's lock, and holds it 1.5 s more while
 *       {@code main} returns: JFR's shutdown then takes that long (a cold machine's), and the
 *       profiler's stream hands out its last segment before the agent's shutdown can stop it (needs
 *       {@code --add-opens jdk.jfr/jdk.jfr=ALL-UNNAMED}).
 *   <li>{@code exit-at <class.method>}: returns from {@code main} as soon as the agent's profiler
 *       thread has that frame on its stack (at most 10 s), so that the JVM exits while the profiler
 *       is there; prints {@code exiting in <frame>}, or {@code never in <frame>}.
 * </ul>
 */
public final class ProfileApp {

  static volatile long sink;
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final long UNIT = 200_000;

  private ProfileApp() {}

  static long burn(long iterations) {
    long x = 0x9E3779B97F4A7C15L ^ iterations;
    for (long i = 0; i < iterations; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
    }
    return x;
  }

  static long alpha() {
    return burn(3 * UNIT);
  }

  static long beta() {
    return burn(UNIT);
  }

  static long gamma() {
    return burn(UNIT);
  }

  static long delta() {
    return burn(20 * UNIT);
  }

  static long afterStop() {
    return burn(UNIT);
  }

  static long down(int depth) {
    return depth == 0 ? alpha() : down(depth - 1) + 1;
  }

  public static void main(String[] args) throws Exception {
    if (args[0].equals("exit-at")) {
      exitAt(args[1]);
      return;
    }
    if (args[0].equals("compilers")) {
      readCompilers(Path.of(args[2]));
    }
    java.time.Instant sampling = awaitSampling();
    switch (args[0]) {
      case "split" -> split(Double.parseDouble(args[1]), Path.of(args[2]));
      case "two" -> two(Double.parseDouble(args[1]), Path.of(args[2]));
      case "deep" -> deep(Integer.parseInt(args[1]), Double.parseDouble(args[2]));
      case "stop-user" -> stopUser(Double.parseDouble(args[1]), Path.of(args[2]));
      case "slow-jfr-exit" -> {
        new Recording().setName("idle"); // created, never started: see holdJfrStopped
        split(Double.parseDouble(args[1]), Path.of(args[2]));
        holdJfrStopped(1_500);
      }
      case "compilers" -> {
        // when the profile's recording started, in ms of uptime
        Files.writeString(
            Path.of(args[2] + ".running"),
            Long.toString(
                sampling.toEpochMilli() - ManagementFactory.getRuntimeMXBean().getStartTime()));
        splitFor((long) (Double.parseDouble(args[1]) * 1e9));
        tail();
      }
      case "exit-before-first-flush" -> {
        // work in alpha, then leave main while the profile's stream still waits for its chunk's
        // header (Java 17 to 19: JFR writes it at its first flush, about a second after the start)
        long until =
            sampling.toEpochMilli() * 1_000_000L + (long) (Double.parseDouble(args[1]) * 1e9);
        while (System.currentTimeMillis() * 1_000_000L < until) {
          alpha();
        }
        System.out.println(
            "stream waits for its chunk: "
                + inFrame("jdk.jfr.internal.consumer.ChunkHeader.refresh"));
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
    System.out.println("profile app done");
  }

  /** Whether the profiler's thread has the frame on its stack now. */
  private static boolean inFrame(String frame) {
    for (var e : Thread.getAllStackTraces().entrySet()) {
      if (e.getKey().getName().equals("jouletrace-profiler")) {
        for (StackTraceElement f : e.getValue()) {
          if ((f.getClassName() + "." + f.getMethodName()).equals(frame)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static void exitAt(String frame) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() - deadline < 0) {
      if (inFrame(frame)) {
        System.out.println("exiting in " + frame);
        return;
      }
      Thread.onSpinWait();
    }
    System.out.println("never in " + frame);
  }

  /**
   * Waits (at most 60 s) until a JFR recording samples this JVM's stacks, the profiler's: on a busy
   * machine JFR can take seconds to start, and the workloads are short. JFR is left for the agent
   * to start: the wait looks only once it runs.
   *
   * @return when that recording started, or {@code null}
   */
  private static java.time.Instant awaitSampling() throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline && FlightRecorder.isAvailable()) {
      if (FlightRecorder.isInitialized()) {
        for (Recording r : FlightRecorder.getFlightRecorder().getRecordings()) {
          if (r.getState() == jdk.jfr.RecordingState.RUNNING
              && !"user".equals(r.getName())
              // the profile's copy for exit starts just before the profile's own recording
              && !"jouletrace-profile-exit".equals(r.getName())
              && r.getSettings().containsKey("jdk.ExecutionSample#period")) {
            return r.getStartTime();
          }
        }
      }
      Thread.sleep(10); // polls a condition, bounded by the deadline
    }
    return null;
  }

  /**
   * CPU and wall nanoseconds in alpha and in beta: {alpha cpu, beta cpu, alpha wall, beta wall}.
   */
  private static long[] splitFor(long nanos) {
    long[] t = new long[4];
    long end = System.nanoTime() + nanos;
    while (System.nanoTime() < end) {
      long c0 = THREADS.getCurrentThreadCpuTime();
      long w0 = System.nanoTime();
      sink += alpha();
      long w1 = System.nanoTime();
      long c1 = THREADS.getCurrentThreadCpuTime();
      long w2 = System.nanoTime();
      sink += beta();
      long w3 = System.nanoTime();
      long c2 = THREADS.getCurrentThreadCpuTime();
      t[0] += c1 - c0;
      t[1] += c2 - c1;
      t[2] += w1 - w0;
      t[3] += w3 - w2;
    }
    return t;
  }

  private static void split(double seconds, Path truth) throws Exception {
    long[] t = splitFor((long) (seconds * 1e9));
    Files.write(truth, List.of("alpha " + t[0] + " " + t[2], "beta " + t[1] + " " + t[3]));
    tail();
  }

  /**
   * Stops every running recording on a daemon thread that holds JFR's lock (the recorder that
   * {@code jdk.jfr.internal.PlatformRecorder} synchronizes on) for {@code millis} more, as JFR's
   * shutdown hook holds it while it stops the recordings and tears JFR down; returns once they are
   * stopped, so the JVM exits while the lock is held.
   */
  private static void holdJfrStopped(long millis) throws Exception {
    java.lang.reflect.Field f = FlightRecorder.class.getDeclaredField("internal");
    f.setAccessible(true);
    Object recorder = f.get(FlightRecorder.getFlightRecorder());
    java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    Thread holder =
        new Thread(
            () -> {
              synchronized (recorder) {
                for (Recording r : FlightRecorder.getFlightRecorder().getRecordings()) {
                  if (r.getState() == jdk.jfr.RecordingState.RUNNING) {
                    r.stop();
                  }
                }
                stopped.countDown();
                long end = System.nanoTime() + millis * 1_000_000L;
                while (System.nanoTime() - end < 0) {
                  LockSupport.parkNanos(end - System.nanoTime());
                }
              }
            },
            "jfr-shutdown-like");
    holder.setDaemon(true);
    holder.start();
    stopped.await();
  }

  /**
   * Runs unmeasured after a workload: before Java 20 the last second of samples is not delivered
   * when the stream closes and its energy is named {@code [no sample]}, which would take the end of
   * a measured method out of the profile but not out of the truth.
   */
  private static void tail() {
    long end = System.nanoTime() + 1_500_000_000L;
    while (System.nanoTime() < end) {
      sink += burn(UNIT);
    }
  }

  /**
   * From now until the JVM shuts down, reads the CPU time of each of this JVM's JIT compiler
   * threads (Linux's {@code /proc/self/task/<tid>/schedstat} of the threads so named) every 5 ms,
   * and writes the readings at shutdown: {@code <uptimeMillis> <tid> <cpuNanos>} per thread and
   * reading. The uptime is the JVM's own, the clock of its compilation log's stamps.
   */
  private static void readCompilers(Path out) {
    List<String> readings = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader =
        new Thread(
            () -> {
              while (true) {
                try {
                  compilerReading(readings);
                  Thread.sleep(5);
                } catch (Exception e) {
                  return;
                }
              }
            },
            "compiler-reader");
    reader.setDaemon(true);
    reader.start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    compilerReading(readings);
                    synchronized (readings) {
                      Files.write(out, readings);
                    }
                  } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                }));
  }

  private static synchronized void compilerReading(List<String> readings)
      throws java.io.IOException {
    long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        try {
          if (Files.readString(task.resolve("comm")).contains("Compiler")) {
            String cpu = Files.readString(task.resolve("schedstat")).split(" ")[0];
            readings.add(uptime + " " + task.getFileName() + " " + cpu);
          }
        } catch (java.io.IOException e) {
          // ended meanwhile
        }
      }
    }
  }

  private static void two(double seconds, Path truth) throws Exception {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long[] cpu = new long[2];
    long[] wall = new long[2];
    Thread g =
        new Thread(
            () -> {
              long c = THREADS.getCurrentThreadCpuTime();
              long w = System.nanoTime();
              while (System.nanoTime() < end) {
                sink += gamma();
              }
              cpu[0] = THREADS.getCurrentThreadCpuTime() - c;
              wall[0] = System.nanoTime() - w;
            },
            "gamma");
    Thread d =
        new Thread(
            () -> {
              long c = THREADS.getCurrentThreadCpuTime();
              while (System.nanoTime() < end) {
                long s = System.nanoTime();
                sink += delta();
                long busy = System.nanoTime() - s;
                wall[1] += busy;
                // rest as long as the call took (milliseconds): half the time busy, whatever the
                // machine's speed, with few enough wake-ups that their system time is small
                LockSupport.parkNanos(busy);
              }
              cpu[1] = THREADS.getCurrentThreadCpuTime() - c;
            },
            "delta");
    g.start();
    d.start();
    g.join();
    d.join();
    Files.write(
        truth, List.of("gamma " + cpu[0] + " " + wall[0], "delta " + cpu[1] + " " + wall[1]));
    tail();
  }

  private static void deep(int depth, double seconds) {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      sink += down(depth);
    }
  }

  private static void stopUser(double seconds, Path truth) throws Exception {
    long half = (long) (seconds * 0.5e9);
    long[] cpu = splitFor(half);
    List<String> stopped = new ArrayList<>();
    for (Recording r : FlightRecorder.getFlightRecorder().getRecordings()) {
      if ("user".equals(r.getName())) {
        r.stop();
        stopped.add(r.getName());
      }
    }
    System.out.println("stopped " + stopped);
    long c = THREADS.getCurrentThreadCpuTime();
    long end = System.nanoTime() + half;
    while (System.nanoTime() < end) {
      sink += afterStop();
    }
    Files.write(
        truth,
        List.of(
            "alpha " + cpu[0],
            "beta " + cpu[1],
            "afterStop " + (THREADS.getCurrentThreadCpuTime() - c)));
  }
}

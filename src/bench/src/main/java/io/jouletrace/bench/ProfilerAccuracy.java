package io.jouletrace.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.RecordingState;

/**
 * Accuracy of the energy profiler: CPU-bound methods with a known split of CPU time, on a powercap
 * tree whose package counter advances at a constant 20 W, under {@code attribution=host}. The
 * ground truth is each method's CPU time, measured by the workload itself with {@link ThreadMXBean}
 * around whole calls; the measurement is each method's inclusive energy in the folded-stacks file.
 *
 * <ul>
 *   <li>{@code split}: one thread calls {@code alpha} (3 units of arithmetic, about 870 ms) and
 *       {@code beta} (1 unit) by turns: 3:1.
 *   <li>{@code two}: {@code gamma} on one thread all the time, {@code delta} on another busy half
 *       of the time (one unit busy, then as long asleep): about 2:1. A third thread, {@code
 *       epsilon}, not measured, runs while {@code delta} sleeps, so that the load stays at two
 *       CPUs: at constant power every CPU-second then carries the same energy.
 * </ul>
 *
 * <p>Why stretches of hundreds of milliseconds: JFR samples a thread at a regular interval, so a
 * stretch of {@code L} gets {@code L / interval} samples give or take one, and the error of the
 * split falls with the number of samples per stretch. Methods that alternate far faster than the
 * interval are sampled at effectively random points of their cycle instead, and the error falls
 * only as the square root of the samples: about 13 % for 300 samples of a 3:1 split.
 *
 * <pre>
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.ProfilerAccuracy [--runs 3]
 *     [--seconds 12] [--interval 20ms] [--agent agent/target/jouletrace-agent.jar]
 * </pre>
 */
public final class ProfilerAccuracy {

  private static final double WATTS = 20;

  private ProfilerAccuracy() {}

  public static void main(String[] args) throws Exception {
    int runs = 3;
    String seconds = "12";
    String interval = "20ms";
    String agent = "agent/target/jouletrace-agent.jar";
    for (int i = 0; i < args.length - 1; i += 2) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[i + 1]);
        case "--seconds" -> seconds = args[i + 1];
        case "--interval" -> interval = args[i + 1];
        case "--agent" -> agent = args[i + 1];
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Path dir = Files.createTempDirectory("jouletrace-profiler-accuracy");
    Path zone = Files.createDirectories(dir.resolve("powercap/intel-rapl:0"));
    Files.writeString(zone.resolve("name"), "package-0\n");
    Files.writeString(zone.resolve("max_energy_range_uj"), "262143328850\n");
    Files.writeString(zone.resolve("energy_uj"), "0\n");
    Thread writer = new Thread(() -> advance(zone), "constant-power");
    writer.setDaemon(true);
    writer.start();
    String self =
        Path.of(ProfilerAccuracy.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    System.out.printf(
        Locale.ROOT,
        "profiler accuracy, %d runs of %s s at %s, %s%n",
        runs,
        seconds,
        interval,
        Runtime.version());
    Map<String, List<Double>> errors = new HashMap<>();
    for (int i = 0; i < runs; i++) {
      for (String mode : List.of("split", "two")) {
        Path folded = dir.resolve(mode + i + ".collapsed");
        Path truth = dir.resolve(mode + i + ".truth");
        List<String> cmd =
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:"
                    + agent
                    + "=powercap.root="
                    + dir.resolve("powercap")
                    + ",attribution=host,prometheus.port=off,profile=true,profile.interval="
                    + interval
                    + ",profile.collapsed="
                    + folded
                    + ",report.json="
                    + dir.resolve("report.json"),
                "-cp",
                self,
                Workload.class.getName(),
                mode,
                seconds,
                truth.toString());
        Process p =
            new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.txt").toFile())
                .start();
        if (p.waitFor() != 0) {
          throw new IllegalStateException(Files.readString(dir.resolve("out.txt")));
        }
        List<String> lines = Files.readAllLines(folded);
        Map<String, Double> t = new HashMap<>();
        Map<String, Double> w = new HashMap<>();
        for (String line : Files.readAllLines(truth)) {
          String[] kv = line.split(" ");
          t.put(kv[0], Double.parseDouble(kv[1]));
          w.put(kv[0], Double.parseDouble(kv[2]));
        }
        String a = mode.equals("split") ? "alpha" : "gamma";
        String b = mode.equals("split") ? "beta" : "delta";
        double measured = inclusive(lines, a) / inclusive(lines, b);
        double expected = t.get(a) / t.get(b);
        double error = measured / expected - 1;
        double byTime = w.get(a) / w.get(b);
        double timeError = measured / byTime - 1;
        errors.computeIfAbsent(mode + " vs CPU", k -> new ArrayList<>()).add(Math.abs(error));
        errors.computeIfAbsent(mode + " vs time", k -> new ArrayList<>()).add(Math.abs(timeError));
        System.out.printf(
            Locale.ROOT,
            "run %d %-5s %s:%s energy %.3f, CPU %.3f (error %+.2f %%), time %.3f (error %+.2f %%)"
                + " (%s mJ / %s mJ), load %s%n",
            i,
            mode,
            a,
            b,
            measured,
            expected,
            100 * error,
            byTime,
            100 * timeError,
            (long) inclusive(lines, a),
            (long) inclusive(lines, b),
            Files.readString(Path.of("/proc/loadavg")).trim());
      }
    }
    errors.forEach(
        (mode, e) ->
            System.out.printf(Locale.ROOT, "%-5s median |error| %.2f %%%n", mode, 100 * median(e)));
  }

  private static double median(List<Double> v) {
    double[] s = v.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Millijoules of the folded lines with a frame of {@link Workload} named {@code method}. */
  private static double inclusive(List<String> folded, String method) {
    String frame = Workload.class.getName() + "." + method;
    double sum = 0;
    for (String line : folded) {
      int space = line.lastIndexOf(' ');
      if (Arrays.asList(line.substring(0, space).split(";")).contains(frame)) {
        sum += Double.parseDouble(line.substring(space + 1));
      }
    }
    return sum;
  }

  /** Advances the package counter at {@value #WATTS} W, every millisecond, by atomic renames. */
  private static void advance(Path zone) {
    long t0 = System.nanoTime();
    Path file = zone.resolve("energy_uj");
    Path tmp = zone.resolve("energy_uj.tmp");
    while (true) {
      long uj = (long) ((System.nanoTime() - t0) * 1e-9 * WATTS * 1e6);
      try {
        Files.writeString(tmp, uj + "\n");
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      LockSupport.parkNanos(1_000_000L);
    }
  }

  /** The forked workload. */
  public static final class Workload {

    static volatile long sink;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * Iterations of {@link #burn} in about 290 ms, measured at start: a cycle of alpha and beta
     * (1.16 s) is not a multiple of a second, so that nothing the JVM does every second (JFR
     * flushes its stream) always falls in the same part of it.
     */
    private static long unit;

    private Workload() {}

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
      return burn(3 * unit);
    }

    static long beta() {
      return burn(unit);
    }

    static long gamma() {
      return burn(unit / 25);
    }

    static long delta() {
      return burn(unit);
    }

    /** Fills the CPU that {@code delta} leaves while it rests; not measured. */
    static long epsilon() {
      return burn(unit / 25);
    }

    /**
     * Runs after the measured part and is not measured: before Java 20 a JFR stream does not hand
     * out the samples it has not flushed (up to a second) when it closes, and the profiler then
     * names that energy {@code [no sample]}; without a tail, that would be the last stretch of a
     * method whose CPU time the truth counts.
     */
    static void tail() throws IOException {
      long end = System.nanoTime() + 1_500_000_000L;
      while (System.nanoTime() < end) {
        sink += burn(unit / 25);
      }
    }

    /** Compiles {@link #burn} and measures how many iterations take 250 ms of CPU. */
    private static void calibrate() {
      long n = 1_000_000;
      for (int i = 0; i < 200; i++) {
        sink += burn(n);
      }
      long c = THREADS.getCurrentThreadCpuTime();
      sink += burn(100 * n);
      long used = THREADS.getCurrentThreadCpuTime() - c;
      unit = Math.max(1, (long) (100 * n * 290e6 / used));
    }

    public static void main(String[] args) throws Exception {
      // JFR may take seconds to start on a busy machine: measure once the profiler samples
      long deadline = System.nanoTime() + 60_000_000_000L;
      boolean sampling = false;
      while (!sampling && System.nanoTime() < deadline) {
        for (Recording r : FlightRecorder.getFlightRecorder().getRecordings()) {
          sampling |= r.getState() == RecordingState.RUNNING;
        }
        Thread.sleep(10);
      }
      calibrate();
      long nanos = (long) (Double.parseDouble(args[1]) * 1e9);
      long end = System.nanoTime() + nanos;
      long[] cpu = new long[2];
      long[] wall = new long[2];
      if (args[0].equals("split")) {
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
          cpu[0] += c1 - c0;
          cpu[1] += c2 - c1;
          wall[0] += w1 - w0;
          wall[1] += w3 - w2;
        }
        Files.write(
            Path.of(args[2]),
            List.of("alpha " + cpu[0] + " " + wall[0], "beta " + cpu[1] + " " + wall[1]));
        tail();
        return;
      }
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
              });
      // epsilon runs while delta rests, so that the process keeps two CPUs busy all along: at
      // constant power every CPU-second then carries the same energy, and the truth (CPU time
      // over the whole run) is what the per-second sharing should give
      long[] rest = new long[1];
      Thread e =
          new Thread(
              () -> {
                while (System.nanoTime() < end) {
                  LockSupport.park();
                  long until;
                  synchronized (rest) {
                    until = rest[0];
                  }
                  while (System.nanoTime() < until) {
                    sink += epsilon();
                  }
                }
              });
      e.setDaemon(true);
      Thread d =
          new Thread(
              () -> {
                long c = THREADS.getCurrentThreadCpuTime();
                while (System.nanoTime() < end) {
                  long s = System.nanoTime();
                  sink += delta();
                  long busy = System.nanoTime() - s;
                  wall[1] += busy;
                  synchronized (rest) {
                    rest[0] = System.nanoTime() + busy;
                  }
                  LockSupport.unpark(e);
                  LockSupport.parkNanos(busy);
                }
                cpu[1] = THREADS.getCurrentThreadCpuTime() - c;
              });
      e.start();
      g.start();
      d.start();
      g.join();
      d.join();
      Files.write(
          Path.of(args[2]),
          List.of("gamma " + cpu[0] + " " + wall[0], "delta " + cpu[1] + " " + wall[1]));
      tail();
    }
  }
}

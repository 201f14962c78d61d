package io.jouletrace.bench;

import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.bridge.Dispatch;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * The phase boundary with a thousand threads at once, each opening and closing phases of its own
 * (200 names among them), against two {@code System.nanoTime()} reads in the same loop and the same
 * number of threads: the regime JMH cannot run on two cores (its thousand spinning threads never
 * get through a warm-up iteration). Each thread's cost per op is its own CPU time over its ops, so
 * the time a thread waits for a core is not counted; the score is the median over the threads, and
 * the two loops take turns, round after round. A {@link RecorderDrainer} drains the rings as the
 * agent's sampler does; the events it did not get (rings that were full) are reported, since an op
 * that finds its ring full skips the ring write and is cheaper.
 *
 * <p>With {@code --sampler agent} the benchmark runs under the agent ({@code -javaagent:}): its own
 * sampler drains the rings, at its ticks and boundary reads, as in a job that a user measures.
 * Between two such drains a thread that changes phase back to back fills its ring, so most ops take
 * the ring-full path; the agent does not say how many, so no events are counted then.
 *
 * <p>After each round it prints a cache line's round trip between two threads ({@link
 * CoreRoundTrip}): what a drainer's reads cost the threads that write the lines again depends on
 * it, and on a virtual machine it changes with where the host runs the vCPUs at the time.
 *
 * <pre>{@code
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.ThousandThreadsBoundary \
 *     --threads 1000 --ops 100000 --rounds 5
 * java -javaagent:agent/target/jouletrace-agent.jar=prometheus.port=off \
 *     -cp src/bench/target/benchmarks.jar io.jouletrace.bench.ThousandThreadsBoundary \
 *     --threads 1000 --ops 100000 --rounds 5 --sampler agent
 * }</pre>
 */
public final class ThousandThreadsBoundary {

  private static final int WARMUP_OPS = 20_000;
  private static volatile long sink;

  private ThousandThreadsBoundary() {}

  public static void main(String[] args) throws Exception {
    int threads = 1000;
    int ops = 100_000;
    int rounds = 5;
    boolean agent = false;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--threads" -> threads = Integer.parseInt(args[i + 1]);
        case "--ops" -> ops = Integer.parseInt(args[i + 1]);
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--sampler" -> agent = parseSampler(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    RecorderDrainer drainer = null;
    PhaseRecorder recorder = null;
    if (!agent) {
      recorder =
          new PhaseRecorder(new PhaseRegistry(256, System.err::println), System.err::println);
      Dispatch.install(recorder);
    }
    long probe = Dispatch.enter("probe");
    if (probe == 0L) {
      throw new IllegalStateException(
          agent
              ? "--sampler agent: no agent records phases here; start with -javaagent:"
              : "the recorder did not record: Dispatch is not bound");
    }
    Dispatch.exit(probe);
    if (!agent) {
      drainer = RecorderDrainer.start(recorder);
    }
    double[] phases = new double[rounds];
    double[] clocks = new double[rounds];
    long pairs = 1; // the probe
    System.out.printf(
        Locale.ROOT,
        "%d threads at once, %d ops each after %d untimed, %d rounds, rings drained by %s, %s,"
            + " load %s%n",
        threads,
        ops,
        WARMUP_OPS,
        rounds,
        agent ? "the agent's sampler" : "a benchmark thread paced to half a ring per thread",
        Runtime.version(),
        load());
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < 2; k++) {
        boolean phase = (k == 0) == (r % 2 == 0);
        double perOp = run(threads, ops, phase);
        if (phase) {
          phases[r] = perOp;
          pairs += (long) threads * (ops + WARMUP_OPS);
        } else {
          clocks[r] = perOp;
        }
        System.out.printf(
            Locale.ROOT,
            "round %d %-6s %.1f ns/op (median of %d threads' own CPU time), load %s%n",
            r + 1,
            phase ? "phases" : "clock",
            perOp,
            threads,
            load());
      }
      System.out.println(CoreRoundTrip.line());
    }
    if (drainer != null) {
      drainer.stop();
      Dispatch.install(null);
    }
    double[] ratios = ratios(phases, clocks);
    System.out.printf(
        Locale.ROOT,
        "enter+exit %.1f ns/op, two clock reads %.1f ns/op (medians of rounds); median ratio"
            + " %.3f %s%n",
        median(phases),
        median(clocks),
        median(ratios),
        Arrays.stream(ratios).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x)).toList());
    if (drainer == null) {
      System.out.println("events lost to full rings: not counted (the agent's sampler drained)");
      return;
    }
    long lost = Math.max(0, 2 * pairs - drainer.eventsDrained());
    System.out.printf(
        Locale.ROOT,
        "events lost to full rings: %d of %d (%.3f %%), drains that found a full ring: %d%n",
        lost,
        2 * pairs,
        100.0 * lost / (2.0 * pairs),
        drainer.overflows());
  }

  private static boolean parseSampler(String value) {
    return switch (value) {
      case "agent" -> true;
      case "bench" -> false;
      default -> throw new IllegalArgumentException("--sampler must be agent or bench: " + value);
    };
  }

  /** Runs one loop on all threads at once; the median over threads of CPU ns per op. */
  private static double run(int threads, int ops, boolean phase) throws InterruptedException {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    CountDownLatch ready = new CountDownLatch(threads);
    CountDownLatch go = new CountDownLatch(1);
    double[] perOp = new double[threads];
    Thread[] ts = new Thread[threads];
    for (int i = 0; i < threads; i++) {
      int id = i;
      String name = "p-" + (i % 200);
      ts[i] =
          new Thread(
              () -> {
                loop(phase, name, WARMUP_OPS);
                ready.countDown();
                try {
                  go.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
                long c0 = mx.getCurrentThreadCpuTime();
                loop(phase, name, ops);
                perOp[id] = (double) (mx.getCurrentThreadCpuTime() - c0) / ops;
              },
              "boundary-" + i);
      ts[i].start();
    }
    ready.await();
    go.countDown();
    for (Thread t : ts) {
      t.join();
    }
    return median(perOp);
  }

  private static void loop(boolean phase, String name, int n) {
    if (phase) {
      for (int i = 0; i < n; i++) {
        long token = Dispatch.enter(name);
        Dispatch.exit(token);
      }
    } else {
      long s = 0;
      for (int i = 0; i < n; i++) {
        s += System.nanoTime() + System.nanoTime();
      }
      sink = s;
    }
  }

  /** The 1, 5 and 15-minute load averages, or "?" where there are none. */
  private static String load() {
    try {
      String[] f =
          java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException | RuntimeException e) {
      return "?";
    }
  }

  /** Each round's ratio of {@code num} to {@code den}. */
  static double[] ratios(double[] num, double[] den) {
    double[] r = new double[num.length];
    for (int i = 0; i < num.length; i++) {
      r[i] = num[i] / den[i];
    }
    return r;
  }

  static double median(double[] v) {
    double[] c = v.clone();
    Arrays.sort(c);
    int n = c.length;
    return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
  }
}

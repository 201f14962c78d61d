package io.jouletrace.bench;

import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * The floor of a phase boundary that hands its changes to another core: the least a thread can do
 * to publish the two changes of an enter + exit to a reader on another core, without the agent.
 * Each op reads the clock, writes one 8-byte event into a single-producer ring of 1,024 and moves
 * the head, twice; a reader thread takes half a ring at a time, as the phase benchmarks' drainer
 * does ({@link RecorderDrainer}), and gives the slots back. No phase stack, no tokens, no registry:
 * what is left is the two clock reads and the cache lines of the ring and its head and tail going
 * to the reader's core and back. Rounds of this loop take turns with rounds of the two clock reads
 * alone (the reader spinning all the same), and after each pair of rounds, with the reader parked,
 * a cache line's round trip between two threads is printed ({@link CoreRoundTrip}), which on a
 * virtual machine changes with where the host runs the vCPUs.
 *
 * <pre>{@code
 * java -cp src/bench/target/benchmarks.jar io.jouletrace.bench.RingFloor --rounds 10
 * }</pre>
 */
public final class RingFloor {

  private static final int RING = 1024;
  private static final int MASK = RING - 1;
  private static final int BATCH = RING / 2;
  private static final long OPS = 20_000_000L;

  private final long[] ring = new long[RING];
  // Head and tail on lines of their own, away from the ring's header and from each other.
  private final long[] head = new long[16];
  private final long[] tail = new long[16];
  private volatile boolean running = true;
  private volatile boolean paused;
  // The reader's: events taken, and a sum of them so that the reads are not optimised away.
  private long taken;
  private long readSum;
  // The owner's: a sum of the clock reads, and the events a full ring dropped.
  private long sum;
  private long lostEvents;

  private RingFloor() {}

  /** Owner: publishes one event; false when the ring is full (the event is dropped). */
  private boolean publish(long event, long h) {
    long t = tail[8];
    VarHandle.acquireFence();
    if (h - t >= RING) {
      return false;
    }
    ring[(int) h & MASK] = event;
    VarHandle.releaseFence();
    head[8] = h + 1;
    return true;
  }

  private void drain() {
    long t = 0;
    while (running) {
      if (paused) {
        LockSupport.parkNanos(100_000);
        continue;
      }
      long h = head[8];
      VarHandle.acquireFence();
      if (h - t < BATCH) {
        Thread.onSpinWait();
        continue;
      }
      long s = 0;
      for (long i = t; i != h; i++) {
        s += ring[(int) i & MASK];
      }
      readSum += s;
      taken += h - t;
      t = h;
      VarHandle.releaseFence();
      tail[8] = t;
    }
  }

  /** Nanoseconds per op of the owner's loop: two clock reads, and with {@code ring} two events. */
  private double run(boolean withRing) {
    long h = head[8];
    long lost = 0;
    long s = 0;
    long start = System.nanoTime();
    for (long i = 0; i < OPS; i++) {
      long a = System.nanoTime();
      long b;
      if (withRing) {
        if (publish(a, h)) {
          h++;
        } else {
          lost++;
        }
        b = System.nanoTime();
        if (publish(b, h)) {
          h++;
        } else {
          lost++;
        }
      } else {
        b = System.nanoTime();
      }
      s += a ^ b;
    }
    double perOp = (System.nanoTime() - start) / (double) OPS;
    sum += s + lost;
    lostEvents += lost;
    return perOp;
  }

  public static void main(String[] args) throws Exception {
    int rounds = 10;
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--rounds")) {
        rounds = Integer.parseInt(args[i + 1]);
      } else {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    RingFloor f = new RingFloor();
    Thread reader = new Thread(f::drain, "jouletrace-bench-ring-reader");
    reader.setDaemon(true);
    reader.start();
    f.run(true); // warm-up
    f.run(false);
    double[] ring = new double[rounds];
    double[] clock = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < 2; k++) {
        boolean withRing = (k == 0) == (r % 2 == 0);
        double perOp = f.run(withRing);
        if (withRing) {
          ring[r] = perOp;
        } else {
          clock[r] = perOp;
        }
      }
      f.paused = true; // the reader parks while the round trip is measured
      Thread.sleep(2);
      String roundTrip = CoreRoundTrip.line();
      f.paused = false;
      System.out.printf(
          Locale.ROOT,
          "round %d ring %.1f ns/op, clock %.1f ns/op, ratio %.3f; %s%n",
          r + 1,
          ring[r],
          clock[r],
          ring[r] / clock[r],
          roundTrip);
    }
    f.running = false;
    reader.join(1_000);
    double[] ratios = ThousandThreadsBoundary.ratios(ring, clock);
    System.out.printf(
        Locale.ROOT,
        "ring %.1f ns/op, two clock reads %.1f ns/op (medians of rounds), median ratio %.3f;"
            + " events lost to a full ring %.3f %%, taken by the reader %d (checksum %d)%n",
        ThousandThreadsBoundary.median(ring),
        ThousandThreadsBoundary.median(clock),
        ThousandThreadsBoundary.median(ratios),
        100.0 * f.lostEvents / (2.0 * OPS * (rounds + 1)),
        f.taken,
        (f.sum ^ f.readSum) & 0xff);
  }
}

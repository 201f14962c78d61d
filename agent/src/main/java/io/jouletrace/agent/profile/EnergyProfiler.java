package io.jouletrace.agent.profile;

import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.timeline.AttributionListener;
import io.jouletrace.agent.timeline.HeldWindows;
import io.jouletrace.exporter.EnergyProfile;
import io.jouletrace.exporter.EnergyProfile.MethodEnergy;
import io.jouletrace.exporter.EnergyProfile.PhaseMethods;
import io.jouletrace.sources.Domain;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Energy per method: the joules the ledger hands each phase are shared among the stacks sampled in
 * that phase.
 *
 * <p>Time is cut into buckets of {@code bucketNanos} from the ledger's start. The ledger's energy
 * for a window goes to the buckets the window overlaps, in proportion to the overlap (its power is
 * taken as constant within the window, as the ledger does). A stack sample belongs to the phase its
 * thread was in at the sample's instant, which the profiler learns from the phase changes the
 * ledger takes in ({@link #phaseChange}). When a bucket is closed, each phase's energy in it is
 * shared among that phase's samples in it, each sample weighing the CPU time its thread used in the
 * bucket divided by the thread's samples in the bucket ({@link #threadCpu}). JFR samples a thread
 * whenever it is in Java, also while it waits for a CPU, so on a busy machine a thread's samples
 * follow its wall time; the weight makes each thread's share follow its CPU time, and within a
 * thread the samples say which methods used it. A thread that was not alive at the previous reading
 * of every thread used no CPU before it, and one that ended after its last reading is taken to have
 * gone on at its last rate up to its last sample in the bucket, so that the buckets in which
 * threads start and end are weighed by CPU time too. A thread whose CPU time is unknown (a virtual
 * thread, or no reading yet) weighs the mean of the others; a phase whose samples all weigh nothing
 * shares equally. Native work no Java thread owns (PyTorch's OpenMP workers) is in the ledger's
 * energy of the phase whose thread drives it, so it lands on that thread's Java stack, as it does
 * in phase attribution.
 *
 * <p>Nothing is lost: a phase with energy but no sample in a bucket carries the energy to its next
 * bucket, up to {@value #MAX_CARRY} buckets, after which it goes to {@value #NO_SAMPLE}; energy
 * from before sampling started goes to {@value #STARTING}, and energy from after the recording
 * stopped (JFR's own shutdown hook stops it as the JVM exits, often before the agent's) to {@value
 * #STOPPED}. The self joules of every stack add up to the energy received.
 *
 * <p>The ledger's calls ({@link #energy}, {@link #phaseChange}) come on the sampler thread and only
 * add to arrays; samples, closing and the report run on the profiler's thread or at exit. All under
 * this object's lock.
 */
public final class EnergyProfiler implements AttributionListener {

  /** Frame of energy whose phase had no stack sample nearby. */
  public static final String NO_SAMPLE = "[no sample]";

  /** Frame of energy from before the first stack sample could be taken. */
  public static final String STARTING = "[profiler starting]";

  /** Frame of energy from after the recording that takes the samples stopped. */
  public static final String STOPPED = "[profiler stopped]";

  /** Buckets a phase's unsampled energy may wait for a sample of the same phase. */
  static final int MAX_CARRY = 5;

  /** Samples waiting for their bucket to close; beyond this they are dropped and counted. */
  static final int MAX_BUFFER = 1 << 16;

  /** Threads whose CPU time is followed; others weigh the mean of those that are. */
  static final int MAX_THREADS = 4096;

  /** Methods listed per phase in the report. */
  static final int TOP = 20;

  /**
   * Windows of energy held until the recording's start is known (about a minute of the ledger's);
   * beyond it they go to the buckets, and the start is cut from them as evenly spread.
   */
  static final int MAX_PENDING = 4096;

  /** Buckets kept open while the samples lag; beyond it the oldest is closed as it is. */
  static final int MAX_OPEN = 120;

  private final PhaseRegistry registry;
  private final int maxPhases;
  private final long origin;
  private final long bucketNanos;
  private final StackTree tree;
  private final int noSample;
  private final int starting;
  private final int stopped;
  private final int maxWeights;

  private final ArrayDeque<double[]> buckets = new ArrayDeque<>();
  private long firstBucket;
  private final double[] carry;
  private final int[] carryAge;
  private long ledgerTime = Long.MIN_VALUE;
  private long sampledUpTo = Long.MIN_VALUE;
  private long samplingSince = Long.MAX_VALUE;
  private long startedAt = Long.MIN_VALUE;

  /**
   * Until the recording's start is known, the ledger's windows are held as they came, so that the
   * start splits them exactly: within a bucket, phases come and go, and no even spread of a
   * bucket's energy tells which of it came before the start.
   */
  private boolean awaitingStart = true;

  private final HeldWindows pending = new HeldWindows(MAX_PENDING);
  private long stoppedAt = Long.MAX_VALUE;

  private long[] sampleTime = new long[1024];
  private long[] sampleThread = new long[1024];
  private int[] sampleStack = new int[1024];
  private int buffered;

  private final Map<Long, Timeline> timelines = new HashMap<>();

  /** Each sampled thread's CPU time readings, kept from the oldest open bucket on. */
  private final Map<Long, CpuLine> cpu = new HashMap<>();

  /**
   * The instant of the last reading of every thread, then the ids of the threads alive then,
   * sorted; null before the first.
   */
  private long[] aliveAt;

  /** Threads sampled lately, to the instant of their latest sample. */
  private final Map<Long, Long> recent = new HashMap<>();

  /** Key (phase << 32 | stack) to {joules, samples}. */
  private final Map<Long, double[]> weights = new HashMap<>();

  /** Ids of the stacks that were cut (bounded by the tree's nodes). */
  private final Set<Integer> truncatedStacks = new HashSet<>();

  private double received;
  private long samples;
  private long dropped;
  private long truncated;
  private boolean finished;

  /**
   * Creates a profiler.
   *
   * @param registry phase names
   * @param maxPhases capacity of {@code registry}
   * @param origin {@link System#nanoTime()} from which buckets count (the ledger's start)
   * @param bucketNanos length of a bucket
   * @param maxStacks most call-tree nodes kept
   */
  public EnergyProfiler(
      PhaseRegistry registry, int maxPhases, long origin, long bucketNanos, int maxStacks) {
    this.registry = registry;
    this.maxPhases = Math.max(2, maxPhases);
    this.origin = origin;
    this.bucketNanos = Math.max(1, bucketNanos);
    this.tree = new StackTree(maxStacks);
    this.noSample = tree.pseudo(NO_SAMPLE);
    this.starting = tree.pseudo(STARTING);
    this.stopped = tree.pseudo(STOPPED);
    this.maxWeights = 4 * Math.max(16, maxStacks);
    this.carry = new double[this.maxPhases];
    this.carryAge = new int[this.maxPhases];
  }

  // ---- the ledger's side (sampler thread) ----

  @Override
  public synchronized void energy(int phase, Domain domain, double joules, long from, long to) {
    if (!(joules > 0) || phase < 0 || phase >= maxPhases || finished) {
      return;
    }
    received += joules;
    ledgerTime = Math.max(ledgerTime, to);
    long a = Math.max(from, origin);
    long b = Math.max(to, a);
    if (awaitingStart) {
      if (pending.full()) {
        replayPending(); // the start is late: its cut falls back to the buckets
      } else {
        pending.add(phase, joules, a, b);
        return;
      }
    }
    receive(phase, joules, a, b);
  }

  /** Puts a window of energy (within the buckets' span) where it belongs. */
  private void receive(int phase, double joules, long a, long b) {
    if (a < startedAt) {
      // no sample can come for the part before the recording started
      double before = b <= startedAt ? joules : joules * (startedAt - a) / (b - a);
      add(phase, starting, before, 0);
      joules -= before;
      a = Math.min(b, startedAt);
      if (!(joules > 0)) {
        return;
      }
    }
    if (b > stoppedAt || (b == a && a >= stoppedAt)) {
      // nor for the part after it stopped
      double after = b == a || a >= stoppedAt ? joules : joules * (b - stoppedAt) / (b - a);
      add(phase, stopped, after, 0);
      joules -= after;
      b = Math.max(a, stoppedAt);
      if (!(joules > 0)) {
        return;
      }
    }
    if (b == a) {
      bucket(bucketOf(a))[phase] += joules;
      return;
    }
    double perNano = joules / (b - a);
    long k = bucketOf(a);
    long last = bucketOf(b - 1);
    double given = 0;
    for (; k <= last; k++) {
      long s = Math.max(a, origin + k * bucketNanos);
      long e = Math.min(b, origin + (k + 1) * bucketNanos);
      double part = k == last ? joules - given : perNano * (e - s);
      given += part;
      bucket(k)[phase] += part;
    }
    while (buckets.size() > MAX_OPEN) {
      close(); // the samples stopped coming: keep memory flat, their energy waits as carry
    }
  }

  /**
   * Ends the wait for the recording's start, which {@link #samplingStarted} would have ended with
   * the windows before the start taken out; the windows held go to the buckets as they are.
   */
  private void replayPending() {
    if (!awaitingStart) {
      return;
    }
    awaitingStart = false;
    for (int i = 0; i < pending.size(); i++) {
      receive(pending.phase(i), pending.joules(i), pending.from(i), pending.to(i));
    }
    pending.clear();
  }

  @Override
  public void time(
      int phase, double seconds, long from, long to, double machineShare, double gpuShares) {}

  /**
   * A change of a thread's innermost phase.
   *
   * @param time {@link System#nanoTime()} of the change
   * @param thread the thread's {@link Thread#getId()}
   * @param phase its innermost phase from then on
   */
  public synchronized void threadPhase(long time, long thread, int phase) {
    if (thread < 0 || finished) {
      return;
    }
    Timeline t = timelines.get(thread);
    if (t == null) {
      if (phase == PhaseRegistry.OTHER) {
        return; // a thread without a timeline is in other
      }
      t = new Timeline();
      timelines.put(thread, t);
    }
    t.add(time, phase);
  }

  /**
   * Returns the threads sampled in the buckets still open or in the last minute, for reading their
   * CPU time.
   *
   * @return thread ids
   */
  public synchronized long[] sampledThreads() {
    long[] out = new long[recent.size()];
    int n = 0;
    for (long id : recent.keySet()) {
      out[n++] = id;
    }
    return out;
  }

  /**
   * Readings of threads' CPU time, taken together at one instant.
   *
   * @param time {@link System#nanoTime()} of the readings
   * @param threads the threads' {@link Thread#getId()}
   * @param cpuNanos their CPU time (user and system), negative when unknown
   * @param n how many
   * @param everyThread the threads are all the platform threads alive at {@code time}, so that a
   *     thread not among them was started later
   */
  public synchronized void threadCpu(
      long time, long[] threads, long[] cpuNanos, int n, boolean everyThread) {
    if (finished) {
      return;
    }
    for (int i = 0; i < n; i++) {
      if (cpuNanos[i] < 0) {
        continue;
      }
      CpuLine line = cpu.get(threads[i]);
      if (line == null) {
        if (cpu.size() >= MAX_THREADS) {
          continue; // threads beyond the cap weigh the mean
        }
        line = new CpuLine();
        if (everyThread
            && aliveAt != null
            && aliveAt[0] < time
            && Arrays.binarySearch(aliveAt, 1, aliveAt.length, threads[i]) < 0) {
          line.startsAt(aliveAt[0]); // not alive at the previous reading of every thread
        }
        cpu.put(threads[i], line);
      }
      line.add(time, cpuNanos[i]);
    }
    if (everyThread) {
      long[] alive = new long[n + 1];
      alive[0] = time;
      System.arraycopy(threads, 0, alive, 1, n);
      Arrays.sort(alive, 1, n + 1);
      aliveAt = alive;
    }
  }

  private long bucketOf(long time) {
    return Math.floorDiv(time - origin, bucketNanos);
  }

  /** The bucket of index k; energy for a bucket already closed goes to the first open one. */
  private double[] bucket(long k) {
    if (buckets.isEmpty()) {
      firstBucket = Math.max(k, firstBucket);
    }
    if (k < firstBucket) {
      k = firstBucket;
    }
    while (firstBucket + buckets.size() <= k) {
      buckets.addLast(new double[maxPhases]);
    }
    int i = (int) (k - firstBucket);
    if (i == 0) {
      return buckets.peekFirst();
    }
    int j = 0;
    for (double[] b : buckets) {
      if (j++ == i) {
        return b;
      }
    }
    throw new IllegalStateException();
  }

  // ---- the sampling side (profiler thread) ----

  /**
   * Interns a stack.
   *
   * @param frames frame names, outermost first
   * @param n how many
   * @param cutByJvm the JVM's stack depth cut the stack's outer frames
   * @return a stack id for {@link #sample}
   */
  public synchronized int intern(String[] frames, int n, boolean cutByJvm) {
    int off = cutByJvm ? 1 : 0;
    int[] ids = new int[n + off];
    if (cutByJvm) {
      ids[0] = tree.frameId(StackTree.TRUNCATED);
    }
    for (int i = 0; i < n; i++) {
      ids[i + off] = tree.frameId(frames[i]);
    }
    int stack = tree.intern(ids, ids.length);
    if (cutByJvm || StackTree.isCut(stack)) {
      truncatedStacks.add(stack);
    }
    return stack;
  }

  /**
   * Takes one stack sample.
   *
   * @param time its instant ({@link System#nanoTime()})
   * @param thread the sampled thread's {@link Thread#getId()}
   * @param stack from {@link #intern}
   */
  public synchronized void sample(long time, long thread, int stack) {
    replayPending(); // samples came, and no start was told: none will be
    if (finished || buffered == MAX_BUFFER || time < origin + firstBucket * bucketNanos) {
      dropped++;
      return;
    }
    if (buffered == sampleTime.length) {
      int n = Math.min(MAX_BUFFER, buffered * 2);
      sampleTime = Arrays.copyOf(sampleTime, n);
      sampleThread = Arrays.copyOf(sampleThread, n);
      sampleStack = Arrays.copyOf(sampleStack, n);
    }
    if (truncatedStacks.contains(stack)) {
      truncated++;
    }
    if (recent.size() < MAX_THREADS || recent.containsKey(thread)) {
      recent.put(thread, time);
    }
    sampleTime[buffered] = time;
    sampleThread[buffered] = thread;
    sampleStack[buffered] = stack;
    buffered++;
    samplingSince = Math.min(samplingSince, time);
  }

  /** Counts a sample that was not used (e.g. an idle native wait). */
  public synchronized void drop() {
    dropped++;
  }

  /**
   * Says that every sample taken before {@code time} has been delivered, and closes the buckets
   * that both sides have passed.
   *
   * @param time {@link System#nanoTime()}
   */
  public synchronized void sampledUpTo(long time) {
    replayPending();
    sampledUpTo = Math.max(sampledUpTo, time);
    long limit = Math.min(sampledUpTo, ledgerTime);
    while (!buckets.isEmpty() && origin + (firstBucket + 1) * bucketNanos <= limit) {
      close();
    }
  }

  private void close() {
    double[] energy = buckets.pollFirst();
    long start = origin + firstBucket * bucketNanos;
    long end = start + bucketNanos;
    firstBucket++;
    int[] phaseOf = new int[buffered];
    Map<Long, long[]> perThread = new HashMap<>();
    for (int i = 0; i < buffered; i++) {
      long t = sampleTime[i];
      phaseOf[i] = -1;
      if (t < end) {
        if (t < start) {
          dropped++;
        } else {
          phaseOf[i] = phaseOf(sampleThread[i], t);
          long[] seen = perThread.computeIfAbsent(sampleThread[i], x -> new long[] {0, t});
          seen[0]++;
          seen[1] = Math.max(seen[1], t);
        }
      }
    }
    Map<Long, Double> weightOf = sampleWeights(perThread, start, end);
    double[] weight = new double[buffered];
    double[] sum = new double[maxPhases];
    int[] count = new int[maxPhases];
    for (int i = 0; i < buffered; i++) {
      int p = phaseOf[i];
      if (p >= 0) {
        weight[i] = weightOf.get(sampleThread[i]);
        sum[p] += weight[i];
        count[p]++;
      }
    }
    for (int p = 0; p < maxPhases; p++) {
      double e = energy[p] + carry[p];
      if (e == 0 && count[p] == 0) {
        continue;
      }
      if (count[p] > 0) {
        carry[p] = 0;
        carryAge[p] = 0;
      } else if (end <= samplingSince) {
        add(p, starting, e, 0);
        carry[p] = 0;
        carryAge[p] = 0;
      } else if (++carryAge[p] > MAX_CARRY) {
        add(p, noSample, e, 0);
        carry[p] = 0;
        carryAge[p] = 0;
      } else {
        carry[p] = e;
      }
      energy[p] = e; // what this phase's samples share below
    }
    int kept = 0;
    for (int i = 0; i < buffered; i++) {
      long t = sampleTime[i];
      if (t < end) {
        int p = phaseOf[i];
        if (p >= 0) {
          double share = sum[p] > 0 ? weight[i] / sum[p] : 1.0 / count[p];
          add(p, sampleStack[i], energy[p] * share, 1);
          samples++;
        }
      } else {
        sampleTime[kept] = t;
        sampleThread[kept] = sampleThread[i];
        sampleStack[kept] = sampleStack[i];
        kept++;
      }
    }
    buffered = kept;
    for (Timeline tl : timelines.values()) {
      tl.trimBefore(end);
    }
    timelines.values().removeIf(Timeline::idle);
    for (CpuLine line : cpu.values()) {
      line.trimBefore(end);
    }
    cpu.values().removeIf(line -> line.before(end - 60 * bucketNanos));
    recent.values().removeIf(last -> last < end - 60 * bucketNanos);
  }

  /**
   * The weight of one sample of each thread in a bucket: the thread's CPU time in the bucket over
   * its samples there; the mean of the known weights for a thread whose CPU time is unknown, or 1
   * when none is known.
   *
   * @param perThread per thread, its samples in the bucket and the instant of its last one
   */
  private Map<Long, Double> sampleWeights(Map<Long, long[]> perThread, long start, long end) {
    Map<Long, Double> out = new HashMap<>(perThread.size() * 2);
    double known = 0;
    int knownThreads = 0;
    for (Map.Entry<Long, long[]> e : perThread.entrySet()) {
      CpuLine line = cpu.get(e.getKey());
      double used = line == null ? -1 : line.used(start, end, e.getValue()[1]);
      if (used >= 0) {
        double w = used / e.getValue()[0];
        out.put(e.getKey(), w);
        known += w;
        knownThreads++;
      }
    }
    double mean = knownThreads == 0 || known == 0 ? 1 : known / knownThreads;
    for (Long thread : perThread.keySet()) {
      out.putIfAbsent(thread, mean);
    }
    return out;
  }

  private int phaseOf(long thread, long time) {
    Timeline t = timelines.get(thread);
    int p = t == null ? PhaseRegistry.OTHER : t.at(time);
    return p >= 0 && p < maxPhases ? p : PhaseRegistry.OTHER;
  }

  private void add(int phase, int stack, double joules, int sampleCount) {
    long key = ((long) phase << 32) | (stack & 0xFFFFFFFFL);
    double[] w = weights.get(key);
    if (w == null) {
      if (weights.size() >= maxWeights) {
        key = ((long) phase << 32) | (tree.pseudo(StackTree.TRUNCATED) & 0xFFFFFFFFL);
        w = weights.computeIfAbsent(key, x -> new double[2]);
      } else {
        w = new double[2];
        weights.put(key, w);
      }
    }
    w[0] += joules;
    w[1] += sampleCount;
  }

  /**
   * When the recording started, as told to {@link #samplingStarted}.
   *
   * @return the instant on the {@code System.nanoTime()} scale, or {@code Long.MIN_VALUE} when not
   *     told
   */
  public synchronized long startedAt() {
    return startedAt;
  }

  /**
   * Says that the recording that takes the samples started at {@code time}: no sample can come for
   * the energy before it (the JVM's start-up, JFR's own start), which goes to {@value #STARTING},
   * both that already received and that to come. Without it, the energy of the buckets that end
   * before the first sample goes there, and the rest of the first sampled bucket is shared by its
   * samples. Later calls do nothing.
   *
   * @param time {@link System#nanoTime()} of the start
   */
  public synchronized void samplingStarted(long time) {
    if (finished || startedAt != Long.MIN_VALUE) {
      return;
    }
    startedAt = time;
    if (awaitingStart) {
      replayPending(); // split exactly at the start
    } else {
      cut(time, starting, true);
    }
  }

  /**
   * Says that the recording that takes the samples stopped at {@code time}: no sample can come for
   * the energy after it, which goes to {@value #STOPPED}, both that already received and that to
   * come. An earlier instant than one already given moves the stop there; a later one does nothing.
   *
   * @param time {@link System#nanoTime()} of the stop
   */
  public synchronized void samplingStopped(long time) {
    if (finished || time >= stoppedAt) {
      return;
    }
    stoppedAt = time;
    replayPending();
    cut(time, stopped, false);
  }

  /**
   * Closes every bucket with the samples delivered so far, all of them delivered; the energy still
   * waiting for a sample goes to {@value #NO_SAMPLE}. Later calls do nothing.
   */
  public synchronized void finish() {
    finishAt(Long.MAX_VALUE);
  }

  /**
   * Closes every bucket when samples were delivered only up to an instant (JFR before Java 20 does
   * not hand out what it has not flushed when a stream closes). The energy after that instant goes
   * to {@value #NO_SAMPLE}, and samples after it are dropped: sharing it among the few that came
   * would favour whatever ran before the last flush. Later calls do nothing.
   *
   * @param delivered {@link System#nanoTime()} up to which every sample was delivered
   */
  public synchronized void finishAt(long delivered) {
    if (finished) {
      return;
    }
    replayPending();
    sampledUpTo = Long.MAX_VALUE;
    if (delivered != Long.MAX_VALUE) {
      while (!buckets.isEmpty() && origin + (firstBucket + 1) * bucketNanos <= delivered) {
        close();
      }
      cut(delivered, noSample, false);
    }
    while (!buckets.isEmpty()) {
      close();
    }
    for (int p = 0; p < maxPhases; p++) {
      if (carry[p] != 0) {
        add(p, samplingSince == Long.MAX_VALUE ? starting : noSample, carry[p], 0);
        carry[p] = 0;
      }
    }
    dropped += buffered;
    buffered = 0;
    finished = true;
  }

  /**
   * Takes the energy after {@code cut}, or with {@code before} the energy before it, out of the
   * open buckets into {@code frame}, and drops the samples on that side of it. Within a bucket the
   * energy is taken as spread evenly over the part of it the ledger has covered (the power being
   * taken as constant within it).
   *
   * @param frame the pseudo-frame; {@link #noSample} becomes {@link #starting} before any sample
   */
  private void cut(long cut, int frame, boolean before) {
    double[] moved = new double[maxPhases];
    long start = origin + firstBucket * bucketNanos;
    for (double[] b : buckets) {
      long covered = Math.min(start + bucketNanos, Math.max(start, ledgerTime));
      double share =
          cut >= covered ? 1 : cut <= start ? 0 : (double) (cut - start) / (covered - start);
      double move = before ? share : 1 - share;
      if (move > 0) {
        for (int p = 0; p < maxPhases; p++) {
          moved[p] += b[p] * move;
          b[p] *= 1 - move;
        }
      }
      start += bucketNanos;
    }
    int n = 0;
    for (int i = 0; i < buffered; i++) {
      if (sampleTime[i] < cut != before) {
        sampleTime[n] = sampleTime[i];
        sampleThread[n] = sampleThread[i];
        sampleStack[n] = sampleStack[i];
        n++;
      } else {
        dropped++;
      }
    }
    buffered = n;
    int to = frame == noSample && samplingSince == Long.MAX_VALUE ? starting : frame;
    for (int p = 0; p < maxPhases; p++) {
      if (moved[p] != 0) {
        add(p, to, moved[p], 0);
      }
    }
  }

  /** Returns the instants of the samples still waiting for their bucket whose leaf is a frame. */
  synchronized List<Long> waiting(String leaf) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < buffered; i++) {
      List<String> f = tree.frames(sampleStack[i]);
      if (!f.isEmpty() && f.get(f.size() - 1).equals(leaf)) {
        out.add(sampleTime[i]);
      }
    }
    return out;
  }

  /**
   * Returns how many entries the profiler holds: per-stack weights, waiting samples, open buckets,
   * phase changes kept and threads followed. For the test that memory stays flat.
   */
  synchronized long footprint() {
    long changes = 0;
    for (Timeline t : timelines.values()) {
      changes += t.size;
    }
    for (CpuLine line : cpu.values()) {
      changes += line.size;
    }
    return weights.size()
        + pending.size()
        + buffered
        + buckets.size()
        + changes
        + timelines.size()
        + cpu.size()
        + recent.size()
        + tree.size();
  }

  /** Returns the instant up to which every sample has been delivered. */
  synchronized long sampledUpTo() {
    return sampledUpTo;
  }

  /** Returns the joules received from the ledger so far. */
  public synchronized double received() {
    return received;
  }

  /**
   * Returns the per-stack energy handed out so far, as folded lines without weights: {@code
   * phase;frame;...} to joules. For tests and the files.
   */
  synchronized Map<String, Double> folded(boolean withPhase) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (Map.Entry<Long, double[]> e : weights.entrySet()) {
      int phase = (int) (e.getKey() >>> 32);
      int stack = (int) (long) e.getKey();
      List<String> frames = tree.frames(stack);
      String line = String.join(";", frames);
      if (withPhase) {
        line = registry.name(phase) + (line.isEmpty() ? "" : ";" + line);
      }
      out.merge(line, e.getValue()[0], Double::sum);
    }
    return out;
  }

  /**
   * Writes folded stacks, weights in whole millijoules rounded so that the file's total is the
   * rounded total.
   *
   * @param file destination
   * @param phase only this phase, without its frame; {@code null} for all, each under its phase
   * @throws IOException when the file cannot be written
   */
  public void writeCollapsed(Path file, String phase) throws IOException {
    Path abs = file.toAbsolutePath();
    if (abs.getParent() != null) {
      Files.createDirectories(abs.getParent());
    }
    try (BufferedWriter w = Files.newBufferedWriter(abs, StandardCharsets.UTF_8)) {
      writeCollapsed(w, phase);
    }
  }

  /**
   * Returns the folded stacks of all phases, each under its phase, as {@link #writeCollapsed}
   * writes them.
   *
   * @return the text
   */
  public String collapsed() {
    java.io.StringWriter w = new java.io.StringWriter();
    try {
      writeCollapsed(w, null);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // a string does not fail to write
    }
    return w.toString();
  }

  private void writeCollapsed(java.io.Writer w, String phase) throws IOException {
    Map<String, Double> lines;
    synchronized (this) {
      if (phase == null) {
        lines = folded(true);
      } else {
        lines = new LinkedHashMap<>();
        String prefix = phase + ";";
        for (Map.Entry<String, Double> e : folded(true).entrySet()) {
          if (e.getKey().startsWith(prefix)) {
            lines.put(e.getKey().substring(prefix.length()), e.getValue());
          }
        }
      }
    }
    long[] mj = Rounding.millijoules(lines.values());
    int i = 0;
    for (String line : lines.keySet()) {
      long v = mj[i++];
      if (v > 0) {
        w.write(line); // only pseudo-frames have spaces; readers split at the last one
        w.write(' ');
        w.write(Long.toString(v));
        w.write('\n');
      }
    }
  }

  /** Returns the names of the phases that have energy in the profile. */
  public synchronized List<String> phases() {
    Set<Integer> ids = new HashSet<>();
    for (Long k : weights.keySet()) {
      ids.add((int) (k >>> 32));
    }
    List<String> names = new ArrayList<>();
    for (int id : ids) {
      names.add(registry.name(id));
    }
    names.sort(null);
    return names;
  }

  /**
   * Summarises the profile for the report.
   *
   * @param collapsedFile the folded-stacks file written, or {@code null}
   * @return the profile
   */
  public synchronized EnergyProfile summary(String collapsedFile) {
    Map<Integer, Map<String, double[]>> byPhase = new HashMap<>();
    Map<String, double[]> all = new HashMap<>();
    double total = 0;
    for (Map.Entry<Long, double[]> e : weights.entrySet()) {
      int phase = (int) (e.getKey() >>> 32);
      int stack = (int) (long) e.getKey();
      double j = e.getValue()[0];
      long n = (long) e.getValue()[1];
      total += j;
      List<String> frames = tree.frames(stack);
      Map<String, double[]> m = byPhase.computeIfAbsent(phase, x -> new HashMap<>());
      for (Map<String, double[]> target : List.of(m, all)) {
        if (!frames.isEmpty()) {
          target.computeIfAbsent(frames.get(frames.size() - 1), x -> new double[3])[0] += j;
        }
        for (String f : new HashSet<>(frames)) {
          double[] v = target.computeIfAbsent(f, x -> new double[3]);
          v[1] += j;
          v[2] += n;
        }
      }
    }
    List<PhaseMethods> phases = new ArrayList<>();
    for (Map.Entry<Integer, Map<String, double[]>> e : byPhase.entrySet()) {
      double j = 0;
      for (double[] v : e.getValue().values()) {
        j += v[0];
      }
      phases.add(top(registry.name(e.getKey()), j, e.getValue()));
    }
    phases.sort(Comparator.comparingDouble(PhaseMethods::joules).reversed());
    return new EnergyProfile(
        total,
        samples,
        dropped,
        tree.size() - 1,
        truncated,
        collapsedFile,
        top("all", total, all),
        phases);
  }

  private static PhaseMethods top(String phase, double joules, Map<String, double[]> m) {
    List<MethodEnergy> list = new ArrayList<>(m.size());
    m.forEach((k, v) -> list.add(new MethodEnergy(k, v[0], v[1], (long) v[2])));
    List<MethodEnergy> bySelf = new ArrayList<>(list);
    bySelf.sort(
        Comparator.comparingDouble(MethodEnergy::selfJoules)
            .reversed()
            .thenComparing(MethodEnergy::method));
    List<MethodEnergy> byTotal = new ArrayList<>(list);
    byTotal.sort(
        Comparator.comparingDouble(MethodEnergy::totalJoules)
            .reversed()
            .thenComparing(MethodEnergy::method));
    return new PhaseMethods(
        phase,
        joules,
        bySelf.subList(0, Math.min(TOP, bySelf.size())),
        byTotal.subList(0, Math.min(TOP, byTotal.size())));
  }

  /**
   * How many entries of a time series sorted by time come before the one in force at {@code time}:
   * those a trim drops.
   */
  private static int stale(long[] times, int size, long time) {
    int stale = 0;
    while (stale + 1 < size && times[stale + 1] <= time) {
      stale++;
    }
    return stale;
  }

  /** One thread's innermost phase over time, kept from the oldest open bucket on. */
  private static final class Timeline {
    private long[] times = new long[16];
    private int[] phases = new int[16];
    private int size;

    void add(long time, int phase) {
      if (size == times.length) {
        times = Arrays.copyOf(times, size * 2);
        phases = Arrays.copyOf(phases, size * 2);
      }
      times[size] = size > 0 ? Math.max(time, times[size - 1]) : time;
      phases[size] = phase;
      size++;
    }

    int at(long time) {
      int lo = 0;
      int hi = size - 1;
      int found = -1;
      while (lo <= hi) {
        int mid = (lo + hi) >>> 1;
        if (times[mid] <= time) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return found < 0 ? PhaseRegistry.OTHER : phases[found];
    }

    /** Forgets changes before {@code time}, keeping the one in force at {@code time}. */
    void trimBefore(long time) {
      int stale = stale(times, size, time);
      if (stale > 0) {
        System.arraycopy(times, stale, times, 0, size - stale);
        System.arraycopy(phases, stale, phases, 0, size - stale);
        size -= stale;
      }
    }

    boolean idle() {
      return size == 1 && phases[0] == PhaseRegistry.OTHER;
    }
  }

  /** One thread's CPU time over time, read every so often. */
  private static final class CpuLine {
    private long[] times = new long[8];
    private long[] nanos = new long[8];
    private int size;

    /** The thread used no CPU up to its first reading: it was started after the previous one. */
    private boolean none;

    void startsAt(long time) {
      add(time, 0);
      none = true;
    }

    void add(long time, long cpuNanos) {
      if (size > 0 && time <= times[size - 1]) {
        return;
      }
      if (size == times.length) {
        times = Arrays.copyOf(times, size * 2);
        nanos = Arrays.copyOf(nanos, size * 2);
      }
      times[size] = time;
      nanos[size] = Math.max(cpuNanos, size > 0 ? nanos[size - 1] : 0);
      size++;
    }

    /**
     * CPU time used between two instants, interpolated between the readings around them; {@code -1}
     * when the readings do not cover both. A bucket is closed only after a reading beyond its end,
     * so a line whose readings stop before {@code to} is a thread that ended: it is taken to have
     * gone on at the rate between its last two readings up to {@code lastSample}.
     */
    double used(long from, long to, long lastSample) {
      double a = at(from);
      double b = at(to);
      if (b < 0 && size >= 2 && times[size - 1] < to) {
        long last = times[size - 1];
        double rate = (double) (nanos[size - 1] - nanos[size - 2]) / (last - times[size - 2]);
        b = nanos[size - 1] + rate * Math.max(0, Math.min(to, lastSample) - last);
      }
      return a < 0 || b < 0 ? -1 : Math.max(0, b - a);
    }

    private double at(long time) {
      if (size == 0) {
        return -1;
      }
      if (time < times[0]) {
        return none ? 0 : -1;
      }
      for (int i = 1; i < size; i++) {
        if (time <= times[i]) {
          double f = (double) (time - times[i - 1]) / (times[i] - times[i - 1]);
          return nanos[i - 1] + f * (nanos[i] - nanos[i - 1]);
        }
      }
      return -1; // not read since: the thread ended, or the next reading is still to come
    }

    /** Forgets readings before {@code time}, keeping the last one before it. */
    void trimBefore(long time) {
      int stale = stale(times, size, time);
      if (stale > 0) {
        System.arraycopy(times, stale, times, 0, size - stale);
        System.arraycopy(nanos, stale, nanos, 0, size - stale);
        size -= stale;
      }
    }

    boolean before(long time) {
      return size == 0 || times[size - 1] < time;
    }
  }
}

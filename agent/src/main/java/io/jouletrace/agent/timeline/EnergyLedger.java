package io.jouletrace.agent.timeline;

import io.jouletrace.agent.phase.PhaseChanges;
import io.jouletrace.agent.phase.PhaseEvents;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * The energy timeline and its attribution to phases.
 *
 * <p>Each source reports cumulative joules per device at its own sample times. Between two samples
 * the cumulative curve is taken as linear (constant power), so a phase gets the energy of the time
 * it occupied in that window ({@link Occupancy}); this holds for phases shorter than the interval
 * too. What a window hands out adds up to the job's share of the devices' energy for that window,
 * so the sum over phases, {@code other} included, equals the total: no joule is created or lost.
 *
 * <p>Within a window that holds a phase boundary, power is not taken as constant: each phase's
 * share is its time in the window times its own recent power, learnt from the windows it was in
 * (see {@code learn}). The counters cannot tell more: the sampler reads RAPL soon after each
 * boundary ({@code boundary.resolution}) and NVML just after each update of its counter, and this
 * keeps the energy of the instants between the boundary and that read with the phase they belong
 * to. The window's energy is still handed out in full, so the weights move joules between phases,
 * never create or lose them. No phase's power counts for less than {@value #MIN_POWER_SHARE} of the
 * window's average power in that split: an estimate near 0 W, learnt from a counter that crawled,
 * cannot take from a phase the window it fills.
 *
 * <p>All methods are called by the sampler thread, except {@link #snapshot} which scrapes and the
 * shutdown hook may call; they synchronise on this object.
 */
public final class EnergyLedger {

  /**
   * The least power, as a share of a window's average power, that a phase counts with when a window
   * is split by learnt powers.
   */
  static final double MIN_POWER_SHARE = 0.05;

  private final PhaseRegistry registry;
  private final AttributionListener listener;
  private final List<Device> devices = new ArrayList<>();
  private final List<int[]> sourceDevices = new ArrayList<>();
  private final List<Occupancy> sourceCursors = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private final Map<String, Map<String, Double>> details = new LinkedHashMap<>();
  private EnergySnapshot.ModelInfo model;
  private final EventLog log = new EventLog();
  private final Occupancy wall;
  private final PowerTimeline timeline;

  /** A cursor left at the start, so that a source opened late can count from there; see seal(). */
  private Occupancy origin;

  private final int maxPhases;
  private final WindowSeconds scratch;
  private final double[][] phaseJoules;
  private final double[] phaseSeconds;
  private double[] deviceJoules = new double[0];
  private double[] deviceLast = new double[0];
  private PowerWindow[] deviceWatts = new PowerWindow[0];
  private long[] deviceSince = new long[0];
  private long[] deviceUntil = new long[0];
  private double[] devicePending = new double[0];
  private double[] deviceShare = new double[0];
  private PhasePower[] phasePower = new PhasePower[0];
  private final double[] weights;
  private final long startNanos;
  private long lastTick;

  /**
   * Creates an empty ledger.
   *
   * @param registry phase names (its capacity bounds the per-phase arrays)
   * @param maxPhases capacity of {@code registry}
   * @param listener receives each window's attribution (the carbon stage)
   * @param startNanos {@link System#nanoTime()} at which measurement starts
   */
  public EnergyLedger(
      PhaseRegistry registry, int maxPhases, AttributionListener listener, long startNanos) {
    this.registry = registry;
    this.listener = listener;
    this.maxPhases = Math.max(2, maxPhases);
    this.scratch = new WindowSeconds(this.maxPhases);
    this.weights = new double[this.maxPhases];
    this.phaseJoules = new double[Domain.values().length][this.maxPhases];
    this.phaseSeconds = new double[this.maxPhases];
    this.wall = new Occupancy(log, startNanos, this.maxPhases);
    this.origin = wall.copy();
    this.startNanos = startNanos;
    this.lastTick = startNanos;
    this.timeline =
        new PowerTimeline(startNanos, PowerTimeline.DEFAULT_POINTS, PowerTimeline.DEFAULT_BANDS);
  }

  /**
   * Adds a source whose readings are current when taken and whose first sample (its zero) was taken
   * at {@code time}.
   *
   * @param sourceDevices the source's devices
   * @param time when the source was opened
   * @return the index to pass to {@link #sample}
   */
  public int addSource(List<Device> sourceDevices, long time) {
    return addSource(sourceDevices, time, 0);
  }

  /**
   * Adds a source whose first sample (its zero) was taken at {@code time}.
   *
   * @param sourceDevices the source's devices
   * @param time when the source was opened
   * @param updatePeriodNanos how often its counters update between the instants it is sampled at
   *     (RAPL's millisecond, read at any instant), 0 when each sample is exact for its instant (a
   *     counter read just after its updates): windows of a few periods then teach the phases' power
   *     little
   * @return the index to pass to {@link #sample}
   */
  public synchronized int addSource(List<Device> sourceDevices, long time, long updatePeriodNanos) {
    int base = devices.size();
    int[] idx = new int[sourceDevices.size()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = base + i;
    }
    devices.addAll(sourceDevices);
    int n = devices.size();
    deviceJoules = Arrays.copyOf(deviceJoules, n);
    deviceLast = Arrays.copyOf(deviceLast, n);
    deviceWatts = Arrays.copyOf(deviceWatts, n);
    deviceSince = Arrays.copyOf(deviceSince, n);
    deviceUntil = Arrays.copyOf(deviceUntil, n);
    for (int i = base; i < n; i++) {
      deviceWatts[i] = new PowerWindow();
      deviceWatts[i].add(time, 0);
      deviceSince[i] = time;
      deviceUntil[i] = time;
    }
    devicePending = Arrays.copyOf(devicePending, n);
    deviceShare = Arrays.copyOf(deviceShare, n);
    phasePower = Arrays.copyOf(phasePower, n);
    for (int i = base; i < n; i++) {
      phasePower[i] = new PhasePower(maxPhases, updatePeriodNanos);
    }
    this.sourceDevices.add(idx);
    // Start from a cursor's state so that phases opened before this source existed count.
    Occupancy cursor = origin != null && time <= wall.time() ? origin.copy() : wall.copy();
    cursor.advance(Math.max(time, cursor.time()), new WindowSeconds(maxPhases));
    sourceCursors.add(cursor);
    return sourceCursors.size() - 1;
  }

  /**
   * Sets the instant a source's first reading stands for, once it is known better than when the
   * source was added (a slowly updating counter whose update instants were learnt since): the
   * devices' measured time ({@code seconds} in the report) counts from there.
   *
   * @param source index from {@link #addSource}
   * @param time the instant
   */
  public synchronized void measuredSince(int source, long time) {
    for (int d : sourceDevices.get(source)) {
      deviceSince[d] = time;
      deviceUntil[d] = Math.max(deviceUntil[d], time);
    }
  }

  /**
   * Moves phase changes published by application threads into the timeline.
   *
   * @param changes the recorder
   * @param now the current {@link System#nanoTime()}
   * @return the time of the latest phase change in the timeline, {@link Long#MIN_VALUE} when none
   */
  public synchronized long collect(PhaseChanges changes, long now) {
    changes.drain(collector, now);
    handOver();
    return log.lastTime();
  }

  /** Gathers each drain's phase changes, to be taken into the timeline in time order. */
  private final PhaseEvents collector = new Collector();

  private final DrainOrder order = new DrainOrder();

  /**
   * Takes the changes of the last drain into the timeline in time order, and tells the listener
   * (the profiler) of each. A drain hands them over thread by thread, each thread's in order; taken
   * as they came, a change of one thread that came after a later one of another was moved to that
   * later time (1,969 of the 2,000 changes of 1,000 threads each opening one 5 ms phase, by up to
   * 78 ms), which stretched or emptied short phases.
   */
  private void handOver() {
    int n = order.size();
    if (n == 0) {
      return;
    }
    int[] byTime = order.sorted();
    for (int k = 0; k < n; k++) {
      int i = byTime == null ? k : byTime[k];
      long time = order.time(i);
      int slot = order.slot(i);
      int phase = order.phase(i);
      log.append(time, slot, phase);
      listener.phaseChange(time, slot, phase);
    }
    order.clear();
  }

  // Classes rather than lambdas or method references for what the ledger hands out: the JVM spins
  // a class for each of those at its first use, which a short job pays at start-up and exit.

  private final class Collector implements PhaseEvents {
    @Override
    public void accept(long time, int slot, int phase) {
      order.add(time, slot, phase);
    }
  }

  private final class Warnings implements Consumer<String> {
    @Override
    public void accept(String line) {
      warning(line);
    }
  }

  private final class PhaseNames implements IntFunction<String> {
    @Override
    public String apply(int phase) {
      return registry.name(phase);
    }
  }

  /**
   * {@link #warning} as a consumer.
   *
   * @return a consumer that records each line it is given as a warning
   */
  public Consumer<String> warnings() {
    return new Warnings();
  }

  /**
   * Moves the phase changes of the threads that published some since the last collection into the
   * timeline, without looking at the other threads: for reads at phase boundaries.
   *
   * @param changes the recorder
   * @param now the current {@link System#nanoTime()}
   * @return the time of the latest phase change in the timeline, {@link Long#MIN_VALUE} when none
   */
  public synchronized long collectChanged(PhaseChanges changes, long now) {
    changes.drainChanged(collector, now);
    handOver();
    return log.lastTime();
  }

  /**
   * Gives back the memory that the last collection grew for itself when it was an exceptional one:
   * the sampler calls it after catching up with changes it had left for later.
   */
  public synchronized void releaseCollectionBuffers() {
    order.release();
  }

  /**
   * How many phase changes reached the timeline after a later one, and the most one was late by:
   * each was moved to the later one's time.
   *
   * @return {count, nanoseconds}
   */
  public synchronized long[] lateChanges() {
    return new long[] {log.moved(), log.maxLateness()};
  }

  /** Appends one phase change directly; for tests that script the timeline. */
  synchronized void event(long time, int slot, int phase) {
    log.append(time, slot, phase);
  }

  /**
   * Attributes a source's energy since its previous sample.
   *
   * @param source index from {@link #addSource}
   * @param time when the devices were read ({@link System#nanoTime()})
   * @param cumulative per device, joules since the source was opened
   * @param shares per device, the fraction of its energy that belongs to this job, in [0, 1]
   */
  public synchronized void sample(int source, long time, double[] cumulative, double[] shares) {
    int[] idx = sourceDevices.get(source);
    Occupancy cursor = sourceCursors.get(source);
    scratch.clear();
    long from = cursor.time();
    double window = cursor.advance(time, scratch);
    int inWindow = scratch.count();
    for (int i = 0; i < idx.length; i++) {
      int d = idx[i];
      double delta = Math.max(0, cumulative[i] - deviceLast[d]);
      deviceLast[d] = Math.max(deviceLast[d], cumulative[i]);
      deviceJoules[d] += delta;
      if (delta > 0) {
        deviceUntil[d] = Math.max(deviceUntil[d], time); // a lost GPU's counter stops here
      }
      deviceWatts[d].add(time, deviceJoules[d]);
      deviceShare[d] = shares[i];
      listener.device(devices.get(d), delta, from, time);
      double job = delta * clamp(shares[i]) + devicePending[d];
      if (window <= 0) {
        devicePending[d] = job; // no time passed for this cursor: hand it out with the next window
        continue;
      }
      devicePending[d] = 0;
      PhasePower est = phasePower[d];
      // Weights: each phase's time in the window times its own estimated power. A window that
      // holds one phase is split exactly as before; one that holds a boundary gives each side
      // energy at its own power instead of the window's average (see the class notes).
      double unknown = est.unknownPower(scratch, delta, window);
      double floor = MIN_POWER_SHARE * delta / window;
      double denominator = 0;
      for (int k = 0; k < inWindow; k++) {
        int p = scratch.phase(k);
        double w = est.watts(p);
        weights[p] = scratch.of(p) * Math.max(floor, Double.isNaN(w) ? unknown : w);
        denominator += weights[p];
      }
      Domain domain = devices.get(d).domain();
      double[] target = phaseJoules[domain.ordinal()];
      for (int k = 0; k < inWindow; k++) {
        int p = scratch.phase(k);
        double e =
            denominator > 0 && Double.isFinite(denominator)
                ? job * (weights[p] / denominator)
                : job * (scratch.of(p) / window);
        target[p] += e;
        listener.energy(p, domain, e, from, time);
      }
      est.learn(scratch, delta, window);
    }
    trim();
  }

  /**
   * Advances wall time to {@code time}, for a machine without GPUs.
   *
   * @param time the current {@link System#nanoTime()}
   * @param share the job's share of the machine over the window, in [0, 1]
   */
  public void tick(long time, double share) {
    tick(time, share, 0);
  }

  /**
   * Advances wall time to {@code time}; the listener gets each phase's seconds with the shares
   * (embodied carbon).
   *
   * @param time the current {@link System#nanoTime()}
   * @param share the job's share of the machine over the window, in [0, 1]
   * @param gpuShares the sum over the GPUs in use of the job's share of each
   */
  public synchronized void tick(long time, double share, double gpuShares) {
    scratch.clear();
    long from = wall.time();
    wall.advance(time, scratch);
    timeline.record(time, devices, deviceJoules, scratch);
    double machine = clamp(share);
    double gpus = Math.max(0, gpuShares);
    // Each GPU's share as last sampled, so that embodied carbon can use each GPU's own figure.
    List<Device> gpuDevices = new ArrayList<>();
    double[] perGpu = new double[devices.size()];
    double sampled = 0;
    for (int d = 0; d < devices.size(); d++) {
      if (devices.get(d).domain() == Domain.GPU) {
        perGpu[gpuDevices.size()] = clamp(deviceShare[d]);
        sampled += perGpu[gpuDevices.size()];
        gpuDevices.add(devices.get(d));
      }
    }
    boolean perDevice = !gpuDevices.isEmpty() && Math.abs(sampled - gpus) < 1e-9;
    double[] shares = Arrays.copyOf(perGpu, gpuDevices.size());
    for (int i = 0, n = scratch.count(); i < n; i++) {
      int p = scratch.phase(i);
      phaseSeconds[p] += scratch.of(p);
      if (perDevice) {
        listener.time(p, scratch.of(p), from, time, machine, gpuDevices, shares);
      } else {
        listener.time(p, scratch.of(p), from, time, machine, gpus);
      }
    }
    lastTick = Math.max(lastTick, time);
    trim();
  }

  /**
   * Phase changes collected so far, ever: unchanged from one tick to the next when no thread
   * changed phase in between.
   */
  public synchronized long changesCollected() {
    return log.end();
  }

  /**
   * Records the detail counters of a source (not added to any total).
   *
   * @param source the source's name
   * @param joules counter name to joules since the source opened
   */
  public synchronized void details(String source, Map<String, Double> joules) {
    details.put(source, new LinkedHashMap<>(joules));
  }

  /**
   * Records the estimation model in use, for the report and metrics.
   *
   * @param info the model
   */
  public synchronized void model(EnergySnapshot.ModelInfo info) {
    this.model = info;
  }

  /**
   * Records a one-line warning for the report.
   *
   * @param line the warning
   */
  public void warning(String line) {
    // Its own lock, taken last by every thread and holding nothing else: a warning may come from
    // any thread holding any lock (the phase registry, the carbon stage, the sampler) without
    // waiting for this ledger's.
    synchronized (warnings) {
      if (warnings.size() < 100 && !warnings.contains(line)) {
        warnings.add(line);
      }
    }
  }

  /**
   * Ends start-up: no source will be added with a time before now, so the events kept for that can
   * go. The sampler calls it once its sources are open, whether or not they all opened.
   */
  public synchronized void seal() {
    origin = null;
  }

  /**
   * Phase changes kept at most for a source that might still join with a time from before it (about
   * 1.3 MB). Start-up that has not ended by then (it takes a second or so) is ended here, so that
   * memory stays bounded whatever happened to it; a source that joins later counts from its own
   * opening.
   */
  static final int MAX_START_UP_EVENTS = 1 << 16;

  private void trim() {
    if (origin != null && log.size() > MAX_START_UP_EVENTS) {
      origin = null;
      warning(
          "jouletrace: start-up of the energy sources did not finish while "
              + MAX_START_UP_EVENTS
              + " phase changes were kept for it; sources that open later count from their"
              + " opening");
    }
    long min = origin != null ? origin.seq() : wall.seq();
    for (Occupancy c : sourceCursors) {
      min = Math.min(min, c.seq());
    }
    log.trimBefore(min); // drops whole chunks only: nothing is copied
  }

  /**
   * Returns how many phase changes are kept: those some source has not been sampled past, and
   * during start-up those a source opened late may still need.
   *
   * @return the number of changes in memory
   */
  public synchronized int retainedEvents() {
    return log.size();
  }

  private static double clamp(double share) {
    return Double.isNaN(share) ? 0 : Math.max(0, Math.min(1, share));
  }

  /**
   * Freezes the current state.
   *
   * @param startedAt wall-clock start
   * @param endedAt wall-clock end, or {@code null} while running
   * @param stage lifecycle stage
   * @param labels job labels
   * @param attribution {@code process} or {@code host}
   * @return the snapshot
   */
  public synchronized EnergySnapshot snapshot(
      Instant startedAt,
      Instant endedAt,
      String stage,
      Map<String, String> labels,
      String attribution) {
    Map<Domain, String> methods = new EnumMap<>(Domain.class);
    List<DeviceEnergy> devs = new ArrayList<>();
    for (int d = 0; d < devices.size(); d++) {
      Device dev = devices.get(d);
      String method = dev.measured() ? "measured" : "estimated";
      String known = methods.get(dev.domain());
      methods.put(dev.domain(), known == null || known.equals(method) ? method : "estimated");
      devs.add(
          new DeviceEnergy(
              dev.id(),
              dev.domain(),
              dev.source(),
              dev.measured(),
              deviceJoules[d],
              deviceWatts[d].watts(),
              (deviceUntil[d] - deviceSince[d]) * 1e-9,
              dev.detail()));
    }
    List<PhaseEnergy> phases = new ArrayList<>();
    int n = Math.min(registry.size(), maxPhases);
    for (int p = 0; p < n; p++) {
      double[] joules = new double[phaseJoules.length];
      boolean seen = phaseSeconds[p] > 0;
      for (Domain d : Domain.values()) {
        joules[d.ordinal()] = phaseJoules[d.ordinal()][p];
        seen |= joules[d.ordinal()] > 0;
      }
      if (p == PhaseRegistry.OTHER || seen) {
        phases.add(
            new PhaseEnergy(registry.name(p), phaseSeconds[p], PhaseEnergy.joules(joules), 0, 0));
      }
    }
    List<EnergySnapshot.ZoneEnergy> zones = new ArrayList<>();
    for (Map.Entry<String, Map<String, Double>> source : details.entrySet()) {
      for (Map.Entry<String, Double> zone : source.getValue().entrySet()) {
        zones.add(new EnergySnapshot.ZoneEnergy(source.getKey(), zone.getKey(), zone.getValue()));
      }
    }
    return new EnergySnapshot(
        startedAt,
        endedAt,
        (lastTick - startNanos) * 1e-9,
        stage,
        labels,
        attribution,
        methods,
        devs,
        phases,
        null,
        warningsCopy(),
        zones,
        model);
  }

  private List<String> warningsCopy() {
    synchronized (warnings) {
      return List.copyOf(warnings);
    }
  }

  /**
   * Returns the bounded power and phase-band timeline, for the HTML report.
   *
   * @return a copy
   */
  public EnergySnapshot.Timeline timeline() {
    return timeline.freeze(new PhaseNames());
  }
}

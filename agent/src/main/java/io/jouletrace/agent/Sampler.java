package io.jouletrace.agent;

import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.phase.PhaseChanges;
import io.jouletrace.agent.timeline.CpuShare;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.agent.timeline.GpuShare;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.sources.DetailSource;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import io.jouletrace.sources.cpu.CpuIdentity;
import io.jouletrace.sources.cpu.CpuTimes;
import io.jouletrace.sources.cpu.OshiCpuTimes;
import io.jouletrace.sources.cpu.ProcHost;
import io.jouletrace.sources.cpu.SelfProcess;
import io.jouletrace.sources.model.ModelParams;
import io.jouletrace.sources.model.ModelSource;
import io.jouletrace.sources.nvml.GpuProcesses;
import io.jouletrace.sources.nvml.NvmlSource;
import io.jouletrace.sources.rapl.RaplSysfsSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import oshi.hardware.CentralProcessor;

/**
 * The sampling loop, on its own daemon thread: reads every source each {@code interval}, moves
 * published phase changes into the ledger, and attributes each window's energy. Sources whose
 * counters could wrap twice within one interval are read more often in between.
 *
 * <p>What the loop needs to know of a source (whether it can be read at phase boundaries, how often
 * it must be read to stay wrap-safe, what a read costs) it asks the source ({@link EnergySource}).
 * Time, waiting and the thread's CPU time come from a {@link Clock}, so that tests run the loop in
 * virtual time.
 */
final class Sampler {

  /** Time as the loop sees it; tests pass a virtual clock that advances when the loop waits. */
  interface Clock {

    /** The current time, as {@link System#nanoTime()}. */
    long nanoTime();

    /**
     * Waits up to {@code nanos}, or less when {@link Sampler#stop(Thread)} wakes the loop.
     *
     * @param blocker what the thread waits for, for thread dumps
     * @param nanos the longest wait
     */
    void park(Object blocker, long nanos);

    /** The calling thread's CPU time in nanoseconds, or -1 where the JVM cannot tell. */
    long threadCpuNanos();

    /** The JVM's clock, {@link LockSupport#parkNanos} and {@link ThreadCpuClock}. */
    Clock SYSTEM =
        new Clock() {
          @Override
          public long nanoTime() {
            return System.nanoTime();
          }

          @Override
          public void park(Object blocker, long nanos) {
            LockSupport.parkNanos(blocker, nanos);
          }

          @Override
          public long threadCpuNanos() {
            try {
              return ThreadCpuClock.current();
            } catch (RuntimeException | LinkageError e) {
              return -1;
            }
          }
        };
  }

  /** GPUs opened for the job: their energy and who uses them. */
  record Gpus(EnergySource source, GpuProcesses processes) {}

  /** Opens what {@link #open()} starts on the init thread; tests pass fakes. */
  interface Openers {

    /**
     * Opens the GPUs selected by the configuration.
     *
     * @throws SourceUnavailableException when there are none to read, with the reason
     */
    Gpus gpus(AgentConfig config, Log log) throws SourceUnavailableException;

    /** Starts OSHI (a few hundred milliseconds), for the CPU share and the estimation model. */
    OshiCpuTimes cpuTimes();

    /**
     * The host as Linux's {@code /proc} tells it, read in a millisecond or two, or {@code null}
     * where there is none (then OSHI tells it, on the init thread).
     */
    default ProcHost procHost() {
      return null;
    }

    /** NVML and OSHI. */
    Openers SYSTEM =
        new Openers() {
          @Override
          public Gpus gpus(AgentConfig config, Log log) throws SourceUnavailableException {
            NvmlSource nvml = NvmlSource.open(config.nvmlLibrary(), config.gpuDevices(), log);
            return new Gpus(nvml, nvml);
          }

          @Override
          public OshiCpuTimes cpuTimes() {
            return new OshiCpuTimes();
          }

          @Override
          public ProcHost procHost() {
            return ProcHost.open(Path.of("/proc"));
          }
        };
  }

  /** An open source and its buffers. */
  private static final class Open {
    final EnergySource source;
    final int index;
    final double[] joules;
    final double[] shares;
    final boolean boundaries;

    /** Half the counters' update period: a reading stands for that much before it was taken. */
    final long staleness;

    /** When the counters update, for a source that updates slowly (NVML); {@code null} else. */
    final UpdateGrid grid;

    /** The previous reading, to tell whether the counters changed. */
    final double[] last;

    /** When the first reading was taken (grid sources: until the grid tells what it stands for). */
    long opened;

    /** A read that takes longer than this was interrupted ({@link #INTERRUPTED_READ_NANOS}). */
    final long interruptedAfter;

    /** Reads taken again because they were interrupted. */
    long retaken;

    long time;

    Open(EnergySource source, int index, long time) {
      this.source = source;
      this.index = index;
      this.joules = new double[source.devices().size()];
      this.last = new double[source.devices().size()];
      this.shares = new double[source.devices().size()];
      this.boundaries = source.readableAtBoundaries();
      long period = Math.max(0, source.updatePeriodNanos());
      this.grid = period >= GRID_MIN_PERIOD ? new UpdateGrid(period, time) : null;
      this.opened = grid != null ? time + period / 2 : Long.MIN_VALUE;
      this.staleness = grid != null ? 0 : period / 2;
      this.interruptedAfter =
          Math.max(INTERRUPTED_READ_NANOS, INTERRUPTED_READ_COSTS * source.readCostNanos());
      this.time = time;
      // Until the first tick sets them, reads between ticks charge the job the whole device.
      Arrays.fill(shares, 1.0);
    }

    /**
     * Reads the source and returns the instant the reading stands for: the counters' last update
     * before the read where a grid knows it, else the middle of the read less the staleness.
     */
    long read(Clock clock, boolean planned) {
      long before = clock.nanoTime();
      source.sample(joules);
      long after = clock.nanoTime();
      if (after - before > interruptedAfter) {
        // The thread lost its core during the read: the value's instant is anywhere in it. Taken
        // again at once, the reading stands where it was taken.
        retaken++;
        before = clock.nanoTime();
        source.sample(joules);
        after = clock.nanoTime();
      }
      if (grid == null) {
        return before + (after - before) / 2 - staleness;
      }
      boolean changed = !Arrays.equals(joules, last);
      System.arraycopy(joules, 0, last, 0, joules.length);
      return grid.read(before, after, changed, planned);
    }

    /** Once the grid knows what the first reading stood for, tells the ledger (once). */
    void settleOpening(EnergyLedger ledger) {
      if (opened != Long.MIN_VALUE) {
        long first = grid.standsFor(opened);
        if (first != Long.MIN_VALUE) {
          ledger.measuredSince(index, first);
          opened = Long.MIN_VALUE;
        }
      }
    }
  }

  /**
   * A read that takes longer than this, or than {@link #INTERRUPTED_READ_COSTS} times what the
   * source says a read costs, was interrupted: the sampler's thread lost its core between the
   * clock's reads and the counter's (a loaded host; 25 ms once in CI), and a reading stamped with
   * the read's middle could stand that far from the instant of its value, on the wrong side of a
   * phase boundary. It is taken again at once.
   */
  static final long INTERRUPTED_READ_NANOS = 2_000_000L;

  /** See {@link #INTERRUPTED_READ_NANOS}. */
  static final long INTERRUPTED_READ_COSTS = 4;

  /**
   * Sources whose counters update at least this far apart (NVML's energy, about every 100 ms) get
   * an {@link UpdateGrid}: they are read just after their updates instead of at ticks.
   */
  static final long GRID_MIN_PERIOD = 10_000_000L;

  /** Longest wait at exit for a slowly updating counter's next update. */
  static final long EXIT_WAIT_NANOS = 250_000_000L;

  private final AgentConfig config;
  private final EnergyLedger ledger;
  private final PhaseChanges phases;
  private final Log log;
  private final Clock clock;
  private final Openers openers;

  /** Replaced, never changed in place, under this object's lock: readers may iterate a snapshot. */
  private Open[] sources = new Open[0];

  private final long pid = SelfProcess.pid();
  private final long startNanos;
  private final long startCpuNanos;
  private volatile CpuShare cpuShare;
  private volatile GpuShare gpuShare;
  private long lastCheapRead;

  /** The loop's thread, once it runs. */
  private volatile Thread loopThread;

  /**
   * When a tick last attributed what was read (a tick that leaves it for later does not count), and
   * when a reader last asked for such a tick ({@link #freshen}).
   */
  private volatile long lastTickAt = Long.MIN_VALUE / 2;

  private volatile long tickWantedAt = Long.MIN_VALUE / 2;

  /**
   * For readers of the live figures (a scrape of {@code /metrics}, a push): while ticks are
   * stretched to a second, the figures can be up to a second old, so a reader that finds the last
   * tick older than the interval has the loop tick at once, and waits for it at most {@code
   * maxWaitMillis}. A reader a few times a minute costs a tick each; the ticks at the interval cost
   * nothing more.
   *
   * @param maxWaitMillis the longest wait
   */
  void freshen(long maxWaitMillis) {
    Thread t = loopThread;
    long asked = clock.nanoTime();
    if (t == null || stopping || asked - lastTickAt <= config.interval().toNanos()) {
      return;
    }
    tickWantedAt = asked;
    LockSupport.unpark(t);
    long deadline = asked + maxWaitMillis * 1_000_000L;
    while (lastTickAt - asked < 0 && !stopping && clock.nanoTime() - deadline < 0) {
      LockSupport.parkNanos(this, 1_000_000L);
    }
  }

  /** The most CPU time, in nanoseconds, that drains on request may take at once. */
  private static final long DRAIN_TOKENS_MAX = 5_000_000L;

  /** Drains on request so far, and the CPU time they took. */
  private long requestDrains;

  private long requestDrainNanos;

  /**
   * Drains on request so far, and the CPU time they took, for a debug line.
   *
   * @return one line
   */
  String requestDrains() {
    return requestDrains
        + " drains on request ("
        + requestDrainNanos / 1_000_000
        + " ms of CPU); "
        + retakenReads()
        + " reads taken again after losing the core; "
        + deferredTicks
        + " ticks in "
        + deferrals
        + " waits for a spare core";
  }

  /** Reads taken again because the thread lost its core during them ({@link Open#read}). */
  private synchronized long retakenReads() {
    long n = 0;
    for (Open o : sources) {
      n += o.retaken;
    }
    return n;
  }

  /**
   * Readings whose attribution waits for a spare core, oldest first ({@link #tick}): while the host
   * is saturated and each tick takes the changes of a thousand threads or more (a hundred thousand
   * virtual threads), collecting them would take the CPU from the job's own threads. A reading
   * keeps the instant it stands for, and the changes keep theirs, so that attributing later gives
   * every phase the same energy as attributing at once.
   */
  private final ArrayDeque<Reading> waiting = new ArrayDeque<>();

  /** When the oldest reading in {@link #waiting} was taken. */
  private long waitingSince;

  /**
   * Threads with changes taken between the last two ticks that attributed ({@link
   * PhaseChanges#sourcesTaken()}), at boundaries, on request and at the tick; and the count at the
   * last of them.
   */
  private long takenSinceTick;

  private long takenAtTick;

  /** {@link PhaseChanges#threadsAtOnceHighWater()} at the last tick. */
  private long highWaterAtTick;

  /** Until when ticks attribute at once whatever the host's load (after a drain on request). */
  private long attributeAtOnceUntil = Long.MIN_VALUE / 2;

  /** Ticks that left their attribution for later, and the waits that ended; for a debug line. */
  private long deferredTicks;

  private long deferrals;

  /** CPU time left for drains on request ({@link #loop()}), in nanoseconds. */
  private long drainTokens = DRAIN_TOKENS_MAX;

  /** The last tick found the job quiet ({@link SamplerLimits#QUIET_TICK_NANOS}). */
  private boolean quiet;

  /** {@link EnergyLedger#changesCollected()} at the last tick. */
  private long changesAtTick = -1;

  /** When the detail counters were last read ({@link DetailSource#DETAIL_PERIOD_NANOS}). */
  private long detailsRead = Long.MIN_VALUE / 2;

  private int boundaryReads;

  private static final long NONE = Long.MAX_VALUE;

  /** When the pending boundary read is due, {@link #NONE} when none is. */
  private long boundaryDue = NONE;

  /** Whether any source can be read at phase boundaries. */
  private volatile boolean boundarySources;

  /** Whether any source is read on an update grid (NVML): the job is then never quiet. */
  private boolean gridSources;

  /** Set by {@link #close()}: a source opened later is closed at once instead of added. */
  private boolean closed;

  private EnergySource earlyCpu;

  /** The host's facts from /proc, when {@link #openEarly()} could read them. */
  private ProcHost procHost;

  private String earlyProblem;
  private volatile boolean stopping;

  /** Opened at the first tick at which the host had a core to spare, or when sampling stops. */
  private final CountDownLatch spareCpu = new CountDownLatch(1);

  /**
   * Creates the sampler.
   *
   * @param startNanos when the agent started ({@link System#nanoTime()})
   * @param startCpuNanos this process's CPU time then, or -1 when unknown
   */
  Sampler(
      AgentConfig config,
      EnergyLedger ledger,
      PhaseChanges phases,
      Log log,
      long startNanos,
      long startCpuNanos) {
    this(config, ledger, phases, log, startNanos, startCpuNanos, Clock.SYSTEM, Openers.SYSTEM);
  }

  /** As above, with the clock and the openers given (tests). */
  Sampler(
      AgentConfig config,
      EnergyLedger ledger,
      PhaseChanges phases,
      Log log,
      long startNanos,
      long startCpuNanos,
      Clock clock,
      Openers openers) {
    this.startNanos = startNanos;
    this.startCpuNanos = startCpuNanos;
    this.config = config;
    this.ledger = ledger;
    this.phases = phases;
    this.log = log;
    this.clock = clock;
    this.openers = openers;
    this.lastCheapRead = clock.nanoTime();
  }

  /**
   * Opens the CPU counters that need nothing but files, on the caller's thread: the counters' first
   * reading is the zero of everything measured, so it is taken before the application runs. MSR
   * (which needs the CPU model from OSHI) and the estimation model are left to {@link #open()}.
   */
  void openEarly() {
    // The host's facts from /proc, where there is one: also the CPU share's source of CPU times.
    procHost = openers.procHost();
    if (config.cpuSource().equals("auto") || config.cpuSource().equals("rapl-sysfs")) {
      try {
        earlyCpu = RaplSysfsSource.open(config.powercapRoot(), log);
        add(earlyCpu);
        return;
      } catch (SourceUnavailableException e) {
        earlyProblem = "rapl-sysfs: " + e.getMessage();
      }
    }
    // Linux tells the CPU's identity and load in /proc in a millisecond or two: the other
    // counters, or the estimation model, can then start here too, so that a run of any length is
    // measured from the start (OSHI, where there is no /proc, takes a few hundred ms on the init
    // thread).
    ProcHost host = procHost;
    if (host == null) {
      return;
    }
    try {
      CpuSources.Choice counters =
          CpuSources.open(config, earlyProblem, new HostIdentity(host), log);
      if (counters.source() != null) {
        earlyCpu = counters.source();
        add(earlyCpu);
      } else {
        earlyCpu =
            openModel(
                host,
                host.modelName(),
                host.packages(),
                host.logicalCpus(),
                host.memoryGb(),
                counters.problems());
        add(earlyCpu, startNanos);
      }
    } catch (Throwable t) {
      earlyCpu = null; // the init thread tries again with OSHI
      log.debug("CPU sources did not start early (" + t + "); they start on the init thread");
    }
  }

  /**
   * Opens the slow sources, on the init thread: NVIDIA GPUs through NVML, RAPL through MSR or the
   * estimation model when no counter opened early, and OSHI for this process's CPU share. Never
   * throws: each part that fails is reported in one line and the others still start. Start-up ends
   * here in every case ({@link EnergyLedger#seal()}), so that phase changes kept for sources that
   * might still join are released.
   */
  void open() {
    try {
      // GPUs first: their energy is counted from the moment they are opened.
      openGpus();
      Supplier<OshiCpuTimes> cpuTimes = new OshiOnce(openers);
      openCpu(cpuTimes);
      openShare(cpuTimes);
    } finally {
      ledger.seal();
    }
  }

  private void openCpu(Supplier<OshiCpuTimes> cpuTimes) {
    try {
      CpuSources.Choice counters =
          earlyCpu != null
              ? new CpuSources.Choice(earlyCpu, List.of())
              : CpuSources.open(
                  config,
                  earlyProblem,
                  () ->
                      CpuSources.identity(
                          cpuTimes
                              .get()
                              .system()
                              .getHardware()
                              .getProcessor()
                              .getProcessorIdentifier()),
                  log);
      if (counters.source() != null && counters.source() != earlyCpu) {
        add(counters.source());
      }
      if (counters.source() == null) {
        OshiCpuTimes cpu = cpuTimes.get();
        CentralProcessor p = cpu.system().getHardware().getProcessor();
        add(
            openModel(
                cpu,
                p.getProcessorIdentifier().getName(),
                p.getPhysicalPackageCount(),
                p.getLogicalProcessorCount(),
                cpu.system().getHardware().getMemory().getTotal() / 1e9,
                counters.problems()),
            startNanos);
      }
    } catch (Throwable t) {
      log.line(
          "CPU and DRAM energy unavailable: start-up of the CPU sources failed ("
              + t
              + "); phases get no CPU or DRAM energy. Fix: run `java -jar jouletrace-agent.jar"
              + " probe` to see which source fails and why");
    }
  }

  /** The estimation model, seeded for the time since the agent started; not yet added. */
  private ModelSource openModel(
      CpuTimes cpu,
      String cpuName,
      int packages,
      int logicalCpus,
      double memoryGb,
      List<String> problems) {
    ModelParams model = modelParams(cpuName, packages, logicalCpus);
    log.line(
        "no CPU energy counter ("
            + String.join("; ", problems)
            + "); CPU and DRAM energy are ESTIMATED from CPU load (source=model; "
            + model.origin()
            + ")");
    ledger.model(
        new EnergySnapshot.ModelInfo(
            model.cpuIdleWatts(), model.cpuMaxWatts(), model.dramWattsPerGb(), model.origin()));
    ModelSource estimate = new ModelSource(cpu, model, memoryGb, new NanoClock(clock));
    // From the agent's start until now there were no host ticks: take this process's own CPU
    // use as the host's, so that phases that ran meanwhile are not left without energy.
    long now = clock.nanoTime();
    double window = (now - startNanos) * 1e-9;
    double cpuSeconds = startCpuNanos < 0 ? 0 : (cpu.processCpuNanos() - startCpuNanos) * 1e-9;
    estimate.seed(window, window > 0 ? cpuSeconds / (window * cpu.logicalCpus()) : 0);
    return estimate;
  }

  private void openShare(Supplier<OshiCpuTimes> cpuTimes) {
    if (config.hostAttribution()) {
      return;
    }
    try {
      cpuShare = new CpuShare(procHost != null ? procHost : cpuTimes.get());
    } catch (Throwable t) {
      log.warn(
          "cpu.share",
          "this process's share of the host's CPU cannot be measured ("
              + t
              + "); the whole host's CPU and DRAM energy is charged to this job, as with"
              + " attribution=host. Fix: make /proc readable, or set attribution=host to say so");
    }
  }

  private void openGpus() {
    if ("off".equals(config.gpu())) {
      return;
    }
    if ("auto".equals(config.gpu())
        && config.nvmlLibrary() == null
        && config.gpuDevices() == null
        && !nvidiaDriverPresent()) {
      return; // no NVIDIA driver: nothing to open, and JNA need not load
    }
    try {
      Gpus gpus = openers.gpus(config, log);
      if (add(gpus.source())) {
        gpuShare = config.hostAttribution() ? null : new GpuShare(gpus.processes(), pid, log::warn);
      }
    } catch (SourceUnavailableException e) {
      boolean asked =
          "on".equals(config.gpu())
              || config.gpuDevices() != null
              || config.nvmlLibrary() != null
              || System.getenv("CUDA_VISIBLE_DEVICES") != null;
      if (asked) {
        log.line("GPU energy unavailable: " + e.getMessage());
      }
    } catch (Throwable t) {
      log.line("GPU energy unavailable: " + t);
    }
  }

  /**
   * Whether an NVIDIA driver is loaded on this host ({@code /proc/driver/nvidia}, or its device
   * node, which containers with GPUs get); elsewhere than Linux, assumed so.
   */
  static boolean nvidiaDriverPresent() {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      return true;
    }
    return Files.exists(Path.of("/proc/driver/nvidia")) || Files.exists(Path.of("/dev/nvidiactl"));
  }

  /** Whether the source of CPU and DRAM energy is open (counters or the model). */
  synchronized boolean cpuOpen() {
    for (Open o : sources) {
      for (Device d : o.source.devices()) {
        if (d.domain() != Domain.GPU) {
          return true;
        }
      }
    }
    return false;
  }

  private ModelParams modelParams(String cpuModel, int packages, int logicalCpus) {
    ModelParams d = ModelParams.forCpu(cpuModel, packages, logicalCpus);
    boolean custom =
        !Double.isNaN(config.cpuTdp())
            || !Double.isNaN(config.cpuIdle())
            || !Double.isNaN(config.dramWattsPerGb());
    if (!custom) {
      return d;
    }
    double tdp = Double.isNaN(config.cpuTdp()) ? d.cpuMaxWatts() : config.cpuTdp();
    double idle =
        Double.isNaN(config.cpuIdle()) ? tdp * ModelParams.IDLE_FRACTION : config.cpuIdle();
    double dram =
        Double.isNaN(config.dramWattsPerGb()) ? d.dramWattsPerGb() : config.dramWattsPerGb();
    try {
      return new ModelParams(
          idle,
          tdp,
          dram,
          "config: cpu.idle=" + idle + " W, cpu.tdp=" + tdp + " W, dram.watts-per-gb=" + dram);
    } catch (IllegalArgumentException e) {
      log.line("invalid power model (" + e.getMessage() + "); using " + d.origin());
      return d;
    }
  }

  /**
   * Adds a source whose first reading was taken just now.
   *
   * @return {@code false} when the sampler was closed meanwhile: the source is closed, not added
   */
  boolean add(EnergySource source) {
    return add(source, Long.MIN_VALUE);
  }

  /** As {@link #add(EnergySource)}, for a source that counts from {@code since}. */
  synchronized boolean add(EnergySource source, long since) {
    if (closed) {
      // Opened after shutdown began (a slow NVML start): nobody would close it later.
      closeQuietly(source);
      return false;
    }
    for (EnergySource part : source.parts()) {
      long period = Math.max(0, part.updatePeriodNanos());
      long time = since == Long.MIN_VALUE ? clock.nanoTime() - period / 2 : since;
      // A slowly updating counter is read just after its updates (UpdateGrid): exact there.
      long rounding = period >= GRID_MIN_PERIOD ? 0 : period;
      Open[] more = Arrays.copyOf(sources, sources.length + 1);
      more[sources.length] = new Open(part, ledger.addSource(part.devices(), time, rounding), time);
      sources = more;
      boundarySources |= more[sources.length - 1].boundaries;
      gridSources |= more[sources.length - 1].grid != null;
    }
    return true;
  }

  /**
   * The loop; returns when {@link #stop(Thread)} was called. Besides the ticks, it polls every
   * {@code boundary.resolution} for phase changes and, when there are some, reads the sources that
   * can be read at boundaries (RAPL) at once: a phase boundary then falls between two readings at
   * most that far apart instead of an interval apart, which keeps short phases' energy their own.
   * That work is held to {@link SamplerLimits#BOUNDARY_CPU_SHARE} of a core by the number of
   * boundary reads each interval allows.
   */
  void loop() {
    long interval = config.interval().toNanos();
    long quietInterval = Math.max(interval, SamplerLimits.QUIET_TICK_NANOS);
    long boundary = config.boundaryResolution().toNanos();
    long nextTick = clock.nanoTime() + interval;
    BoundaryBudget budget = new BoundaryBudget(interval);
    long windowCpu = clock.threadCpuNanos();
    boolean stretched = false;
    // A thread that publishes phase changes faster than the ticks drain them asks for a drain
    // before its ring is full (it would drop changes, and a short phase with them).
    phases.wakeWhenFilling(Thread.currentThread());
    // Those drains, with their wake-ups, take at most half a percent of a core over time (a
    // bucket of CPU time that fills at 0.5 % of the wall time, up to 5 ms): a thousand threads
    // that change phase back to back fill their rings every 25 us and would keep the sampler
    // waking. Beyond the budget their changes go as before the requests: the current phase of
    // each is handed over at the next drain.
    long tokensAt = clock.nanoTime();
    loopThread = Thread.currentThread();
    while (!stopping) {
      long now = clock.nanoTime();
      if (stretched && (phases.pending() || tickWantedAt - lastTickAt > 0)) {
        // a change, or a reader that wants fresh figures, ends a quiet stretch: tick now, and at
        // interval from here
        nextTick = now;
      }
      drainTokens = Math.min(DRAIN_TOKENS_MAX, drainTokens + (now - tokensAt) / 200);
      tokensAt = now;
      if (phases.drainWanted() && now < nextTick && drainTokens > 0) {
        long cpu = clock.threadCpuNanos();
        if (attributeWaiting(now)) {
          // A thread fills its ring faster than the readings wait: attribute at every tick again
          // for a while, so that its changes are taken in time.
          attributeAtOnceUntil = now + SamplerLimits.DEFER_MAX_NANOS;
        } else {
          collectSafely(now);
        }
        long after = clock.threadCpuNanos();
        // this wake-up's own cost, which the thread's CPU time shows only in part, counted too
        long spent = after - cpu + SamplerLimits.WAKE_UP_NANOS;
        drainTokens -= cpu < 0 || after < cpu ? DRAIN_TOKENS_MAX : spent;
        requestDrains++;
        requestDrainNanos += Math.max(0, spent);
        now = clock.nanoTime();
      }
      if (now >= nextTick) {
        long cpu = clock.threadCpuNanos();
        budget.endInterval(cpu < 0 || windowCpu < 0 ? -1 : cpu - windowCpu, boundaryReads);
        boundaryReads = 0;
        boundaryDue = NONE; // the tick reads every counter
        tickSafely();
        budget.readCost(boundaryReadCost());
        windowCpu = clock.threadCpuNanos();
        // Quiet: the next tick can wait longer, if a phase change can wake the loop before then.
        stretched =
            quiet && quietInterval > interval && phases.wakeOnChange(Thread.currentThread());
        long step = stretched ? quietInterval : interval;
        nextTick += step;
        now = clock.nanoTime();
        if (nextTick < now) {
          nextTick = now + step; // fell behind (suspended, overloaded): do not burst
        }
        continue;
      }
      // Polling for boundaries is worth its wake-ups only while there are counters it can read
      // (RAPL) and reads left in this tick; otherwise the loop sleeps until the next tick.
      // Nor while readings wait for a spare core: with thousands of threads changing phase, a
      // boundary of one is no boundary of the job's energy.
      boolean polling =
          boundary > 0 && boundarySources && boundaryReads < budget.reads() && !deferring();
      if (polling && boundaryDue == NONE && phases.pending()) {
        // Read once the counters have updated after the change, not at once: a reading taken
        // sooner may not include the instants before the change yet, and the window after it
        // would then hand them to the phase that follows.
        long last = collectSafely(now);
        boundaryDue = last == Long.MIN_VALUE ? now : Math.max(now, last + boundaryUpdatePeriod());
      }
      if (polling && boundaryDue != NONE && now >= boundaryDue) {
        boundaryReads++;
        boundaryDue = NONE;
        boundarySafely();
      }
      long safe = safeReadInterval();
      if (now - lastCheapRead >= safe) {
        readOnly();
      }
      long gridDue = gridReads(now, interval);
      now = clock.nanoTime();
      long wait = Math.min(Math.min(nextTick - now, safe), Math.max(0, gridDue - now));
      if (polling && boundaryDue != NONE) {
        wait = Math.min(wait, Math.max(0, boundaryDue - now));
      } else if (polling) {
        // Sleep until a thread publishes a change (it wakes this one) rather than waking every
        // boundary.resolution to look: phases that do not change then cost no wake-ups. Where
        // changes cannot wake the loop (scripted changes in tests), look every resolution.
        if (!phases.wakeOnChange(Thread.currentThread())) {
          wait = Math.min(wait, boundary);
        } else if (phases.pending()) {
          wait = 0; // published while asking
        }
      }
      clock.park(this, wait);
    }
  }

  /**
   * Reads the sources on an update grid whose read is due, and returns when the next one is due
   * ({@link #NONE} when none is).
   */
  private synchronized long gridReads(long now, long interval) {
    long next = NONE;
    try {
      for (Open o : sources) {
        if (o.grid == null || !o.grid.scheduled()) {
          continue;
        }
        long due = o.grid.nextRead(now, interval);
        if (due <= now) {
          long time = o.read(clock, true);
          o.settleOpening(ledger);
          if (time > o.time) {
            o.time = time;
            if (deferring()) {
              waiting.add(new Reading(o.index, o.time, o.joules, o.shares));
            } else {
              ledger.collectChanged(phases, clock.nanoTime());
              ledger.sample(o.index, o.time, o.joules, o.shares); // the shares of the last tick
            }
          }
          due = o.grid.scheduled() ? o.grid.nextRead(clock.nanoTime(), interval) : NONE;
        }
        next = Math.min(next, due);
      }
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
    }
    return next;
  }

  /**
   * Moves the changes of the threads that published some into the ledger (the others wait for the
   * tick, which looks for threads that ended); returns the latest change's time.
   */
  private long collectSafely(long now) {
    try {
      return ledger.collectChanged(phases, now);
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
      return Long.MIN_VALUE;
    }
  }

  /** The longest update period of the boundary-readable sources, in nanoseconds. */
  private synchronized long boundaryUpdatePeriod() {
    long period = 0;
    for (Open o : sources) {
      if (o.boundaries) {
        period = Math.max(period, o.source.updatePeriodNanos());
      }
    }
    return period;
  }

  /** Reads the boundary-readable counters now and attributes their energy up to this instant. */
  private void boundarySafely() {
    try {
      boundary();
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
    }
  }

  private synchronized void boundary() {
    lastCheapRead = clock.nanoTime();
    boolean any = false;
    for (Open o : sources) {
      if (o.boundaries) {
        o.time = o.read(clock, false);
        any = true;
      }
    }
    if (!any) {
      return;
    }
    ledger.collectChanged(phases, clock.nanoTime());
    for (Open o : sources) {
      if (o.boundaries) {
        ledger.sample(o.index, o.time, o.joules, o.shares); // the shares of the last tick
      }
    }
  }

  /** What one boundary read of every boundary-readable source costs, as they say; 0 if unknown. */
  private synchronized long boundaryReadCost() {
    long cost = 0;
    for (Open o : sources) {
      if (o.boundaries) {
        long c = o.source.readCostNanos();
        if (c < 0) {
          return 0;
        }
        cost += c;
      }
    }
    return cost;
  }

  /** How long the loop may go without reading the sources, so that no counter wraps twice. */
  private synchronized long safeReadInterval() {
    long safe = Long.MAX_VALUE;
    for (Open o : sources) {
      safe = Math.min(safe, o.source.maxSafeIntervalNanos());
    }
    return Math.max(1_000_000L, safe);
  }

  /** Reads counters between ticks so that no wrap is missed; the ledger sees them at the tick. */
  private synchronized void readOnly() {
    lastCheapRead = clock.nanoTime();
    try {
      for (Open o : sources) {
        if (o.source.maxSafeIntervalNanos() != Long.MAX_VALUE) {
          o.source.sample(o.joules);
          if (o.source instanceof DetailSource d) {
            d.detailJoules(); // read: the detail counters wrap too
          }
        }
      }
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
    }
  }

  void stop(Thread samplerThread) {
    stopping = true;
    spareCpu.countDown();
    LockSupport.unpark(samplerThread);
  }

  /**
   * Waits, at most the given time, until a tick finds that the host had a core to spare over its
   * window (see {@link CpuShare#spareCore()}), or sampling stops. Without a CPU share ({@code
   * attribution=host}) there is nothing to tell by, and it waits the whole time.
   *
   * @return whether a core was found spare (or sampling stopped) within the time
   */
  boolean awaitSpareCpu(long millis) {
    try {
      return spareCpu.await(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** One sample of everything; never throws. */
  void tickSafely() {
    try {
      tick(false);
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
    }
  }

  /**
   * The last sample at exit: as {@link #tickSafely()}, reading every source. A counter that updates
   * slowly (NVML's) is read once more after its next update, which holds the energy of the last
   * instants before exit; at most {@link #EXIT_WAIT_NANOS} is spent waiting for it.
   */
  void lastTickSafely() {
    try {
      long now = clock.nanoTime();
      long due = now;
      synchronized (this) {
        for (Open o : sources) {
          long seen = o.grid == null ? Long.MIN_VALUE : o.grid.nextUpdateSeenAfter(now);
          if (seen != Long.MIN_VALUE && seen - now <= EXIT_WAIT_NANOS) {
            due = Math.max(due, seen);
          }
        }
      }
      while ((now = clock.nanoTime()) < due) {
        clock.park(this, due - now);
      }
      tick(true);
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
    }
  }

  private synchronized void tick(boolean last) {
    lastCheapRead = clock.nanoTime();
    Throwable failure = Dispatch.takeFailure();
    if (failure != null) {
      log.warn(
          "phase.failure",
          "recording a phase boundary failed ("
              + failure
              + "); the"
              + " application was not affected and the phase was skipped");
    }
    // Until OSHI is up (a fraction of a second) the job is taken as all of the busy CPU.
    CpuShare shares = cpuShare;
    double share = shares == null ? 1.0 : shares.next();
    if (shares != null && shares.spareCore()) {
      spareCpu.countDown();
    }
    GpuShare gpus = gpuShare;
    double gpuShares = 0;
    for (Open o : sources) {
      // A source on an update grid is read just after its updates, not here; it still gets the
      // shares of this tick.
      if (last || o.grid == null || !o.grid.scheduled()) {
        o.time = Math.max(o.time, o.read(clock, false));
        if (o.grid != null) {
          o.settleOpening(ledger);
        }
      }
      List<Device> devices = o.source.devices();
      for (int d = 0; d < o.shares.length; d++) {
        Device dev = devices.get(d);
        if (dev.domain() == Domain.GPU) {
          o.shares[d] = gpus == null ? 1.0 : gpus.next(dev);
          gpuShares += o.shares[d];
        } else {
          o.shares[d] = share;
        }
      }
    }
    long now = clock.nanoTime();
    long high = phases.threadsAtOnceHighWater();
    long newThreads = high - highWaterAtTick;
    highWaterAtTick = high;
    if (!last && mayDefer(shares, now, newThreads)) {
      if (waiting.isEmpty()) {
        waitingSince = now;
        deferrals++;
      }
      for (Open o : sources) {
        if (o.grid == null || !o.grid.scheduled()) {
          waiting.add(new Reading(o.index, o.time, o.joules, o.shares));
        }
      }
      waiting.add(new Reading(now, share, gpuShares));
      deferredTicks++;
      quiet = false;
      return;
    }
    ledger.collect(phases, now);
    attributeWaiting();
    // Detail counters are shown, not attributed: read about once a second, and at exit.
    boolean details = last || now - detailsRead >= DetailSource.DETAIL_PERIOD_NANOS;
    if (details) {
      detailsRead = now;
    }
    for (Open o : sources) {
      if (details && o.source instanceof DetailSource d) {
        ledger.details(o.source.name(), d.detailJoules());
      }
      if (!last && o.grid != null && o.grid.scheduled()) {
        continue; // sampled when read
      }
      ledger.sample(o.index, o.time, o.joules, o.shares);
    }
    ledger.tick(now, share, gpuShares);
    long changes = ledger.changesCollected();
    long taken = phases.sourcesTaken();
    takenSinceTick = taken - takenAtTick;
    takenAtTick = taken;
    // Quiet: no phase changed since the last tick, inside phases or outside. Whether the process
    // computes or not, the threads' phases then stay as they are until a change wakes the loop,
    // so every joule goes where it would go with ticks at the interval (to `other` outside
    // phases; inside, to the open phases in the same fixed shares), and a tick a second loses
    // nothing that ticks at the interval would tell apart (the job's CPU share and the model's
    // load are averaged over the longer window, which for a steady job is the same). Not while
    // the profiler runs (it shares each window's energy among its 1 s buckets as if constant
    // within it), nor while the ticks are a time series someone reads (JFR events at each,
    // jfr=true), nor while a GPU is read on its update grid.
    quiet = changes == changesAtTick && !gridSources && !config.profile() && !config.jfr();
    changesAtTick = changes;
    lastTickAt = now;
  }

  /** Whether readings wait for a spare core. */
  private synchronized boolean deferring() {
    return !waiting.isEmpty();
  }

  /**
   * Whether this tick may leave its attribution for later: the host was saturated over the window
   * that ends here, a thousand threads or more had changes taken between the last two ticks that
   * attributed or are new to phases since the last tick ({@code newThreads}), nobody waits for
   * fresh figures, and the oldest waiting reading is younger than {@link
   * SamplerLimits#DEFER_MAX_NANOS}. Never while the profiler or JFR's events use the ticks as they
   * come, nor where the host's load is unknown ({@code attribution=host}).
   */
  private boolean mayDefer(CpuShare shares, long now, long newThreads) {
    if (shares == null
        || config.profile()
        || config.jfr()
        || now - attributeAtOnceUntil < 0
        || tickWantedAt - lastTickAt > 0) {
      return false;
    }
    // A thousand threads with changes in the last interval, or new to phases in this one (their
    // first changes are waiting): the first tick in a burst of new threads waits too.
    if (Math.max(takenSinceTick, newThreads) < SamplerLimits.DEFER_MIN_THREADS) {
      return false;
    }
    double idle = shares.idleCores();
    if (!(idle < SamplerLimits.DEFER_IDLE_CORES)) {
      return false; // a core to spare, or not known yet
    }
    return waiting.isEmpty() || now - waitingSince < SamplerLimits.DEFER_MAX_NANOS;
  }

  /**
   * Collects every change published so far and attributes the waiting readings, in the order they
   * were taken; returns whether any were waiting.
   */
  private synchronized boolean attributeWaiting(long now) {
    if (waiting.isEmpty()) {
      return false;
    }
    try {
      ledger.collect(phases, now);
      attributeWaiting();
    } catch (Throwable t) {
      waiting.clear();
      log.line("sampling failed: " + t);
    }
    return true;
  }

  /**
   * Attributes the waiting readings; the changes up to the newest must have been collected. The
   * memory the ledger grew to put that collection in order is given back: the next ones are as
   * small as before the wait.
   */
  private void attributeWaiting() {
    if (waiting.isEmpty()) {
      return;
    }
    Reading r;
    while ((r = waiting.poll()) != null) {
      if (r.source < 0) {
        ledger.tick(r.time, r.share, r.gpuShares);
      } else {
        ledger.sample(r.source, r.time, r.joules, r.shares);
      }
    }
    ledger.releaseCollectionBuffers();
  }

  /** A reading of one source, or a tick's shares, whose attribution waits. */
  private static final class Reading {
    /** The source's index in the ledger; -1 for a tick. */
    final int source;

    final long time;
    final double[] joules;
    final double[] shares;
    final double share;
    final double gpuShares;

    /** A source's reading (the arrays are copied). */
    Reading(int source, long time, double[] joules, double[] shares) {
      this.source = source;
      this.time = time;
      this.joules = joules.clone();
      this.shares = shares.clone();
      this.share = Double.NaN;
      this.gpuShares = Double.NaN;
    }

    /** A tick: wall time advances to {@code time} with these shares. */
    Reading(long time, double share, double gpuShares) {
      this.source = -1;
      this.time = time;
      this.joules = null;
      this.shares = null;
      this.share = share;
      this.gpuShares = gpuShares;
    }
  }

  /** Measures this process's share of the host's CPU with {@code share} (tests). */
  void useCpuShare(CpuShare share) {
    cpuShare = share;
  }

  /**
   * Closes every source, and any that is opened from now on as soon as it is (the init thread may
   * still be opening NVML when the JVM exits).
   */
  synchronized void close() {
    closed = true;
    for (Open o : sources) {
      closeQuietly(o.source);
    }
  }

  private void closeQuietly(EnergySource source) {
    try {
      source.close();
    } catch (Throwable t) {
      log.line("closing " + source.name() + " failed: " + t);
    }
  }

  // Classes rather than lambdas on the start-up path: the JVM spins a class for each lambda or
  // method reference at its first use.

  /** The CPU's identity as /proc tells it. */
  private static final class HostIdentity implements Supplier<CpuIdentity> {
    private final ProcHost host;

    HostIdentity(ProcHost host) {
      this.host = host;
    }

    @Override
    public CpuIdentity get() {
      return host.identity();
    }
  }

  /** OSHI's CPU times, opened at the first call only. */
  private static final class OshiOnce implements Supplier<OshiCpuTimes> {
    private final Openers openers;
    private OshiCpuTimes times;

    OshiOnce(Openers openers) {
      this.openers = openers;
    }

    @Override
    public OshiCpuTimes get() {
      if (times == null) {
        times = openers.cpuTimes();
      }
      return times;
    }
  }

  /** The sampler's clock as a {@link java.util.function.LongSupplier}. */
  private static final class NanoClock implements java.util.function.LongSupplier {
    private final Clock clock;

    NanoClock(Clock clock) {
      this.clock = clock;
    }

    @Override
    public long getAsLong() {
      return clock.nanoTime();
    }
  }
}

package io.jouletrace.agent;

import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.timeline.CpuShare;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.sources.DetailSource;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import io.jouletrace.sources.cpu.OshiCpuTimes;
import io.jouletrace.sources.model.ModelParams;
import io.jouletrace.sources.model.ModelSource;
import io.jouletrace.sources.msr.RaplMsrSource;
import io.jouletrace.sources.nvml.NvmlSource;
import io.jouletrace.sources.rapl.RaplSysfsSource;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import oshi.hardware.CentralProcessor;

/**
 * The sampling loop, on its own daemon thread: reads every source each {@code interval}, moves
 * published phase changes into the ledger, and attributes each window's energy. Sources whose
 * counters could wrap twice within one interval are read more often in between.
 */
final class Sampler {

  /** An open source and its buffers. */
  private static final class Open {
    final EnergySource source;
    final int index;
    final double[] joules;
    final double[] shares;
    long time;

    Open(EnergySource source, int index) {
      this.source = source;
      this.index = index;
      this.joules = new double[source.devices().size()];
      this.shares = new double[source.devices().size()];
      // Until the first tick sets them, reads between ticks charge the job the whole device.
      java.util.Arrays.fill(shares, 1.0);
    }
  }

  private final AgentConfig config;
  private final EnergyLedger ledger;
  private final PhaseRecorder recorder;
  private final Log log;
  private static final double ASSUMED_MAX_WATTS = 1000;

  private final List<Open> sources = new ArrayList<>();
  private final long pid = ProcessHandle.current().pid();
  private final long startNanos;
  private final long startCpuNanos;
  private volatile CpuShare cpuShare;
  private long lastCheapRead = System.nanoTime();
  private int boundaryReads;

  /** Whether any source is cheap enough to read at phase boundaries. */
  private volatile boolean cheapSources;

  /** Looked up once, on the sampler thread. */
  private ThreadMXBean threadBean;

  private EnergySource earlyCpu;
  private String earlyProblem;
  private NvmlSource nvml;
  private volatile boolean stopping;

  /**
   * Creates the sampler.
   *
   * @param startNanos when the agent started ({@link System#nanoTime()})
   * @param startCpuNanos this process's CPU time then, or -1 when unknown
   */
  Sampler(
      AgentConfig config,
      EnergyLedger ledger,
      PhaseRecorder recorder,
      Log log,
      long startNanos,
      long startCpuNanos) {
    this.startNanos = startNanos;
    this.startCpuNanos = startCpuNanos;
    this.config = config;
    this.ledger = ledger;
    this.recorder = recorder;
    this.log = log;
  }

  /**
   * Opens the sources: RAPL when readable, else the estimation model; NVIDIA GPUs through NVML.
   * RAPL is opened first, before OSHI (which takes a few hundred milliseconds to start), so that
   * its zero reading is taken as early as possible: energy before a source's first reading is not
   * counted.
   */
  /**
   * Opens the CPU counters that need nothing but files, on the caller's thread: the counters' first
   * reading is the zero of everything measured, so it is taken before the application runs. MSR
   * (which needs the CPU vendor from OSHI) and the estimation model are left to {@link #open()}.
   */
  void openEarly() {
    if (config.cpuSource().equals("auto") || config.cpuSource().equals("rapl-sysfs")) {
      try {
        earlyCpu = RaplSysfsSource.open(config.powercapRoot(), log);
        add(earlyCpu);
      } catch (SourceUnavailableException e) {
        earlyProblem = "rapl-sysfs: " + e.getMessage();
      }
    }
  }

  void open() {
    // GPUs first: their energy is counted from the moment they are opened.
    openGpus();
    OshiCpuTimes[] oshi = new OshiCpuTimes[1];
    Supplier<OshiCpuTimes> cpuTimes =
        () -> {
          if (oshi[0] == null) {
            oshi[0] = new OshiCpuTimes();
          }
          return oshi[0];
        };
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
    OshiCpuTimes cpu = cpuTimes.get();
    if (counters.source() == null) {
      CentralProcessor p = cpu.system().getHardware().getProcessor();
      ModelParams model =
          modelParams(
              p.getProcessorIdentifier().getName(),
              p.getPhysicalPackageCount(),
              p.getLogicalProcessorCount());
      log.line(
          "no CPU energy counter ("
              + String.join("; ", counters.problems())
              + "); CPU and DRAM energy are ESTIMATED from CPU load (source=model; "
              + model.origin()
              + ")");
      ledger.model(
          new EnergySnapshot.ModelInfo(
              model.cpuIdleWatts(), model.cpuMaxWatts(), model.dramWattsPerGb(), model.origin()));
      double gb = cpu.system().getHardware().getMemory().getTotal() / 1e9;
      ModelSource estimate = new ModelSource(cpu, model, gb, System::nanoTime);
      // From the agent's start until now there were no host ticks: take this process's own CPU
      // use as the host's, so that phases that ran meanwhile are not left without energy.
      long now = System.nanoTime();
      double window = (now - startNanos) * 1e-9;
      double cpuSeconds = startCpuNanos < 0 ? 0 : (cpu.processCpuNanos() - startCpuNanos) * 1e-9;
      estimate.seed(window, window > 0 ? cpuSeconds / (window * cpu.logicalCpus()) : 0);
      add(estimate, startNanos);
    }
    cpuShare = config.hostAttribution() ? null : new CpuShare(cpu);
    ledger.seal();
  }

  private void openGpus() {
    if ("off".equals(config.gpu())) {
      return;
    }
    try {
      nvml = NvmlSource.open(config.nvmlLibrary(), config.gpuDevices(), log);
      add(nvml);
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

  private synchronized void add(EnergySource source) {
    sources.add(new Open(source, ledger.addSource(source.devices(), System.nanoTime())));
    cheapSources |= cheap(source);
  }

  private synchronized void add(EnergySource source, long since) {
    sources.add(new Open(source, ledger.addSource(source.devices(), since)));
    cheapSources |= cheap(source);
  }

  /**
   * The loop; returns when {@link #stop(Thread)} was called. Besides the ticks, it polls every
   * {@code boundary.resolution} for phase changes and, when there are some, reads the counters that
   * are cheap to read (RAPL) at once: a phase boundary then falls between two readings at most that
   * far apart instead of an interval apart, which keeps short phases' energy their own. That work
   * is held to {@link SamplerLimits#BOUNDARY_CPU_SHARE} of a core by the number of boundary reads
   * each interval allows.
   */
  void loop() {
    long interval = config.interval().toNanos();
    long boundary = config.boundaryResolution().toNanos();
    long nextTick = System.nanoTime() + interval;
    BoundaryBudget budget = new BoundaryBudget(interval);
    long windowCpu = threadCpuNanos();
    while (!stopping) {
      long now = System.nanoTime();
      if (now >= nextTick) {
        long cpu = threadCpuNanos();
        budget.endInterval(cpu < 0 || windowCpu < 0 ? -1 : cpu - windowCpu, boundaryReads);
        boundaryReads = 0;
        tickSafely();
        windowCpu = threadCpuNanos();
        nextTick += interval;
        now = System.nanoTime();
        if (nextTick < now) {
          nextTick = now + interval; // fell behind (suspended, overloaded): do not burst
        }
        continue;
      }
      // Polling for boundaries is worth its wake-ups only while there are counters it can read
      // (RAPL) and reads left in this tick; otherwise the loop sleeps until the next tick.
      boolean polling = boundary > 0 && cheapSources && boundaryReads < budget.reads();
      if (polling && recorder.pending()) {
        boundaryReads++;
        boundarySafely();
      }
      long safe = safeReadInterval();
      if (now - lastCheapRead >= safe) {
        readOnly();
      }
      long wait = Math.min(nextTick - now, safe);
      if (polling) {
        wait = Math.min(wait, boundary);
      }
      LockSupport.parkNanos(this, wait);
    }
  }

  /** This thread's CPU time, or -1 where the JVM cannot tell. */
  private long threadCpuNanos() {
    try {
      ThreadMXBean threads = threadBean;
      if (threads == null) {
        threads = ManagementFactory.getThreadMXBean();
        threadBean = threads;
      }
      return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : -1;
    } catch (RuntimeException | LinkageError e) {
      return -1;
    }
  }

  /** Reads the cheap counters now and attributes their energy up to this instant. */
  private void boundarySafely() {
    try {
      boundary();
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
    }
  }

  private synchronized void boundary() {
    lastCheapRead = System.nanoTime();
    boolean any = false;
    for (Open o : sources) {
      if (cheap(o.source)) {
        long before = System.nanoTime();
        o.source.sample(o.joules);
        o.time = before + (System.nanoTime() - before) / 2;
        any = true;
      }
    }
    if (!any) {
      return;
    }
    ledger.collect(recorder, System.nanoTime());
    for (Open o : sources) {
      if (cheap(o.source)) {
        ledger.sample(o.index, o.time, o.joules, o.shares); // the shares of the last tick
      }
    }
  }

  private static boolean cheap(EnergySource source) {
    return source instanceof RaplSysfsSource || source instanceof RaplMsrSource;
  }

  private synchronized long safeReadInterval() {
    long safe = Long.MAX_VALUE;
    for (Open o : sources) {
      if (o.source instanceof RaplSysfsSource r) {
        safe = Math.min(safe, r.maxSafeIntervalNanos());
      } else if (o.source instanceof RaplMsrSource m) {
        // half a wrap period at a power no package reaches
        safe = Math.min(safe, m.maxSafeIntervalNanos(ASSUMED_MAX_WATTS) / 2);
      }
    }
    return Math.max(1_000_000L, safe);
  }

  /** Reads counters between ticks so that no wrap is missed; the ledger sees them at the tick. */
  private synchronized void readOnly() {
    lastCheapRead = System.nanoTime();
    try {
      for (Open o : sources) {
        if (cheap(o.source)) {
          o.source.sample(o.joules);
        }
      }
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
    }
  }

  void stop(Thread samplerThread) {
    stopping = true;
    LockSupport.unpark(samplerThread);
  }

  /** One sample of everything; never throws. */
  void tickSafely() {
    try {
      tick();
    } catch (Throwable t) {
      log.line("sampling failed: " + t);
    }
  }

  private synchronized void tick() {
    lastCheapRead = System.nanoTime();
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
    double gpuShares = 0;
    for (Open o : sources) {
      long before = System.nanoTime();
      o.source.sample(o.joules);
      long after = System.nanoTime();
      o.time = before + (after - before) / 2;
      List<Device> devices = o.source.devices();
      for (int d = 0; d < o.shares.length; d++) {
        Device dev = devices.get(d);
        if (dev.domain() == Domain.GPU) {
          o.shares[d] = gpuShare(dev);
          gpuShares += o.shares[d];
        } else {
          o.shares[d] = share;
        }
      }
    }
    long now = System.nanoTime();
    ledger.collect(recorder, now);
    for (Open o : sources) {
      ledger.sample(o.index, o.time, o.joules, o.shares);
      if (o.source instanceof DetailSource d) {
        ledger.details(o.source.name(), d.detailJoules());
      }
    }
    ledger.tick(now, share, gpuShares);
  }

  private double gpuShare(Device gpu) {
    if (config.hostAttribution() || nvml == null) {
      return 1.0;
    }
    String index = gpu.detail().get("gpu");
    double s = index == null ? Double.NaN : nvml.processShare(Integer.parseInt(index), pid);
    if (Double.isNaN(s)) {
      log.warn(
          "gpu.share." + gpu.id(),
          "this process's share of "
              + gpu.id()
              + " cannot be read"
              + " from NVML; the whole GPU's energy is charged to this job");
      return 1.0;
    }
    return s;
  }

  void close() {
    for (Open o : sources) {
      try {
        o.source.close();
      } catch (Throwable t) {
        log.line("closing " + o.source.name() + " failed: " + t);
      }
    }
  }
}

package io.jouletrace.agent;

import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.timeline.CpuShare;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import io.jouletrace.sources.cpu.OshiCpuTimes;
import io.jouletrace.sources.model.ModelParams;
import io.jouletrace.sources.model.ModelSource;
import io.jouletrace.sources.rapl.RaplSysfsSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The sampling loop, on its own daemon thread: reads every source each {@code interval}, moves
 * published phase changes into the ledger, and attributes each window's energy.
 */
final class Sampler {

  private final AgentConfig config;
  private final EnergyLedger ledger;
  private final PhaseRecorder recorder;
  private final Log log;
  private final List<EnergySource> sources = new ArrayList<>();
  private final List<Integer> indices = new ArrayList<>();
  private final List<double[]> buffers = new ArrayList<>();
  private final List<double[]> shares = new ArrayList<>();
  private final List<long[]> times = new ArrayList<>();
  private CpuShare cpuShare;
  private volatile boolean stopping;
  private volatile boolean opened;

  Sampler(AgentConfig config, EnergyLedger ledger, PhaseRecorder recorder, Log log) {
    this.config = config;
    this.ledger = ledger;
    this.recorder = recorder;
    this.log = log;
  }

  /**
   * Opens the sources: RAPL when readable, else the estimation model. RAPL is opened first, before
   * OSHI (which takes a few hundred milliseconds to start), so that its zero reading is taken as
   * early as possible: energy before a source's first reading is not counted.
   */
  void open() {
    EnergySource rapl = null;
    String raplProblem = null;
    try {
      rapl = RaplSysfsSource.open(config.powercapRoot(), log);
      add(rapl);
    } catch (SourceUnavailableException e) {
      raplProblem = e.getMessage();
    }
    OshiCpuTimes cpu = new OshiCpuTimes();
    if (rapl == null) {
      log.line("RAPL unavailable: " + raplProblem
          + "; CPU and DRAM energy are ESTIMATED from CPU load (source=model)");
      double gb = cpu.system().getHardware().getMemory().getTotal() / 1e9;
      add(new ModelSource(cpu, modelParams(cpu.logicalCpus()), gb, System::nanoTime));
    }
    cpuShare = config.hostAttribution() ? null : new CpuShare(cpu);
    opened = true;
  }

  private ModelParams modelParams(int logicalCpus) {
    ModelParams d = ModelParams.defaults(logicalCpus);
    boolean custom = !Double.isNaN(config.cpuTdp()) || !Double.isNaN(config.cpuIdle())
        || !Double.isNaN(config.dramWattsPerGb());
    if (!custom) {
      return d;
    }
    double tdp = Double.isNaN(config.cpuTdp()) ? d.cpuMaxWatts() : config.cpuTdp();
    double idle = Double.isNaN(config.cpuIdle()) ? Math.min(d.cpuIdleWatts(), tdp) : config.cpuIdle();
    double dram = Double.isNaN(config.dramWattsPerGb()) ? d.dramWattsPerGb() : config.dramWattsPerGb();
    try {
      return new ModelParams(idle, tdp, dram, "config: cpu.idle=" + idle + " W, cpu.tdp=" + tdp
          + " W, dram.watts-per-gb=" + dram);
    } catch (IllegalArgumentException e) {
      log.line("invalid power model (" + e.getMessage() + "); using the defaults");
      return d;
    }
  }

  private void add(EnergySource source) {
    long now = System.nanoTime();
    sources.add(source);
    indices.add(ledger.addSource(source.devices(), now));
    buffers.add(new double[source.devices().size()]);
    shares.add(new double[source.devices().size()]);
    times.add(new long[1]);
  }

  boolean isOpened() {
    return opened;
  }

  /** The loop; returns when {@link #stop()} was called. */
  void loop() {
    long interval = config.interval().toNanos();
    long next = System.nanoTime() + interval;
    while (!stopping) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(this, wait);
        continue;
      }
      tickSafely();
      next += interval;
      long now = System.nanoTime();
      if (next < now) {
        next = now + interval; // fell behind (suspended, overloaded): do not burst
      }
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
    double share = cpuShare == null ? 1.0 : cpuShare.next();
    for (int s = 0; s < sources.size(); s++) {
      long before = System.nanoTime();
      sources.get(s).sample(buffers.get(s));
      long after = System.nanoTime();
      times.get(s)[0] = before + (after - before) / 2;
      List<Device> devices = sources.get(s).devices();
      double[] sh = shares.get(s);
      for (int d = 0; d < sh.length; d++) {
        sh[d] = devices.get(d).domain() == Domain.GPU ? 1.0 : share;
      }
    }
    long now = System.nanoTime();
    ledger.collect(recorder, now);
    for (int s = 0; s < sources.size(); s++) {
      ledger.sample(indices.get(s), times.get(s)[0], buffers.get(s), shares.get(s));
    }
    ledger.tick(now, share);
  }

  void close() {
    for (EnergySource s : sources) {
      s.close();
    }
  }
}

package io.jouletrace.agent;

import io.jouletrace.agent.carbon.CarbonStage;
import io.jouletrace.agent.carbon.EmbodiedTable;
import io.jouletrace.agent.carbon.Intensities;
import io.jouletrace.agent.carbon.IntensityProvider;
import io.jouletrace.agent.carbon.WorkUnits;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.ConfigLoader;
import io.jouletrace.agent.config.Key;
import io.jouletrace.agent.instrument.Instrumenter;
import io.jouletrace.agent.instrument.Rule;
import io.jouletrace.agent.instrument.SparkTasks;
import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.profile.EnergyProfiler;
import io.jouletrace.agent.profile.JfrEmitter;
import io.jouletrace.agent.profile.JfrSampling;
import io.jouletrace.agent.profile.ProfilerFeed;
import io.jouletrace.agent.timeline.AttributionListener;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.bridge.TaskPhases;
import io.jouletrace.exporter.CarbonStatement;
import io.jouletrace.exporter.EnergyProfile;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.JsonReport;
import io.jouletrace.exporter.PhaseTable;
import io.jouletrace.exporter.PrometheusEndpoint;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.SystemClocks;
import io.jouletrace.sources.cpu.SelfProcess;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The agent's life: configuration and instrumentation on the calling thread, everything else
 * (sources, OSHI, HTTP) on the {@code jouletrace-sampler} daemon thread, and the report from a
 * shutdown hook (normal exit, {@code System.exit}, SIGTERM).
 */
public final class AgentRuntime {

  /** The one place the agent writes to standard error; everything else goes through {@link Log}. */
  private static final Consumer<String> STDERR = new StdErr();

  private static final long START_WAIT_MS = 5_000;
  private static final long INIT_WAIT_AT_EXIT_MS = 100;
  private static final long INIT_AFTER_INSTRUMENTATION_MS = 1_000;

  private final AgentConfig config;
  private final Log log;
  private final EnergyLedger ledger;
  private final Sampler sampler;
  private final PhaseRecorder recorder;
  private final Instant startedAt;
  private final CarbonStage carbon;
  private final long startCpuNanos;

  /** The endpoint once started; taken (set to null) by whoever closes it, init or shutdown. */
  private final AtomicReference<PrometheusEndpoint> endpoint = new AtomicReference<>();

  private volatile boolean shuttingDown;
  private volatile SparkTasks sparkTasks;
  private volatile java.nio.file.Path sdFile;
  private final Outputs outputs;
  private final PhaseRegistry registry;
  private final ProfilerFeed feed;
  private final long startNanos;
  private volatile EnergyProfiler profiler;
  private volatile JfrSampling sampling;
  private volatile JfrEmitter emitter;
  private Thread samplerThread;
  private Thread initThread;

  /** Set by the init thread once the sources it opens are open (or failed to). */
  private volatile boolean sourcesOpen;

  private Instrumenter.Gate gate;

  /** {@link #liveSnapshot()}, for the outputs that pull snapshots while the job runs. */
  private final Supplier<EnergySnapshot> live = new Live();

  private AgentRuntime(
      AgentConfig config,
      Log log,
      PhaseRegistry registry,
      PhaseRecorder recorder,
      EnergyLedger ledger,
      CarbonStage carbon,
      ProfilerFeed feed,
      long startNanos,
      long startCpuNanos,
      Instant startedAt) {
    this.startedAt = startedAt;
    this.config = config;
    this.registry = registry;
    this.feed = feed;
    this.startNanos = startNanos;
    this.carbon = carbon;
    this.startCpuNanos = startCpuNanos;
    this.log = log;
    this.ledger = ledger;
    this.recorder = recorder;
    this.sampler = new Sampler(config, ledger, recorder, log, startNanos, startCpuNanos);
    this.outputs = new Outputs(config, log);
  }

  /**
   * Starts the agent. Called through the isolated class loader by {@code AgentEntry}; never throws.
   *
   * @param args agent arguments
   * @param inst the JVM's instrumentation
   * @param attached {@code true} when loaded into a running JVM
   */
  public static void start(String args, Instrumentation inst, boolean attached) {
    try {
      AgentConfig config = ConfigLoader.load(args);
      Log log = new Log(STDERR, config.debug());
      for (String e : config.errors()) {
        log.line(e);
      }
      if (config.strict() && !config.errors().isEmpty()) {
        log.line(
            "agent not started: "
                + config.errors().size()
                + " configuration error(s) and strict=true");
        return;
      }
      PhaseRegistry registry = new PhaseRegistry(config.phasesMax(), log.lines());
      PhaseRecorder recorder = new PhaseRecorder(registry, log.lines());
      long startNanos = System.nanoTime();
      long startEpochMillis = System.currentTimeMillis();
      // The tables are read on jouletrace-init (no I/O here); until the intensity provider is
      // open the stage holds energy back, and embodied carbon uses the configuration's figures.
      CarbonStage carbon =
          new CarbonStage(
              CarbonStage.Settings.of(config, null),
              registry,
              config.phasesMax(),
              startNanos,
              startEpochMillis,
              log.lines());
      java.time.Duration warmup = config.get(Key.EFFICIENCY_WARMUP);
      WorkUnits units =
          new WorkUnits(
              registry,
              recorder,
              config.phasesMax(),
              warmup.isZero() ? Long.MIN_VALUE : startNanos + warmup.toNanos(),
              SystemClocks.NANO_TIME,
              log.lines());
      carbon.units(units);
      // Process CPU time from /proc without loading JMX or OSHI on this thread.
      long startCpuNanos = SelfProcess.cpuNanos();
      // The profiler and the JFR events start later, on daemon threads; this only keeps what the
      // ledger hands out until then.
      ProfilerFeed feed =
          config.profile() || config.jfr() ? new ProfilerFeed(recorder, config.phasesMax()) : null;
      AttributionListener listener = feed == null ? carbon : AttributionListener.all(carbon, feed);
      EnergyLedger ledger = new EnergyLedger(registry, config.phasesMax(), listener, startNanos);
      for (String e : config.errors()) {
        ledger.warning(e);
      }
      log.problemsTo(ledger.warnings());
      AgentRuntime runtime =
          new AgentRuntime(
              config,
              log,
              registry,
              recorder,
              ledger,
              carbon,
              feed,
              startNanos,
              startCpuNanos,
              // the wall-clock instant of startNanos: report times and intensity segments agree
              Instant.ofEpochMilli(startEpochMillis));
      // The counters' first reading is the zero of everything measured: take it before the
      // application runs. The weaver and the slow sources start on daemon threads below.
      runtime.sampler.openEarly();
      Dispatch.install(recorder);
      Dispatch.installCounter(units);
      runtime.sparkTasks = new SparkTasks(log.lines(), config.phasesMax());
      TaskPhases.install(runtime.sparkTasks);
      List<Rule> rules = new ArrayList<>(Instrumenter.djlRules());
      rules.add(SparkTasks.rule());
      rules.addAll(config.phaseRules());
      runtime.gate =
          Instrumenter.installInBackground(inst, rules, attached, config.instrumentWait(), log);
      runtime.launch();
    } catch (Throwable t) {
      STDERR.accept("jouletrace: agent not started: " + t);
    }
  }

  private void launch() {
    samplerThread = AgentThreads.daemon("sampler", new Body(Body.SAMPLE));
    samplerThread.start();
    initThread = AgentThreads.daemon("init", new Body(Body.INIT));
    initThread.start();
    Thread hook = AgentThreads.daemon("shutdown", new Body(Body.SHUTDOWN));
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Samples from the start, with the sources opened so far; others join when ready. */
  private void sample() {
    try {
      sampler.loop();
    } catch (Throwable t) {
      log.line("sampler stopped: " + t);
    }
  }

  /** The slow part of start-up (NVML, OSHI, HTTP), off the sampler's and the application's path. */
  private void init() {
    try {
      // The weaver first, when a class to instrument has started it: an application thread may
      // be waiting for it to load that class. The sources opened here lose nothing by starting a
      // moment later (see Sampler.open).
      if (gate.started()) {
        gate.awaitReady(INIT_AFTER_INSTRUMENTATION_MS);
      }
    } catch (Throwable t) {
      log.line("waiting for instrumentation failed: " + t + "; the energy sources start now");
    }
    try {
      // Never throws, and ends start-up in every case: the ledger stops keeping phase changes for
      // sources that might still join.
      sampler.open();
      sourcesOpen = true;
      if (shuttingDown) {
        return; // the rest of start-up is for a run that goes on
      }
      try {
        carbon.hardware(io.jouletrace.agent.carbon.HostInfo.read());
        carbon.settings(CarbonStage.Settings.of(config, EmbodiedTable.bundled()));
        carbon.provider(
            Intensities.open(config, System.getenv(), log, SystemClocks.CURRENT_TIME_MILLIS, true));
      } catch (Throwable t) {
        log.line("grid intensity unavailable (" + t + "); using the static default");
        carbon.provider(IntensityProvider.of(Intensities.staticDefault(config), null));
      }
      startProfiling();
      if (config.hostAttribution()) {
        Discovery.warnIfShared(config, log);
      }
      outputs.start(live);
      // /metrics waits until the job's own start-up leaves a core idle, a second at most: a job
      // that ends sooner cannot be scraped anyway, and starting the server (its classes loaded and
      // run for the first time) would compete with the job's start-up or its exit for the CPU.
      if (config.prometheusPort() >= 0 && !shuttingDown) {
        sampler.awaitSpareCpu(SamplerLimits.ENDPOINT_WAIT_MILLIS);
        if (!shuttingDown) {
          startEndpoint();
        }
      }
      PrometheusEndpoint e = endpoint.get();
      if (e != null && config.prometheusSdFile() != null) {
        sdFile = Discovery.writeTarget(config, e.port(), liveSnapshot().commonLabels(), log);
      }
      // Running the report's code once here spares exit the loading of its classes; it can wait
      // until the job's own start-up leaves a core idle, and is skipped once exit has begun.
      sampler.awaitSpareCpu(SamplerLimits.SPARE_CPU_WAIT_MILLIS);
      if (!shuttingDown) {
        ThreadCpuClock.warmUp();
        JsonReport.warmUp(liveSnapshot());
        log.debug(
            "report code warmed up, "
                + (System.nanoTime() - startNanos) / 1_000_000
                + " ms after the agent started");
      }
    } catch (Throwable t) {
      log.line("start-up of sources failed: " + t);
    }
  }

  private void startEndpoint() {
    String ports =
        config.prometheusPortLast() > config.prometheusPort()
            ? config.prometheusPort() + "-" + config.prometheusPortLast()
            : Integer.toString(config.prometheusPort());
    try {
      PrometheusEndpoint started =
          PrometheusEndpoint.start(
              live,
              config.prometheusHost(),
              config.prometheusPort(),
              config.prometheusPortLast(),
              outputs.security(),
              AgentThreads.factory("http"));
      endpoint.set(started);
      log.debug("/metrics served on " + config.prometheusHost() + ":" + started.port());
      if (shuttingDown) {
        closeEndpoint(); // exit came while it was starting: the shutdown hook may have missed it
      }
    } catch (Exception e) {
      log.line(EndpointFailure.line(config.prometheusHost(), ports, e));
    }
  }

  private void closeEndpoint() {
    PrometheusEndpoint e = endpoint.getAndSet(null);
    if (e != null) {
      e.close();
    }
  }

  /** The profiler and the agent's JFR events, when configured; a failure costs only them. */
  private void startProfiling() {
    if (!config.profile() && config.profileCollapsed() != null) {
      log.line("profile.collapsed is set but profile=false: no folded stacks are written");
    }
    if (feed == null) {
      return;
    }
    if (config.jfr()) {
      try {
        JfrEmitter e = new JfrEmitter(registry, config.phasesMax(), CarbonStage.factors(config));
        feed.emitter(e);
        emitter = e;
      } catch (Throwable t) {
        log.line("jfr=true: JFR events not available (" + t + "); measurement continues");
      }
    }
    if (config.profile()) {
      try {
        long bucket = Math.max(1_000_000_000L, 50 * config.profileInterval().toNanos());
        EnergyProfiler p =
            new EnergyProfiler(
                registry, config.phasesMax(), startNanos, bucket, config.profileMaxStacks());
        JfrSampling s = new JfrSampling(p, config.profileInterval(), log.lines());
        feed.attach(p);
        profiler = p;
        sampling = s;
        s.start();
      } catch (Throwable t) {
        feed.detach();
        log.line("profile=true: profiler not started (" + t + "); measurement continues");
      }
    } else {
      feed.detach();
    }
  }

  /** Stops the profiler and writes its files; the profile for the report, or null. */
  private EnergyProfile finishProfile() {
    JfrEmitter e = emitter;
    if (e != null) {
      e.close();
    }
    JfrSampling s = sampling;
    EnergyProfiler p = profiler;
    if (s == null || p == null) {
      if (config.profile() && feed != null) {
        String why = JfrSampling.unavailable();
        log.line(
            why != null
                ? JfrSampling.unavailableLine(why)
                : "profile=true: the profiler had not started by exit; no energy per method");
      }
      return null;
    }
    s.stop();
    if (s.failed()) {
      return null; // said in one line when it failed
    }
    Path file = config.profileCollapsed();
    String written = null;
    if (file != null) {
      try {
        p.writeCollapsed(file, null);
        written = file.toAbsolutePath().toString();
        if (config.profilePerPhase()) {
          for (String phase : p.phases()) {
            p.writeCollapsed(
                file.resolveSibling(file.getFileName() + "." + phase.replaceAll("[^\\w.-]", "_")),
                phase);
          }
        }
        log.debug("folded stacks written: " + written);
      } catch (Exception ex) {
        log.line(
            "profile.collapsed: folded stacks not written to "
                + file.toAbsolutePath()
                + " ("
                + ex
                + "); energy per method is still in the report");
      }
    }
    EnergyProfile summary = p.summary(written);
    if (log.debugEnabled()) {
      long at = p.startedAt();
      log.debug(
          "profiler: "
              + summary.samples()
              + " samples; its recording "
              + (at == Long.MIN_VALUE
                  ? "was never told to have started"
                  : "started " + (at - startNanos) / 1_000_000 + " ms after the agent")
              + "; "
              + s.state());
    }
    // The HTML report draws its flame graph from the file written, else from the stacks in memory:
    // folded once either way.
    return config.reportHtml() != null && written == null
        ? summary.withFolded(p.collapsed())
        : summary;
  }

  private EnergySnapshot liveSnapshot() {
    return snapshot(null);
  }

  /**
   * The ledger's energy with the carbon stage's grams and what measuring cost; {@code endedAt} is
   * null while running.
   */
  private EnergySnapshot snapshot(Instant endedAt) {
    sparkTasks.drainWarnings(); // before the ledger's warnings are read
    EnergySnapshot s =
        carbon.apply(
            ledger.snapshot(
                startedAt, endedAt, config.stage(), config.labels(), config.attribution()));
    Map<String, Long> tasks = sparkTasks.counts();
    s = tasks.isEmpty() ? s : s.withTasks(tasks);
    return s.withAgent(cost(s)).withRunId(outputs.runId());
  }

  /**
   * The agent's CPU time, and the energy and carbon it stands for: its share of this process's CPU
   * time since the agent started, applied to the job's CPU and DRAM energy, at the run's average
   * operational grams per joule.
   */
  private EnergySnapshot.AgentCost cost(EnergySnapshot s) {
    Map<String, Double> threads = new TreeMap<>();
    double agent = 0;
    for (Map.Entry<String, Long> t : AgentThreads.cpuNanosByThread().entrySet()) {
      threads.put(t.getKey().substring("jouletrace-".length()), t.getValue() * 1e-9);
      agent += t.getValue() * 1e-9;
    }
    long now = SelfProcess.cpuNanos();
    double process = now < 0 || startCpuNanos < 0 ? 0 : (now - startCpuNanos) * 1e-9;
    double share = process > 0 ? Math.min(1, agent / process) : 0;
    EnergySnapshot.PhaseEnergy total = s.totals();
    double joules = (total.joules(Domain.CPU) + total.joules(Domain.DRAM)) * share;
    double gramsPerJoule =
        total.totalJoules() > 0 ? total.operationalGrams() / total.totalJoules() : 0;
    return new EnergySnapshot.AgentCost(agent, threads, process, joules, joules * gramsPerJoule);
  }

  /** {@code statement.md}, else {@code jouletrace-statement.md} beside the JSON report. */
  private Path statementPath() {
    Path p = config.get(Key.STATEMENT_MD);
    if (p != null) {
      return p;
    }
    return statementBeside(config.reportJson());
  }

  /**
   * The statement's default path: beside the report, named after it so that JVMs writing their
   * reports to one folder do not overwrite each other's statement ({@code jouletrace-report.json}
   * gives {@code jouletrace-statement.md}, {@code run-7.json} gives {@code run-7.statement.md}).
   */
  static Path statementBeside(Path report) {
    String name = report.getFileName().toString();
    String statement =
        name.equals("jouletrace-report.json")
            ? "jouletrace-statement.md"
            : (name.endsWith(".json") ? name.substring(0, name.length() - 5) : name)
                + ".statement.md";
    return report.resolveSibling(statement);
  }

  private void shutdown() {
    shuttingDown = true;
    long exitStart = System.nanoTime();
    try {
      // Sources still being opened (a job shorter than a second) get a moment, so that they are
      // read once; beyond that, and for the rest of start-up, exit is not held up.
      if (!sourcesOpen) {
        initThread.join(INIT_WAIT_AT_EXIT_MS);
      }
      if (!sourcesOpen && !sampler.cpuOpen()) {
        log.line(
            "exit came before the energy sources had started: energy of this short run is"
                + " incomplete");
      }
      sampler.stop(samplerThread);
      samplerThread.join(START_WAIT_MS);
      sampler.lastTickSafely();
      List<String> open = recorder.openPhases();
      if (!open.isEmpty()) {
        log.line(
            open.size()
                + " phase(s) still open at exit, closed there: "
                + String.join(", ", open.subList(0, Math.min(5, open.size())))
                + (open.size() > 5 ? ", ..." : ""));
      }
      if (gate != null) {
        for (Rule r : config.phaseRules()) {
          if (!gate.matched().contains(r)) {
            log.line(r.unmatched());
          }
        }
      }
      if (!carbon.hasHardware()) {
        carbon.hardware(io.jouletrace.agent.carbon.HostInfo.read());
      }
      IntensityProvider intensity = carbon.provider();
      if (intensity == null) {
        // Start-up never got that far: the chain without the network, so the energy held back is
        // charged at the best figure that needs no request.
        intensity =
            Intensities.open(config, System.getenv(), log, SystemClocks.CURRENT_TIME_MILLIS, false);
      } else {
        intensity.close();
      }
      carbon.finish(
          intensity.timeline() != null
              ? intensity.timeline()
              : Intensities.open(
                      config, System.getenv(), log, SystemClocks.CURRENT_TIME_MILLIS, false)
                  .timeline());
      if (config.hostAttribution()) {
        Discovery.warnIfShared(config, log); // JVMs that started after this one; one line at most
      }
      EnergyProfile profile = null;
      try {
        profile = finishProfile();
      } catch (Throwable t) {
        log.line("profiler failed at exit: " + t);
      }
      EnergySnapshot last =
          snapshot(Instant.now()).withTimeline(ledger.timeline()).withProfile(profile);
      // The closing line names only the files that were written; a failure has its own line.
      String written = "";
      try {
        JsonReport.write(last, config.reportJson());
        written = "report " + config.reportJson().toAbsolutePath();
      } catch (Exception e) {
        log.line("report not written to " + config.reportJson().toAbsolutePath() + ": " + e);
      }
      Path statement = statementPath();
      try {
        CarbonStatement.write(last, statement);
        written += (written.isEmpty() ? "statement " : ", statement ") + statement.toAbsolutePath();
      } catch (Exception e) {
        log.line("statement not written to " + statement.toAbsolutePath() + ": " + e);
      }
      Discovery.removeTarget(sdFile, log);
      log.text(PhaseTable.render(last));
      if (!written.isEmpty()) {
        log.info(written);
      }
      outputs.atExit(last);
      closeEndpoint();
      // Also closes a source that the init thread opens from now on (a slow NVML start).
      sampler.close();
      if (log.debugEnabled()) {
        long[] late = ledger.lateChanges();
        log.debug(
            late[0]
                + " phase changes reached the timeline late (at most "
                + late[1] / 1000
                + " us), each moved to the later change's time; "
                + recorder.resyncs()
                + " overflowed rings resynchronised; "
                + sampler.requestDrains()
                + "; phases: "
                + registry.names());
      }
      log.debug(
          "exit took "
              + (System.nanoTime() - exitStart) / 1_000_000
              + " ms (start-up had "
              + (initThread.isAlive() ? "not " : "")
              + "finished)");
    } catch (Throwable t) {
      log.line("shutdown failed: " + t);
    }
  }

  /*
   * What the agent's threads run, and the callbacks it hands out, are classes rather than lambdas
   * or method references: the JVM spins a class for each of those at its first use (about a
   * millisecond each in a cold JVM, and the first one starts the lambda machinery), which start-up
   * and exit would pay on every run.
   */

  /** The body of one of the agent's threads. */
  private final class Body implements Runnable {
    static final int SAMPLE = 0;
    static final int INIT = 1;
    static final int SHUTDOWN = 2;

    private final int what;

    Body(int what) {
      this.what = what;
    }

    @Override
    public void run() {
      switch (what) {
        case SAMPLE -> sample();
        case INIT -> init();
        default -> shutdown();
      }
    }
  }

  private final class Live implements Supplier<EnergySnapshot> {
    @Override
    public EnergySnapshot get() {
      // figures at most an interval old, even while ticks are stretched to a second
      sampler.freshen(SamplerLimits.FRESHEN_WAIT_MILLIS);
      return liveSnapshot();
    }
  }

  /** Standard error, a line per call. */
  private static final class StdErr implements Consumer<String> {
    @Override
    public void accept(String line) {
      System.err.println(line);
    }
  }
}

package io.jouletrace.agent;

import io.jouletrace.agent.carbon.CarbonStage;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.ConfigLoader;
import io.jouletrace.agent.instrument.Instrumenter;
import io.jouletrace.agent.instrument.Rule;
import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.profile.EnergyProfiler;
import io.jouletrace.agent.profile.JfrEmitter;
import io.jouletrace.agent.profile.JfrSampling;
import io.jouletrace.agent.profile.ProfilerFeed;
import io.jouletrace.agent.timeline.AttributionListener;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.exporter.EnergyProfile;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.JsonReport;
import io.jouletrace.exporter.PhaseTable;
import io.jouletrace.exporter.PrometheusEndpoint;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The agent's life: configuration and instrumentation on the calling thread, everything else
 * (sources, OSHI, HTTP) on the {@code jouletrace-sampler} daemon thread, and the report from a
 * shutdown hook (normal exit, {@code System.exit}, SIGTERM).
 */
public final class AgentRuntime {

  /** The one place the agent writes to standard error; everything else goes through {@link Log}. */
  private static final Consumer<String> STDERR = System.err::println;

  private static final long START_WAIT_MS = 5_000;
  private static final long INIT_WAIT_AT_EXIT_MS = 100;
  private static final long INIT_AFTER_INSTRUMENTATION_MS = 1_000;

  private final AgentConfig config;
  private final Log log;
  private final EnergyLedger ledger;
  private final Sampler sampler;
  private final PhaseRecorder recorder;
  private final Instant startedAt = Instant.now();
  private final CarbonStage carbon;
  private final PhaseRegistry registry;
  private final ProfilerFeed feed;
  private final long startNanos;
  private volatile EnergyProfiler profiler;
  private volatile JfrSampling sampling;
  private volatile JfrEmitter emitter;
  private volatile PrometheusEndpoint endpoint;
  private Thread samplerThread;
  private Thread initThread;
  private Instrumenter.Gate gate;

  private AgentRuntime(
      AgentConfig config,
      Log log,
      PhaseRegistry registry,
      PhaseRecorder recorder,
      EnergyLedger ledger,
      CarbonStage carbon,
      ProfilerFeed feed,
      long startNanos,
      long startCpuNanos) {
    this.config = config;
    this.registry = registry;
    this.feed = feed;
    this.startNanos = startNanos;
    this.carbon = carbon;
    this.log = log;
    this.ledger = ledger;
    this.recorder = recorder;
    this.sampler = new Sampler(config, ledger, recorder, log, startNanos, startCpuNanos);
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
      config.errors().forEach(log::line);
      if (config.strict() && !config.errors().isEmpty()) {
        log.line(
            "agent not started: "
                + config.errors().size()
                + " configuration error(s) and strict=true");
        return;
      }
      PhaseRegistry registry = new PhaseRegistry(config.phasesMax(), log::line);
      PhaseRecorder recorder = new PhaseRecorder(registry, log::line);
      CarbonStage carbon =
          new CarbonStage(CarbonStage.factors(config), registry, config.phasesMax());
      long startNanos = System.nanoTime();
      // Process CPU time from /proc without loading JMX or OSHI on this thread.
      long startCpuNanos =
          ProcessHandle.current()
              .info()
              .totalCpuDuration()
              .map(java.time.Duration::toNanos)
              .orElse(-1L);
      // The profiler and the JFR events start later, on daemon threads; this only keeps what the
      // ledger hands out until then.
      ProfilerFeed feed =
          config.profile() || config.jfr() ? new ProfilerFeed(recorder, config.phasesMax()) : null;
      AttributionListener listener = feed == null ? carbon : AttributionListener.all(carbon, feed);
      EnergyLedger ledger = new EnergyLedger(registry, config.phasesMax(), listener, startNanos);
      config.errors().forEach(ledger::warning);
      log.problemsTo(ledger::warning);
      AgentRuntime runtime =
          new AgentRuntime(
              config, log, registry, recorder, ledger, carbon, feed, startNanos, startCpuNanos);
      // The counters' first reading is the zero of everything measured: take it before the
      // application runs. Byte Buddy and the slow sources start on daemon threads below.
      runtime.sampler.openEarly();
      Dispatch.install(recorder);
      List<Rule> rules = new ArrayList<>(Instrumenter.djlRules());
      rules.addAll(config.phaseRules());
      runtime.gate =
          Instrumenter.installInBackground(inst, rules, attached, config.instrumentWait(), log);
      runtime.launch();
    } catch (Throwable t) {
      STDERR.accept("jouletrace: agent not started: " + t);
    }
  }

  private void launch() {
    samplerThread = new Thread(this::sample, "jouletrace-sampler");
    samplerThread.setDaemon(true);
    samplerThread.start();
    initThread = new Thread(this::init, "jouletrace-init");
    initThread.setDaemon(true);
    initThread.start();
    Thread hook = new Thread(this::shutdown, "jouletrace-shutdown");
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
      // Byte Buddy first: an application thread may be waiting for it to load a class. The
      // sources opened here lose nothing by starting a moment later (see Sampler.open).
      gate.awaitReady(INIT_AFTER_INSTRUMENTATION_MS);
      sampler.open();
      startProfiling();
      JsonReport.warmUp(liveSnapshot());
      if (config.prometheusPort() >= 0) {
        try {
          endpoint =
              PrometheusEndpoint.start(
                  this::liveSnapshot, config.prometheusHost(), config.prometheusPort());
          log.debug("/metrics served on " + config.prometheusHost() + ":" + endpoint.port());
        } catch (Exception e) {
          log.line(
              "Prometheus endpoint not started on "
                  + config.prometheusHost()
                  + ":"
                  + config.prometheusPort()
                  + " ("
                  + e
                  + "); set prometheus.port to a free port or"
                  + " off. Measurement continues.");
        }
      }
    } catch (Throwable t) {
      log.line("start-up of sources failed: " + t);
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
        JfrEmitter e = new JfrEmitter(registry, config.phasesMax(), carbon.factors());
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
        JfrSampling s = new JfrSampling(p, config.profileInterval(), log::line);
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
    return p.summary(written);
  }

  private EnergySnapshot liveSnapshot() {
    return snapshot(null);
  }

  /** The ledger's energy with the carbon stage's grams; {@code endedAt} is null while running. */
  private EnergySnapshot snapshot(Instant endedAt) {
    return carbon.apply(
        ledger.snapshot(startedAt, endedAt, config.stage(), config.labels(), config.attribution()));
  }

  private void shutdown() {
    try {
      // A start-up still in progress (a job shorter than a second) gets a moment to finish, so
      // that its sources are read once; beyond that, exit is not held up.
      initThread.join(INIT_WAIT_AT_EXIT_MS);
      if (initThread.isAlive()) {
        log.line(
            "exit came before the energy sources had started: energy of this short run is"
                + " incomplete");
      }
      sampler.stop(samplerThread);
      samplerThread.join(START_WAIT_MS);
      sampler.tickSafely();
      List<String> open = recorder.openPhases();
      if (!open.isEmpty()) {
        log.line(
            open.size()
                + " phase(s) still open at exit, closed there: "
                + String.join(", ", open.subList(0, Math.min(5, open.size())))
                + (open.size() > 5 ? ", ..." : ""));
      }
      EnergyProfile profile = null;
      try {
        profile = finishProfile();
      } catch (Throwable t) {
        log.line("profiler failed at exit: " + t);
      }
      EnergySnapshot last = snapshot(Instant.now()).withProfile(profile);
      try {
        JsonReport.write(last, config.reportJson());
        log.debug("report written: " + config.reportJson().toAbsolutePath());
      } catch (Exception e) {
        log.line("report not written to " + config.reportJson().toAbsolutePath() + ": " + e);
      }
      log.text(PhaseTable.render(last));
      log.info("report " + config.reportJson().toAbsolutePath());
      PrometheusEndpoint e = endpoint;
      if (e != null) {
        e.close();
      }
      sampler.close();
    } catch (Throwable t) {
      log.line("shutdown failed: " + t);
    }
  }
}

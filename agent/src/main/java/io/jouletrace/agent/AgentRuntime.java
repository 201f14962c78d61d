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
import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.exporter.CarbonStatement;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.JsonReport;
import io.jouletrace.exporter.PhaseTable;
import io.jouletrace.exporter.PrometheusEndpoint;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent's life: configuration and instrumentation on the calling thread, everything else
 * (sources, OSHI, HTTP) on the {@code jouletrace-sampler} daemon thread, and the report from a
 * shutdown hook (normal exit, {@code System.exit}, SIGTERM).
 */
public final class AgentRuntime {

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
  private volatile PrometheusEndpoint endpoint;
  private Thread samplerThread;
  private Thread initThread;
  private Instrumenter.Gate gate;

  private AgentRuntime(
      AgentConfig config,
      Log log,
      PhaseRecorder recorder,
      EnergyLedger ledger,
      CarbonStage carbon,
      long startNanos,
      long startCpuNanos,
      Instant startedAt) {
    this.startedAt = startedAt;
    this.config = config;
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
      for (String error : config.errors()) {
        System.err.println(error);
      }
      if (config.strict() && !config.errors().isEmpty()) {
        System.err.println(
            "jouletrace: agent not started: "
                + config.errors().size()
                + " configuration error(s) and strict=true");
        return;
      }
      EnergyLedger[] holder = new EnergyLedger[1];
      Log log =
          new Log(
              line -> {
                System.err.println(line);
                EnergyLedger l = holder[0];
                if (l != null) {
                  l.warning(line);
                }
              });
      PhaseRegistry registry = new PhaseRegistry(config.phasesMax(), log::line);
      PhaseRecorder recorder = new PhaseRecorder(registry, log::line);
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
              log::line);
      java.time.Duration warmup = config.get(Key.EFFICIENCY_WARMUP);
      WorkUnits units =
          new WorkUnits(
              registry,
              recorder,
              config.phasesMax(),
              warmup.isZero() ? Long.MIN_VALUE : startNanos + warmup.toNanos(),
              System::nanoTime,
              log::line);
      carbon.units(units);
      // Process CPU time from /proc without loading JMX or OSHI on this thread.
      long startCpuNanos =
          ProcessHandle.current()
              .info()
              .totalCpuDuration()
              .map(java.time.Duration::toNanos)
              .orElse(-1L);
      EnergyLedger ledger = new EnergyLedger(registry, config.phasesMax(), carbon, startNanos);
      holder[0] = ledger;
      config.errors().forEach(ledger::warning);
      AgentRuntime runtime =
          new AgentRuntime(
              config,
              log,
              recorder,
              ledger,
              carbon,
              startNanos,
              startCpuNanos,
              // the wall-clock instant of startNanos: report times and intensity segments agree
              Instant.ofEpochMilli(startEpochMillis));
      // The counters' first reading is the zero of everything measured: take it before the
      // application runs. Byte Buddy and the slow sources start on daemon threads below.
      runtime.sampler.openEarly();
      Dispatch.install(recorder);
      Dispatch.installCounter(units);
      List<Rule> rules = new ArrayList<>(Instrumenter.djlRules());
      rules.addAll(config.phaseRules());
      runtime.gate =
          Instrumenter.installInBackground(inst, rules, attached, config.instrumentWait(), log);
      runtime.launch();
    } catch (Throwable t) {
      System.err.println("jouletrace: agent not started: " + t);
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
      try {
        carbon.hardware(io.jouletrace.agent.carbon.HostInfo.read());
        carbon.settings(CarbonStage.Settings.of(config, EmbodiedTable.bundled()));
        carbon.provider(
            Intensities.open(config, System.getenv(), log, System::currentTimeMillis, true));
      } catch (Throwable t) {
        log.line("grid intensity unavailable (" + t + "); using the static default");
        carbon.provider(IntensityProvider.of(Intensities.staticDefault(config), null));
      }
      JsonReport.warmUp(liveSnapshot());
      if (config.prometheusPort() >= 0) {
        try {
          endpoint =
              PrometheusEndpoint.start(
                  this::liveSnapshot, config.prometheusHost(), config.prometheusPort());
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

  private EnergySnapshot liveSnapshot() {
    return snapshot(null);
  }

  /** The ledger's energy with the carbon stage's grams; {@code endedAt} is null while running. */
  private EnergySnapshot snapshot(Instant endedAt) {
    return carbon.apply(
        ledger.snapshot(startedAt, endedAt, config.stage(), config.labels(), config.attribution()));
  }

  /** {@code statement.md}, else {@code jouletrace-statement.md} beside the JSON report. */
  private Path statementPath() {
    Path p = config.get(Key.STATEMENT_MD);
    if (p != null) {
      return p;
    }
    Path dir = config.reportJson().toAbsolutePath().getParent();
    return dir == null
        ? Path.of("jouletrace-statement.md")
        : dir.resolve("jouletrace-statement.md");
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
      if (!carbon.hasHardware()) {
        carbon.hardware(io.jouletrace.agent.carbon.HostInfo.read());
      }
      IntensityProvider intensity = carbon.provider();
      if (intensity == null) {
        // Start-up never got that far: the chain without the network, so the energy held back is
        // charged at the best figure that needs no request.
        intensity =
            Intensities.open(config, System.getenv(), log, System::currentTimeMillis, false);
      } else {
        intensity.close();
      }
      carbon.finish(
          intensity.timeline() != null
              ? intensity.timeline()
              : Intensities.open(config, System.getenv(), log, System::currentTimeMillis, false)
                  .timeline());
      EnergySnapshot last = snapshot(Instant.now());
      try {
        JsonReport.write(last, config.reportJson());
      } catch (Exception e) {
        System.err.println(
            "jouletrace: report not written to " + config.reportJson().toAbsolutePath() + ": " + e);
      }
      Path statement = statementPath();
      try {
        CarbonStatement.write(last, statement);
      } catch (Exception e) {
        System.err.println(
            "jouletrace: statement not written to " + statement.toAbsolutePath() + ": " + e);
      }
      System.err.print(PhaseTable.render(last));
      System.err.println(
          "jouletrace: report "
              + config.reportJson().toAbsolutePath()
              + ", statement "
              + statement.toAbsolutePath());
      PrometheusEndpoint e = endpoint;
      if (e != null) {
        e.close();
      }
      sampler.close();
    } catch (Throwable t) {
      System.err.println("jouletrace: shutdown failed: " + t);
    }
  }
}

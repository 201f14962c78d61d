package io.jouletrace.agent;

import io.jouletrace.agent.carbon.CarbonModel;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.ConfigLoader;
import io.jouletrace.agent.instrument.Instrumenter;
import io.jouletrace.agent.instrument.Rule;
import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.exporter.JsonReport;
import io.jouletrace.exporter.PhaseTable;
import io.jouletrace.exporter.PrometheusEndpoint;
import java.lang.instrument.Instrumentation;
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
  private final Instant startedAt = Instant.now();
  private final CarbonFactors factors;
  private final Outputs outputs;
  private volatile PrometheusEndpoint endpoint;
  private Thread samplerThread;
  private Thread initThread;
  private Instrumenter.Gate gate;

  private AgentRuntime(
      AgentConfig config,
      Log log,
      PhaseRecorder recorder,
      EnergyLedger ledger,
      long startNanos,
      long startCpuNanos) {
    this.config = config;
    this.log = log;
    this.ledger = ledger;
    this.recorder = recorder;
    this.sampler = new Sampler(config, ledger, recorder, log, startNanos, startCpuNanos);
    this.outputs = new Outputs(config, log);
    double years = config.embodiedLifetime().toSeconds() / (365 * 86400.0);
    this.factors =
        new CarbonFactors(
            config.carbonIntensity(),
            config.carbonIntensity() == ConfigLoader.DEFAULT_INTENSITY
                ? "default: world average (CodeCarbon)"
                : "config",
            config.pue(),
            config.embodiedKg(),
            config.embodiedGpuKg(),
            years,
            config.embodiedUtilization());
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
      CarbonModel carbon =
          new CarbonModel(
              config.carbonIntensity(),
              config.pue(),
              config.embodiedKg(),
              config.embodiedLifetime().toSeconds(),
              config.embodiedUtilization(),
              config.embodiedGpuKg());
      long startNanos = System.nanoTime();
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
          new AgentRuntime(config, log, recorder, ledger, startNanos, startCpuNanos);
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
      JsonReport.warmUp(liveSnapshot());
      if (config.prometheusPort() >= 0) {
        try {
          endpoint =
              PrometheusEndpoint.start(
                  this::liveSnapshot,
                  config.prometheusHost(),
                  config.prometheusPort(),
                  outputs.security());
        } catch (Exception e) {
          log.line(
              "Prometheus endpoint not started on "
                  + config.prometheusHost()
                  + ":"
                  + config.prometheusPort()
                  + " ("
                  + e
                  + (e instanceof java.net.BindException
                      ? "); set prometheus.port to a free port or off."
                      : ").")
                  + " Measurement continues.");
        }
      }
      outputs.start(this::liveSnapshot);
    } catch (Throwable t) {
      log.line("start-up of sources failed: " + t);
    }
  }

  private EnergySnapshot liveSnapshot() {
    return ledger
        .snapshot(startedAt, null, config.stage(), config.labels(), config.attribution(), factors)
        .withRunId(outputs.runId());
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
      EnergySnapshot last =
          ledger
              .snapshot(
                  startedAt,
                  Instant.now(),
                  config.stage(),
                  config.labels(),
                  config.attribution(),
                  factors)
              .withRunId(outputs.runId())
              .withTimeline(ledger.timeline());
      try {
        JsonReport.write(last, config.reportJson());
      } catch (Exception e) {
        System.err.println(
            "jouletrace: report not written to " + config.reportJson().toAbsolutePath() + ": " + e);
      }
      System.err.print(PhaseTable.render(last));
      System.err.println("jouletrace: report " + config.reportJson().toAbsolutePath());
      outputs.atExit(last);
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

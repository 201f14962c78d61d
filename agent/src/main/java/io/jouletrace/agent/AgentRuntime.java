package io.jouletrace.agent;

import io.jouletrace.agent.carbon.CarbonModel;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.ConfigLoader;
import io.jouletrace.agent.instrument.Instrumenter;
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

/**
 * The agent's life: configuration and instrumentation on the calling thread, everything else
 * (sources, OSHI, HTTP) on the {@code jouletrace-sampler} daemon thread, and the report from a
 * shutdown hook (normal exit, {@code System.exit}, SIGTERM).
 */
public final class AgentRuntime {

  private static final long START_WAIT_MS = 5_000;

  private final AgentConfig config;
  private final Log log;
  private final EnergyLedger ledger;
  private final Sampler sampler;
  private final Instant startedAt = Instant.now();
  private final CarbonFactors factors;
  private volatile PrometheusEndpoint endpoint;
  private Thread samplerThread;

  private AgentRuntime(AgentConfig config, Log log, PhaseRecorder recorder, EnergyLedger ledger) {
    this.config = config;
    this.log = log;
    this.ledger = ledger;
    this.sampler = new Sampler(config, ledger, recorder, log);
    double years = config.embodiedLifetime().toSeconds() / (365 * 86400.0);
    this.factors = new CarbonFactors(config.carbonIntensity(),
        config.carbonIntensity() == ConfigLoader.DEFAULT_INTENSITY
            ? "default: world average (CodeCarbon)" : "config",
        config.pue(), config.embodiedKg(), config.embodiedGpuKg(), years,
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
        System.err.println("jouletrace: agent not started: " + config.errors().size()
            + " configuration error(s) and strict=true");
        return;
      }
      EnergyLedger[] holder = new EnergyLedger[1];
      Log log = new Log(line -> {
        System.err.println(line);
        EnergyLedger l = holder[0];
        if (l != null) {
          l.warning(line);
        }
      });
      PhaseRegistry registry = new PhaseRegistry(config.phasesMax(), log::line);
      PhaseRecorder recorder = new PhaseRecorder(registry, log::line);
      CarbonModel carbon = new CarbonModel(config.carbonIntensity(), config.pue(),
          config.embodiedKg(), config.embodiedLifetime().toSeconds(), config.embodiedUtilization(),
          config.embodiedGpuKg());
      EnergyLedger ledger = new EnergyLedger(registry, config.phasesMax(), carbon, System.nanoTime());
      holder[0] = ledger;
      config.errors().forEach(ledger::warning);
      AgentRuntime runtime = new AgentRuntime(config, log, recorder, ledger);
      Dispatch.install(recorder);
      // Sampling starts first so that the counters' first reading is taken while Byte Buddy
      // installs the automatic phases on this thread.
      runtime.launch();
      Instrumenter.install(inst, Instrumenter.djlRules(), log);
    } catch (Throwable t) {
      System.err.println("jouletrace: agent not started: " + t);
    }
  }

  private void launch() {
    samplerThread = new Thread(this::run, "jouletrace-sampler");
    samplerThread.setDaemon(true);
    samplerThread.start();
    Thread hook = new Thread(this::shutdown, "jouletrace-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  private void run() {
    try {
      sampler.open();
      if (config.prometheusPort() >= 0) {
        try {
          endpoint = PrometheusEndpoint.start(this::liveSnapshot, config.prometheusHost(),
              config.prometheusPort());
        } catch (Exception e) {
          log.line("Prometheus endpoint not started on " + config.prometheusHost() + ":"
              + config.prometheusPort() + " (" + e + "); set prometheus.port to a free port or"
              + " off. Measurement continues.");
        }
      }
      sampler.loop();
    } catch (Throwable t) {
      log.line("sampler stopped: " + t);
    }
  }

  private EnergySnapshot liveSnapshot() {
    return ledger.snapshot(startedAt, null, config.stage(), config.labels(), config.attribution(),
        factors);
  }

  private void shutdown() {
    try {
      sampler.stop(samplerThread);
      samplerThread.join(START_WAIT_MS);
      if (sampler.isOpened()) {
        sampler.tickSafely();
      }
      EnergySnapshot last = ledger.snapshot(startedAt, Instant.now(), config.stage(),
          config.labels(), config.attribution(), factors);
      try {
        JsonReport.write(last, config.reportJson());
      } catch (Exception e) {
        System.err.println("jouletrace: report not written to " + config.reportJson().toAbsolutePath()
            + ": " + e);
      }
      System.err.print(PhaseTable.render(last));
      System.err.println("jouletrace: report " + config.reportJson().toAbsolutePath());
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

package io.jouletrace.agent;

import io.jouletrace.agent.carbon.HostInfo;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.exporter.CsvRunLog;
import io.jouletrace.exporter.EndpointSecurity;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.HtmlReport;
import io.jouletrace.exporter.PushSettings;
import io.jouletrace.exporter.PushgatewayExporter;
import io.jouletrace.sources.cpu.SelfProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Wiring of the optional outputs (Pushgateway, /metrics security, CSV run log, HTML report) from
 * the configuration to the exporter module's settings records. Each output fails on its own: one
 * line naming the culprit, and the other outputs are still written.
 */
final class Outputs {

  private final AgentConfig config;
  private final Log log;
  private final String runId = newRunId();
  private volatile PushgatewayExporter push;
  private volatile String cpuModel = "";

  Outputs(AgentConfig config, Log log) {
    this.config = config;
    this.log = log;
  }

  /**
   * A random (version 4) UUID. Not {@link UUID#randomUUID()}: its {@code SecureRandom} loads the
   * security providers, about 15 ms on {@code premain}'s path; a run id only has to differ from
   * other runs', not be unguessable.
   */
  static String newRunId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (r.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb).toString();
  }

  /** Returns this run's id: in the JSON report, the CSV row and the push grouping key. */
  String runId() {
    return runId;
  }

  /** Returns the TLS and authentication of /metrics. */
  EndpointSecurity security() {
    return new EndpointSecurity(
        config.tlsCert(),
        config.tlsKey(),
        config.tlsKeystore(),
        config.tlsKeystorePassword() == null ? null : new String(config.tlsKeystorePassword()),
        config.prometheusUser().isEmpty() ? null : config.prometheusUser(),
        config.prometheusPassword() == null ? null : new String(config.prometheusPassword()));
  }

  /**
   * Starts what runs alongside the job: periodic pushes. Called on {@code jouletrace-init}.
   *
   * @param live the current snapshot
   */
  void start(Supplier<EnergySnapshot> live) {
    if (config.pushUrl() != null) {
      try {
        push =
            PushgatewayExporter.start(
                pushSettings(), live, log::line, AgentThreads.factory("push"));
      } catch (RuntimeException e) {
        log.line("push to " + config.pushUrl() + " not started (key push.url): " + e);
      }
    }
    if (config.csv() != null) {
      try {
        cpuModel =
            new oshi.SystemInfo().getHardware().getProcessor().getProcessorIdentifier().getName();
      } catch (Throwable t) {
        // The column stays empty.
      }
    }
  }

  PushSettings pushSettings() {
    String job = config.pushJob();
    if (job.isEmpty()) {
      job = config.labels().getOrDefault("job_name", "jouletrace");
    }
    String instance = config.pushInstance();
    if (instance.isEmpty()) {
      instance = hostname() + ":" + SelfProcess.pid();
    }
    return new PushSettings(
        config.pushUrl(), job, instance, runId, config.pushInterval(), config.pushTimeout());
  }

  /** The host name without a DNS look-up, which could hold up exit. */
  private static String hostname() {
    String h = System.getenv("HOSTNAME");
    if (h != null && !h.isBlank()) {
      return h.trim();
    }
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII)
          .trim();
    } catch (Exception e) {
      return "localhost";
    }
  }

  /**
   * Writes the CSV row and the HTML report, then pushes the last figures, waiting at most {@code
   * push.timeout} for the gateway. Called from the shutdown hook after the JSON report.
   *
   * @param last the final snapshot
   */
  void atExit(EnergySnapshot last) {
    if (config.csv() != null) {
      try {
        String project =
            config.labels().getOrDefault("job_name", config.labels().getOrDefault("project", ""));
        String model = cpuModel;
        if (model.isEmpty()) { // the job ended before start-up got this far
          model = HostInfo.cpuModel();
        }
        Path written =
            CsvRunLog.append(
                last,
                new CsvRunLog.Settings(
                    config.csv(), project, Runtime.getRuntime().availableProcessors(), model));
        if (!written.equals(config.csv().toAbsolutePath())) {
          log.line(
              "CSV run log: "
                  + config.csv().toAbsolutePath()
                  + " (key csv) holds rows under other columns and is left as it is; this run's"
                  + " row went to "
                  + written);
        }
      } catch (Throwable e) {
        log.line(
            "CSV run log not written to " + config.csv().toAbsolutePath() + " (key csv): " + e);
      }
    }
    if (config.reportHtml() != null) {
      try {
        HtmlReport.write(last, config.reportHtml());
      } catch (Throwable e) {
        log.line(
            "HTML report not written to "
                + config.reportHtml().toAbsolutePath()
                + " (key report.html): "
                + e);
      }
    }
    if (config.pushUrl() != null) {
      try {
        PushgatewayExporter p = push;
        if (p == null) { // the job ended before start-up got this far
          p =
              PushgatewayExporter.atExitOnly(
                  pushSettings(), log::line, AgentThreads.factory("push"));
        }
        p.pushFinal(last);
      } catch (Throwable t) {
        log.line("push to " + config.pushUrl() + " not done (key push.url): " + t);
      }
    }
  }
}

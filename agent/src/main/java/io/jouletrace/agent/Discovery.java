package io.jouletrace.agent;

import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.exporter.FileSdTarget;
import io.jouletrace.sources.cpu.SelfProcess;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Several JVMs on one host (a Spark driver and its executors): the Prometheus file_sd target of
 * this JVM ({@code prometheus.sd-file}), and the warning that {@code attribution=host} charges the
 * whole host to every one of them. Runs on the agent's own threads; every failure is one line.
 */
final class Discovery {

  private static final long SELF = SelfProcess.pid();
  private static final java.util.concurrent.atomic.AtomicBoolean WARNED =
      new java.util.concurrent.atomic.AtomicBoolean();

  private Discovery() {}

  /** This host's name, as in target file names; {@code localhost} when it cannot be found. */
  static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "localhost";
    }
  }

  /** The address Prometheus should scrape: the bind address, or the host name for a wildcard. */
  static String address(String bindHost, int port) {
    boolean wildcard =
        bindHost == null
            || bindHost.isEmpty()
            || bindHost.equals("0.0.0.0")
            || bindHost.equals("::")
            || bindHost.equals("[::]");
    String host = wildcard ? hostName() : bindHost;
    return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
  }

  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /**
   * Removes this host's stale target files, then writes this JVM's.
   *
   * @return the file written, or {@code null} when it could not be
   */
  static Path writeTarget(AgentConfig config, int port, Map<String, String> labels, Log log) {
    Path dir = config.prometheusSdFile();
    String host = hostName();
    try {
      for (Path stale : FileSdTarget.removeStale(dir, host, Discovery::alive)) {
        log.line("removed stale Prometheus target " + stale + " (its process is gone)");
      }
      Path f = FileSdTarget.write(dir, host, SELF, address(config.prometheusHost(), port), labels);
      log.debug("Prometheus target written: " + f);
      return f;
    } catch (Exception e) {
      log.line(
          "Prometheus target file not written in "
              + dir.toAbsolutePath()
              + " (prometheus.sd-file): "
              + e
              + "; /metrics is still served on port "
              + port);
      return null;
    }
  }

  /** Deletes the target file at exit. */
  static void removeTarget(Path file, Log log) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (Exception e) {
      log.line("Prometheus target " + file + " not removed: " + e);
    }
  }

  /**
   * Under {@code attribution=host}, warns (once) when other JouleTrace JVMs run on this host: every
   * one of them reports the whole host's energy, so their sum counts it several times. Others are
   * found by their live target files in {@code prometheus.sd-file} and by {@code -javaagent:} with
   * {@code jouletrace} on their command line (JVMs that got the agent through {@code
   * JAVA_TOOL_OPTIONS} or attach are seen only through the target files).
   */
  static void warnIfShared(AgentConfig config, Log log) {
    if (WARNED.get()) {
      return;
    }
    TreeSet<Long> peers = new TreeSet<>();
    try {
      peers.addAll(
          FileSdTarget.livePeers(config.prometheusSdFile(), hostName(), SELF, Discovery::alive));
      ProcessHandle.allProcesses()
          .filter(p -> p.pid() != SELF)
          .forEach(
              p -> {
                String cmd = p.info().commandLine().orElse("");
                if (cmd.contains("-javaagent:") && cmd.contains("jouletrace")) {
                  peers.add(p.pid());
                }
              });
    } catch (RuntimeException e) {
      return; // best effort
    }
    if (!peers.isEmpty() && WARNED.compareAndSet(false, true)) {
      List<Long> shown = List.copyOf(peers).subList(0, Math.min(5, peers.size()));
      log.line(
          "attribution=host with "
              + peers.size()
              + " other JouleTrace JVM(s) on this host (pid "
              + shown
              + (peers.size() > 5 ? "..." : "")
              + "): each reports the whole host's energy, so their sum counts it "
              + (peers.size() + 1)
              + " times; use attribution=process to charge each JVM its own share");
    }
  }
}

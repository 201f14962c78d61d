package io.jouletrace.exporter;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.function.Supplier;

/**
 * The pull endpoint: an HTTP server (daemon threads) answering {@code /metrics} from a registry of
 * JouleTrace's own, never the application's default registry.
 */
public final class PrometheusEndpoint implements AutoCloseable {

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final HTTPServer server;

  private PrometheusEndpoint(Supplier<EnergySnapshot> snapshots, String host, int port)
      throws IOException {
    registry.register(new EnergyMetrics(snapshots));
    HTTPServer.Builder builder = HTTPServer.builder().port(port).registry(registry);
    if (host != null && !host.isEmpty()) {
      builder.hostname(host);
    }
    this.server = builder.buildAndStart();
  }

  /**
   * Starts serving.
   *
   * @param snapshots read at each scrape
   * @param host bind address, or {@code null}/empty for all interfaces
   * @param port TCP port, 0 for any free port
   * @return the running endpoint
   * @throws IOException when the port cannot be bound
   */
  public static PrometheusEndpoint start(Supplier<EnergySnapshot> snapshots, String host, int port)
      throws IOException {
    return new PrometheusEndpoint(snapshots, host, port);
  }

  /**
   * Starts serving on the first free port of a range.
   *
   * @param snapshots read at each scrape
   * @param host bind address, or {@code null}/empty for all interfaces
   * @param first the first port to try; 0 for any free port
   * @param last the last port to try ({@code first} for one port)
   * @return the running endpoint
   * @throws IOException when no port of the range can be bound; its message names the range
   */
  public static PrometheusEndpoint start(
      Supplier<EnergySnapshot> snapshots, String host, int first, int last) throws IOException {
    if (first == 0 || last <= first) {
      return start(snapshots, host, first);
    }
    IOException lastFailure = null;
    for (int port = first; port <= last; port++) {
      try {
        return start(snapshots, host, port);
      } catch (IOException busy) {
        lastFailure = busy;
      }
    }
    throw new IOException(
        "no free port in " + first + "-" + last + " (last: " + lastFailure + ")", lastFailure);
  }

  /** Returns the bound port. */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.close();
  }
}

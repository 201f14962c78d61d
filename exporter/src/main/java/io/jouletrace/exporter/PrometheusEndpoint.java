package io.jouletrace.exporter;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.BindException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The pull endpoint: an HTTP server (daemon threads) answering {@code /metrics} from a registry of
 * JouleTrace's own, never the application's default registry.
 */
public final class PrometheusEndpoint implements AutoCloseable {

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final HTTPServer server;

  private PrometheusEndpoint(
      Supplier<EnergySnapshot> snapshots,
      String host,
      int port,
      EndpointSecurity security,
      ThreadFactory threads)
      throws IOException {
    registry.register(new EnergyMetrics(snapshots));
    HTTPServer.Builder builder = HTTPServer.builder().port(port).registry(registry);
    if (threads != null) {
      // Two threads answer requests (a scrape that hangs does not hold the others), made by the
      // caller so that it can count what serving costs; queued requests beyond 100 are refused.
      builder.executorService(
          new ThreadPoolExecutor(
              2, 2, 120, TimeUnit.SECONDS, new ArrayBlockingQueue<>(100), threads));
    }
    if (host != null && !host.isEmpty()) {
      builder.hostname(host);
    }
    // Checked before binding: a misconfigured TLS or password never serves the metrics in clear
    // or without authentication.
    if (security.tls()) {
      builder.httpsConfigurator(security.httpsConfigurator());
    }
    if (security.basicAuth()) {
      builder.authenticator(security.authenticator());
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
    return new PrometheusEndpoint(snapshots, host, port, EndpointSecurity.NONE, null);
  }

  /**
   * Starts serving over TLS and/or with basic authentication.
   *
   * @param snapshots read at each scrape
   * @param host bind address, or {@code null}/empty for all interfaces
   * @param port TCP port, 0 for any free port
   * @param security TLS and authentication; {@link EndpointSecurity#NONE} for neither
   * @return the running endpoint
   * @throws IOException when the port cannot be bound or the TLS or password settings are wrong
   *     (the message names the key)
   */
  public static PrometheusEndpoint start(
      Supplier<EnergySnapshot> snapshots, String host, int port, EndpointSecurity security)
      throws IOException {
    return new PrometheusEndpoint(snapshots, host, port, security, null);
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
    return start(snapshots, host, first, last, EndpointSecurity.NONE);
  }

  /**
   * Starts serving on the first free port of a range, over TLS and/or with basic authentication.
   *
   * @param snapshots read at each scrape
   * @param host bind address, or {@code null}/empty for all interfaces
   * @param first the first port to try; 0 for any free port
   * @param last the last port to try ({@code first} for one port)
   * @param security TLS and basic-auth settings
   * @return the running endpoint
   * @throws IOException when no port of the range can be bound; its message names the range
   */
  public static PrometheusEndpoint start(
      Supplier<EnergySnapshot> snapshots,
      String host,
      int first,
      int last,
      EndpointSecurity security)
      throws IOException {
    return start(snapshots, host, first, last, security, null);
  }

  /**
   * Starts serving on the first free port of a range, answering requests on threads of {@code
   * threads}, so that the caller can count what serving costs.
   *
   * @param snapshots read at each scrape
   * @param host bind address, or {@code null}/empty for all interfaces
   * @param first the first port to try; 0 for any free port
   * @param last the last port to try ({@code first} for one port)
   * @param security TLS and basic-auth settings
   * @param threads makes the threads that answer requests (daemons); {@code null} for the HTTP
   *     server's own
   * @return the running endpoint
   * @throws IOException when no port of the range can be bound (its message names the range), or at
   *     once for any other failure (a host that does not resolve, the TLS or password settings)
   */
  public static PrometheusEndpoint start(
      Supplier<EnergySnapshot> snapshots,
      String host,
      int first,
      int last,
      EndpointSecurity security,
      ThreadFactory threads)
      throws IOException {
    if (first == 0 || last <= first) {
      return new PrometheusEndpoint(snapshots, host, first, security, threads);
    }
    BindException lastFailure = null;
    for (int port = first; port <= last; port++) {
      try {
        return new PrometheusEndpoint(snapshots, host, port, security, threads);
      } catch (BindException busy) {
        lastFailure = busy; // only a port that cannot be bound sends it on to the next
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

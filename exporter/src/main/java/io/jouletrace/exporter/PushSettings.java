package io.jouletrace.exporter;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;

/**
 * Where and how to push to a Prometheus Pushgateway.
 *
 * <p>The grouping key is {@code job}, {@code instance} and {@code run_id}: parallel runs of one job
 * (ranks, retries) each keep their own group instead of overwriting each other's.
 *
 * @param url the gateway, {@code http://host:port} or {@code https://host:port[/prefix]}
 * @param job the {@code job} grouping key
 * @param instance the {@code instance} grouping key
 * @param runId the {@code run_id} grouping key
 * @param interval push this often while the job runs, or {@link Duration#ZERO} for only at exit
 * @param timeout longest a push may take; also the longest the JVM's exit waits for the last one
 */
public record PushSettings(
    URI url, String job, String instance, String runId, Duration interval, Duration timeout) {

  /** The grouping-key label that carries the run id. */
  public static final String RUN_ID_LABEL = "run_id";

  /**
   * Checks a gateway URL.
   *
   * @param s e.g. {@code http://127.0.0.1:9091}
   * @return the URL
   * @throws IllegalArgumentException when it is not an absolute http(s) URL with a host and port
   */
  public static URI parseUrl(String s) {
    URI u;
    try {
      u = new URI(s.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("scheme must be http or https: " + s);
    }
    if (u.getHost() == null || u.getPort() < 0) {
      throw new IllegalArgumentException("host and port required: " + s);
    }
    if (u.getQuery() != null || u.getFragment() != null || u.getUserInfo() != null) {
      throw new IllegalArgumentException("no query, fragment or user info: " + s);
    }
    return u;
  }

  /**
   * Returns {@code host:port} and any path prefix, as client_java's gateway address takes it.
   *
   * @return e.g. {@code 127.0.0.1:9091} or {@code gw.example:443/prefix}
   */
  public String address() {
    String path = url.getRawPath() == null ? "" : url.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return url.getHost() + ":" + url.getPort() + path;
  }

  /**
   * Returns the group's URL on the gateway, for messages.
   *
   * @return e.g. {@code http://127.0.0.1:9091/metrics/job/x/instance/h:1/run_id/abc}
   */
  public String groupUrl() {
    return url.getScheme()
        + "://"
        + address()
        + "/metrics/job/"
        + job
        + "/instance/"
        + instance
        + "/"
        + RUN_ID_LABEL
        + "/"
        + runId;
  }
}

package io.jouletrace.agent;

import java.net.BindException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.channels.UnresolvedAddressException;

/**
 * The line that says why {@code /metrics} did not start, with the setting to change: the port when
 * it is taken, the host when it does not resolve or is not an address of this machine, and the
 * setting the error names otherwise (TLS files, the password).
 */
final class EndpointFailure {

  private EndpointFailure() {}

  /**
   * @param host {@code prometheus.host}
   * @param ports {@code prometheus.port} as configured, e.g. {@code 9464} or {@code 9464-9470}
   * @param e why the endpoint did not start
   * @return one line, without the {@code jouletrace: } prefix
   */
  static String line(String host, String ports, Exception e) {
    return "Prometheus endpoint not started on "
        + host
        + ":"
        + ports
        + " ("
        + e
        + "); "
        + fix(host, e)
        + ". Measurement continues.";
  }

  private static String fix(String host, Exception e) {
    if (has(e, UnresolvedAddressException.class)) {
      return "prometheus.host '"
          + host
          + "' does not resolve: set it to an address of this machine (0.0.0.0: all), or set"
          + " prometheus.port=off";
    }
    if (has(e, BindException.class)) {
      if (!local(host)) {
        return "prometheus.host '"
            + host
            + "' is not an address of this machine: set it to one (0.0.0.0: all), or set"
            + " prometheus.port=off";
      }
      return "set prometheus.port to a free port, 0 (any), a wider range, or off";
    }
    return "fix the setting named above, or set prometheus.port=off";
  }

  private static boolean has(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code host} resolves to the wildcard, a loopback or an interface's address. */
  private static boolean local(String host) {
    try {
      InetAddress a = InetAddress.getByName(host);
      return a.isAnyLocalAddress()
          || a.isLoopbackAddress()
          || NetworkInterface.getByInetAddress(a) != null;
    } catch (Exception unknown) {
      return true; // cannot tell: the port is the likelier culprit
    }
  }
}

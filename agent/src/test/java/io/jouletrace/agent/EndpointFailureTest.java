package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.jouletrace.exporter.EndpointSecurity;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.PrometheusEndpoint;
import io.jouletrace.sources.Domain;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The line for an endpoint that did not start names the setting to change, from real failures. */
class EndpointFailureTest {

  private static final EnergySnapshot SNAPSHOT =
      new EnergySnapshot(
          Instant.EPOCH,
          null,
          1,
          "training",
          Map.of(),
          "process",
          Map.of(Domain.CPU, "estimated"),
          List.of(),
          List.of(new EnergySnapshot.PhaseEnergy("other", 1, Map.of(Domain.CPU, 1.0), 0, 0)),
          new EnergySnapshot.CarbonFactors(475, "test", 1, 1000, 150, 4, 1),
          List.of(),
          List.of(),
          null);

  private static IOException failure(String host, int first, int last, EndpointSecurity s) {
    return catchThrowableOfType(
        IOException.class,
        () -> PrometheusEndpoint.start(() -> SNAPSHOT, host, first, last, s, null));
  }

  @Test
  void aTakenPortAsksForAnotherPort() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int p = taken.getLocalPort();
      IOException e = failure("127.0.0.1", p, p, EndpointSecurity.NONE);
      assertThat(EndpointFailure.line("127.0.0.1", Integer.toString(p), e))
          .startsWith("Prometheus endpoint not started on 127.0.0.1:" + p + " (")
          .contains("set prometheus.port to a free port", "Measurement continues.")
          .doesNotContain("prometheus.host");
    }
  }

  @Test
  void aHostThatDoesNotResolveOrIsNotThisMachinesAsksForAnotherHost() throws Exception {
    // .invalid never resolves (RFC 6761); 192.0.2.1 is for documentation only (RFC 5737).
    IOException unresolved = failure("no-such-host.invalid", 0, 0, EndpointSecurity.NONE);
    assertThat(EndpointFailure.line("no-such-host.invalid", "9464", unresolved))
        .contains("prometheus.host 'no-such-host.invalid' does not resolve", "prometheus.port=off")
        .doesNotContain("free port");
    IOException foreign = failure("192.0.2.1", 0, 0, EndpointSecurity.NONE);
    assertThat(EndpointFailure.line("192.0.2.1", "0", foreign))
        .contains("prometheus.host '192.0.2.1' is not an address of this machine")
        .doesNotContain("free port");
    // In a range, every port fails the same way: the host is still named.
    try (ServerSocket probe = new ServerSocket(0)) {
      int p = probe.getLocalPort();
      IOException range = failure("192.0.2.1", p, p + 2, EndpointSecurity.NONE);
      assertThat(EndpointFailure.line("192.0.2.1", p + "-" + (p + 2), range))
          .contains("no free port in", "prometheus.host '192.0.2.1' is not an address");
    }
  }

  @Test
  void aBadTlsFileAsksForThatSettingNotForAPort(@TempDir Path dir) throws Exception {
    IOException e =
        failure(
            "127.0.0.1",
            0,
            0,
            new EndpointSecurity(
                dir.resolve("missing.pem"), dir.resolve("key.pem"), null, null, null, null));
    assertThat(EndpointFailure.line("127.0.0.1", "0", e))
        .contains("prometheus.tls.cert", "fix the setting named above, or set prometheus.port=off")
        .doesNotContain("free port");
  }
}

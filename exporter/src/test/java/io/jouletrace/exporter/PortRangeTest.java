package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The endpoint takes any free port, or the first free one of a range. */
class PortRangeTest {

  @Test
  void portZeroTakesAnyFreePort() throws IOException {
    try (PrometheusEndpoint e = PrometheusEndpoint.start(Snapshots::known, "127.0.0.1", 0, 0)) {
      assertThat(e.port()).isPositive();
    }
  }

  @Test
  void aRangeSkipsBusyPortsAndNamesItselfWhenFull() throws IOException {
    ServerSocket[] two = twoConsecutivePorts();
    int first = two[0].getLocalPort();
    try {
      assertThatThrownBy(
              () -> PrometheusEndpoint.start(Snapshots::known, "127.0.0.1", first, first + 1))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("no free port in " + first + "-" + (first + 1));
      two[1].close();
      try (PrometheusEndpoint e =
          PrometheusEndpoint.start(Snapshots::known, "127.0.0.1", first, first + 1)) {
        assertThat(e.port()).isEqualTo(first + 1);
      }
    } finally {
      two[0].close();
      two[1].close();
    }
  }

  /** Two sockets bound to ports p and p + 1 on 127.0.0.1. */
  private static ServerSocket[] twoConsecutivePorts() throws IOException {
    InetAddress lo = InetAddress.getByName("127.0.0.1");
    for (int attempt = 0; attempt < 100; attempt++) {
      ServerSocket a = new ServerSocket(0, 1, lo);
      try {
        return new ServerSocket[] {a, new ServerSocket(a.getLocalPort() + 1, 1, lo)};
      } catch (IOException taken) {
        a.close();
      }
    }
    throw new IllegalStateException("no two consecutive free ports");
  }
}

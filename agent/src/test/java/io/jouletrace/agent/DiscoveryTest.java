package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DiscoveryTest {

  @Test
  void aWildcardBindAddressIsScrapedThroughTheHostName() {
    String host = Discovery.hostName();
    assertThat(Discovery.address("0.0.0.0", 9464)).isEqualTo(host + ":9464");
    assertThat(Discovery.address("", 9464)).isEqualTo(host + ":9464");
    assertThat(Discovery.address("::", 9464)).isEqualTo(host + ":9464");
  }

  @Test
  void aSpecificBindAddressIsScrapedAsIsWithIpv6InBrackets() {
    assertThat(Discovery.address("127.0.0.1", 9465)).isEqualTo("127.0.0.1:9465");
    assertThat(Discovery.address("::1", 9465)).isEqualTo("[::1]:9465");
    assertThat(Discovery.address("[::1]", 9465)).isEqualTo("[::1]:9465");
  }

  @Test
  void aliveKnowsThisProcessAndNotAFinishedOne() throws Exception {
    assertThat(Discovery.alive(ProcessHandle.current().pid())).isTrue();
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    assertThat(Discovery.alive(p.pid())).isFalse();
  }
}

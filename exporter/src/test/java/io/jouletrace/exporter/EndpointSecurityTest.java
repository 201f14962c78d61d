package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /metrics over TLS with basic authentication, checked by clients that verify the certificate. */
class EndpointSecurityTest {

  static final String STORE_PASS = "store-secret-1";
  static final String PASSWORD = "s3cret-Passw0rd";

  @TempDir static Path dir;
  static Path keystore;
  static Path certPem;
  static Path keyPem;
  static Certificate cert;

  /** A self-signed certificate for 127.0.0.1, made with the JDK's keytool. */
  @BeforeAll
  static void certificate() throws Exception {
    keystore = dir.resolve("server.p12");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "jouletrace",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "san=ip:127.0.0.1",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                STORE_PASS,
                "-keypass",
                STORE_PASS)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    KeyStore ks = KeyStore.getInstance(keystore.toFile(), STORE_PASS.toCharArray());
    cert = ks.getCertificate("jouletrace");
    certPem = dir.resolve("cert.pem");
    keyPem = dir.resolve("key.pem");
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
    Files.writeString(
        keyPem, pem("PRIVATE KEY", ks.getKey("jouletrace", STORE_PASS.toCharArray()).getEncoded()));
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /** A client that trusts only our certificate, and checks the host name against it. */
  static HttpClient trustingClient() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("server", cert);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
  }

  static HttpResponse<String> get(HttpClient c, int port, String auth) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(10));
    if (auth != null) {
      b.header(
          "Authorization",
          "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
    }
    return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void pemCertificateAndBasicAuth() throws Exception {
    EndpointSecurity sec = new EndpointSecurity(certPem, keyPem, null, null, "prom", PASSWORD);
    try (PrometheusEndpoint e = PrometheusEndpoint.start(Snapshots::known, "127.0.0.1", 0, sec)) {
      HttpClient client = trustingClient();
      assertThat(get(client, e.port(), null).statusCode()).isEqualTo(401);
      assertThat(get(client, e.port(), "prom:wrong").statusCode()).isEqualTo(401);
      assertThat(get(client, e.port(), "other:" + PASSWORD).statusCode()).isEqualTo(401);
      HttpResponse<String> ok = get(client, e.port(), "prom:" + PASSWORD);
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body()).contains("jouletrace_energy_joules_total{");
      // A client that trusts only the usual authorities refuses the self-signed certificate.
      HttpClient strict = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      assertThatThrownBy(() -> get(strict, e.port(), "prom:" + PASSWORD))
          .isInstanceOf(SSLHandshakeException.class);
    }
    assertThat(sec.toString()).doesNotContain(PASSWORD);
  }

  @Test
  void keystoreWithoutAuthentication() throws Exception {
    EndpointSecurity sec = new EndpointSecurity(null, null, keystore, STORE_PASS, null, null);
    try (PrometheusEndpoint e = PrometheusEndpoint.start(Snapshots::known, "127.0.0.1", 0, sec)) {
      HttpResponse<String> ok = get(trustingClient(), e.port(), null);
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body()).contains("jouletrace_phase_seconds_total{");
    }
  }

  @Test
  void aPortRangeMovesOnOnlyFromPortsThatCannotBeBound() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int p = taken.getLocalPort();
      // A bad certificate is the same on every port: said at once, not as "no free port".
      assertThatThrownBy(
              () ->
                  PrometheusEndpoint.start(
                      Snapshots::known,
                      "127.0.0.1",
                      p,
                      p + 1,
                      new EndpointSecurity(
                          dir.resolve("missing.pem"), keyPem, null, null, null, null)))
          .isInstanceOf(NoSuchFileException.class)
          .hasMessageContaining("prometheus.tls.cert");
      // A taken port is skipped for the next one.
      try (PrometheusEndpoint e =
          PrometheusEndpoint.start(
              Snapshots::known, "127.0.0.1", p, p + 20, EndpointSecurity.NONE)) {
        assertThat(e.port()).isGreaterThan(p).isLessThanOrEqualTo(p + 20);
      }
    }
  }

  @Test
  void badSettingsNameTheirKeyAndNeverThePassword() throws Exception {
    assertThatThrownBy(
            () ->
                PrometheusEndpoint.start(
                    Snapshots::known,
                    "127.0.0.1",
                    0,
                    new EndpointSecurity(
                        dir.resolve("missing.pem"), keyPem, null, null, null, null)))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("prometheus.tls.cert")
        .hasMessageContaining("missing.pem");
    assertThatThrownBy(
            () ->
                PrometheusEndpoint.start(
                    Snapshots::known,
                    "127.0.0.1",
                    0,
                    new EndpointSecurity(certPem, null, null, null, null, null)))
        .hasMessageContaining("prometheus.tls.key is not");
    assertThatThrownBy(
            () ->
                PrometheusEndpoint.start(
                    Snapshots::known,
                    "127.0.0.1",
                    0,
                    new EndpointSecurity(null, null, keystore, "wrong-" + STORE_PASS, null, null)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("prometheus.tls.keystore.password")
        .satisfies(t -> assertThat(t.getMessage()).doesNotContain(STORE_PASS));
    assertThatThrownBy(
            () ->
                PrometheusEndpoint.start(
                    Snapshots::known,
                    "127.0.0.1",
                    0,
                    new EndpointSecurity(null, null, null, null, "prom", null)))
        .hasMessageContaining("prometheus.user is set but no password");
    assertThatThrownBy(
            () ->
                PrometheusEndpoint.start(
                    Snapshots::known,
                    "127.0.0.1",
                    0,
                    new EndpointSecurity(null, null, null, null, null, PASSWORD)))
        .hasMessageContaining("prometheus.user is not")
        .satisfies(t -> assertThat(t.getMessage()).doesNotContain(PASSWORD));
    // An unreadable certificate (a folder here: file modes do not stop root) is named too.
    assertThatThrownBy(
            () -> new EndpointSecurity(dir, keyPem, null, null, null, null).httpsConfigurator())
        .hasMessageContaining("not a readable file (prometheus.tls.cert)");
    // A key file that is not PKCS#8 says how to convert it.
    Path pkcs1 = dir.resolve("rsa.pem");
    Files.writeString(
        pkcs1, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(
            () -> new EndpointSecurity(certPem, pkcs1, null, null, null, null).httpsConfigurator())
        .hasMessageContaining("openssl pkcs8");
    try (InputStream unused = Files.newInputStream(certPem)) {
      assertThat(unused.read()).isPositive();
    }
  }
}

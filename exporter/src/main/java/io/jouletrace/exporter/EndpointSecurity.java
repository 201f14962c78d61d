package io.jouletrace.exporter;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpsConfigurator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * TLS and basic authentication of the {@code /metrics} endpoint. TLS takes either a PEM certificate
 * chain and an unencrypted PKCS#8 PEM key, or a key store (PKCS#12 or JKS) with its password. Basic
 * authentication takes a user and a password. Passwords never appear in {@link #toString()} or in
 * any message.
 *
 * @param certPem PEM certificate chain ({@code prometheus.tls.cert}), or {@code null}
 * @param keyPem PEM private key ({@code prometheus.tls.key}), or {@code null}
 * @param keystore key store ({@code prometheus.tls.keystore}), or {@code null}
 * @param keystorePassword its password ({@code prometheus.tls.keystore.password}), or {@code null}
 * @param user basic-auth user ({@code prometheus.user}), or {@code null}
 * @param password basic-auth password ({@code prometheus.password}), or {@code null}
 */
public record EndpointSecurity(
    Path certPem,
    Path keyPem,
    Path keystore,
    String keystorePassword,
    String user,
    String password) {

  /** Plain HTTP, no authentication. */
  public static final EndpointSecurity NONE =
      new EndpointSecurity(null, null, null, null, null, null);

  /** Returns {@code true} when TLS is asked for. */
  public boolean tls() {
    return certPem != null || keyPem != null || keystore != null;
  }

  /** Returns {@code true} when basic authentication is asked for. */
  public boolean basicAuth() {
    return user != null || password != null;
  }

  /**
   * Builds the TLS configuration.
   *
   * @return the configurator
   * @throws IOException naming the key and file at fault
   */
  public HttpsConfigurator httpsConfigurator() throws IOException {
    SSLContext ssl;
    try {
      KeyStore ks;
      char[] pass;
      if (keystore != null) {
        if (certPem != null || keyPem != null) {
          throw new IOException(
              "set either prometheus.tls.keystore or prometheus.tls.cert and prometheus.tls.key,"
                  + " not both");
        }
        if (keystorePassword == null) {
          throw new IOException(
              "prometheus.tls.keystore is set but prometheus.tls.keystore.password is not");
        }
        pass = keystorePassword.toCharArray();
        readable(keystore, "prometheus.tls.keystore");
        try {
          ks = KeyStore.getInstance(keystore.toFile(), pass);
        } catch (IOException | GeneralSecurityException e) {
          throw new IOException(
              "cannot open key store "
                  + keystore
                  + " (prometheus.tls.keystore): "
                  + e.getMessage()
                  + " (wrong prometheus.tls.keystore.password, or not PKCS#12/JKS)");
        }
      } else {
        if (certPem == null || keyPem == null) {
          throw new IOException(
              (certPem == null ? "prometheus.tls.key" : "prometheus.tls.cert")
                  + " is set but "
                  + (certPem == null ? "prometheus.tls.cert" : "prometheus.tls.key")
                  + " is not");
        }
        Certificate[] chain = readCertificates(certPem);
        PrivateKey key = readKey(keyPem);
        pass = new char[0];
        ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("jouletrace", key, pass, chain);
      }
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pass);
      ssl = SSLContext.getInstance("TLS");
      ssl.init(kmf.getKeyManagers(), null, null);
    } catch (GeneralSecurityException e) {
      throw new IOException("TLS set-up failed: " + e, e);
    }
    return new HttpsConfigurator(ssl);
  }

  private static void readable(Path file, String key) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, "missing (" + key + ")");
    }
    if (!Files.isReadable(file) || Files.isDirectory(file)) {
      throw new AccessDeniedException(file.toString(), null, "not a readable file (" + key + ")");
    }
  }

  private static Certificate[] readCertificates(Path file) throws IOException {
    readable(file, "prometheus.tls.cert");
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new IOException("no certificate in " + file + " (prometheus.tls.cert)");
      }
      return certs.toArray(new Certificate[0]);
    } catch (GeneralSecurityException e) {
      throw new IOException(
          "not a PEM certificate: " + file + " (prometheus.tls.cert): " + e.getMessage());
    }
  }

  private static PrivateKey readKey(Path file) throws IOException {
    readable(file, "prometheus.tls.key");
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    String begin = "-----BEGIN PRIVATE KEY-----";
    int from = pem.indexOf(begin);
    int to = pem.indexOf("-----END PRIVATE KEY-----");
    if (from < 0 || to < from) {
      throw new IOException(
          "no unencrypted PKCS#8 key ('"
              + begin
              + "') in "
              + file
              + " (prometheus.tls.key); convert with: openssl pkcs8 -topk8 -nocrypt -in KEY -out"
              + " KEY8");
    }
    byte[] der =
        Base64.getMimeDecoder()
            .decode(pem.substring(from + begin.length(), to).getBytes(StandardCharsets.US_ASCII));
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String alg : new String[] {"RSA", "EC", "Ed25519", "DSA"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (GeneralSecurityException tryNext) {
        // the PKCS#8 header names the algorithm; the key factory of another one refuses it
      }
    }
    throw new IOException("unsupported private key in " + file + " (prometheus.tls.key)");
  }

  /**
   * Builds the basic authenticator.
   *
   * @return the authenticator
   * @throws IOException when only one of user and password is set
   */
  public BasicAuthenticator authenticator() throws IOException {
    if (user == null || user.isEmpty()) {
      throw new IOException("prometheus.password is set but prometheus.user is not");
    }
    if (password == null || password.isEmpty()) {
      throw new IOException(
          "prometheus.user is set but no password: set prometheus.password (e.g. in the"
              + " environment as JOULETRACE_PROMETHEUS_PASSWORD)");
    }
    byte[] wantUser = user.getBytes(StandardCharsets.UTF_8);
    byte[] wantPass = password.getBytes(StandardCharsets.UTF_8);
    return new BasicAuthenticator("jouletrace") {
      @Override
      public boolean checkCredentials(String u, String p) {
        // Both compared in full, in constant time, so timing tells nothing about either.
        boolean a = MessageDigest.isEqual(wantUser, u.getBytes(StandardCharsets.UTF_8));
        boolean b = MessageDigest.isEqual(wantPass, p.getBytes(StandardCharsets.UTF_8));
        return a & b;
      }
    };
  }

  @Override
  public String toString() {
    return "EndpointSecurity[tls="
        + tls()
        + ", certPem="
        + certPem
        + ", keyPem="
        + keyPem
        + ", keystore="
        + keystore
        + ", user="
        + user
        + ", password="
        + (password == null ? "unset" : "****")
        + "]";
  }
}

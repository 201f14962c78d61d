package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built agent asks a local server that plays the Electricity Maps v3 API (127.0.0.1 only): the
 * intensity changes during the run, faults fall back, and the token appears in no output.
 */
class CarbonApiIT {

  private static final String TOKEN = "it-secret-token-0xC0FFEE";

  private HttpServer server;
  private final AtomicInteger latestCalls = new AtomicInteger();
  private final AtomicInteger unauthorised = new AtomicInteger();
  private volatile int status = 200;

  private void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v3/carbon-intensity/", this::handle);
    server.start();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    if (!TOKEN.equals(ex.getRequestHeaders().getFirst("auth-token"))) {
      unauthorised.incrementAndGet();
      ex.sendResponseHeaders(401, -1);
      ex.close();
      return;
    }
    if (ex.getRequestURI().getPath().endsWith("/history")) {
      ex.sendResponseHeaders(404, -1); // a free tier without history: latest is asked next
      ex.close();
      return;
    }
    int n = latestCalls.incrementAndGet();
    // 300 g/kWh at first, 120 g/kWh from the second answer on
    double g = n == 1 ? 300 : 120;
    String body =
        "{\"zone\":\"DE\",\"carbonIntensity\":"
            + g
            + ",\"datetime\":\"2026-11-29T"
            + (n == 1 ? "10" : "11")
            + ":00:00.000Z\",\"emissionFactorType\":\"lifecycle\",\"isEstimated\":"
            + (n > 1)
            + "}";
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, status == 200 ? b.length : -1);
    if (status == 200) {
      ex.getResponseBody().write(b);
    }
    ex.close();
  }

  private String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v3";
  }

  @Test
  void intensityChangingDuringTheRunIsChargedPerSegmentAndTheTokenIsNowhere(@TempDir Path dir)
      throws Exception {
    start();
    int port = DjlExampleIT.freePort();
    Path report = dir.resolve("report.json");
    Path release = dir.resolve("release");
    try (FakePowercap rapl =
        new FakePowercap(dir.resolve("powercap"))
            .zone("intel-rapl:0", "package-0", 20, 262_143_328_850L, 0)
            .start()) {
      ForkedJvm.Running run =
          new ForkedJvm(dir)
              .env("ELECTRICITYMAPS_TOKEN", TOKEN)
              .agent(
                  "powercap.root="
                      + rapl.root()
                      + ",attribution=host,interval=50ms,carbon.api=electricitymaps,carbon.api.url="
                      + url()
                      + ",carbon.zone=DE,carbon.api.refresh=100ms,pue=1.2,"
                      + "carbon.market.renewable-share=0.5,prometheus.host=127.0.0.1,prometheus.port="
                      + port
                      + ",report.json="
                      + report)
              .arg(
                  "-cp",
                  ForkedJvm.appClassPath(),
                  "io.jouletrace.it.apps.CarbonApp",
                  release.toString())
              .start();
      // The run goes on until the agent has had the changed intensity for a few refreshes and
      // /metrics shows the work units.
      String metrics =
          DjlExampleIT.scrapeUntil(
              port, "jouletrace_work_units_total{", Duration.ofSeconds(60), run);
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (latestCalls.get() < 4 && System.nanoTime() < deadline && run.process().isAlive()) {
        Thread.sleep(20);
      }
      metrics = scrape(port);
      Files.createFile(release);
      ForkedJvm.Result r = run.await(60);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(latestCalls.get()).isGreaterThanOrEqualTo(4);
      assertThat(unauthorised.get()).isZero();

      String json = Files.readString(report);
      String statement = Files.readString(dir.resolve("report.statement.md"));
      for (String out : new String[] {r.stderr(), r.stdout(), json, statement, metrics}) {
        assertThat(out).doesNotContain(TOKEN);
      }
      assertThat(metrics)
          .contains("jouletrace_market_co2e_grams_total{")
          .containsPattern(
              "jouletrace_work_units_total\\{phase=\"work\",run_id=\"[^\"]+\",stage=\"training\",unit=\"tokens\"} [1-9]");

      JsonNode root = new ObjectMapper().readTree(json);
      JsonNode segments = root.at("/intensity/segments");
      assertThat(segments.size()).isGreaterThanOrEqualTo(2);
      assertThat(segments.get(0).get("gramsPerKwh").asDouble()).isEqualTo(300);
      assertThat(segments.get(segments.size() - 1).get("gramsPerKwh").asDouble()).isEqualTo(120);
      assertThat(segments.get(segments.size() - 1).get("estimated").asBoolean()).isTrue();
      assertThat(segments.get(0).get("source").asText()).contains("electricitymaps DE");
      // Ground truth from the segments: joules x g/kWh x PUE / 3.6e6 J/kWh, and no joule lost.
      double grams = 0;
      double joules = 0;
      for (JsonNode s : segments) {
        grams += s.get("joules").asDouble() * s.get("gramsPerKwh").asDouble() * 1.2 / 3.6e6;
        joules += s.get("joules").asDouble();
      }
      double total = root.at("/totals/joules/total").asDouble();
      assertThat(joules).isCloseTo(total, within(1e-9 * total));
      assertThat(root.at("/totals/co2eGrams/operational").asDouble())
          .isCloseTo(grams, within(1e-9 * grams));
      assertThat(root.at("/market/operationalGrams").asDouble())
          .isCloseTo(grams * 0.5, within(1e-9 * grams));
      long counted = Long.parseLong(r.stdout().replaceAll("(?s).*counted (\\d+) tokens.*", "$1"));
      assertThat(root.at("/efficiency/lines/0/units").asLong()).isEqualTo(counted);
      assertThat(statement).contains("co2_eq_emissions:", "geographical_location: \"DE\"");
    }
  }

  @Test
  void apiFailingAtStartFallsBackToTheZoneTableAndTheRunGoesOn(@TempDir Path dir) throws Exception {
    start();
    status = 500;
    Path report = dir.resolve("report.json");
    Path release = dir.resolve("release");
    ForkedJvm.Running run =
        new ForkedJvm(dir)
            .env("ELECTRICITYMAPS_TOKEN", TOKEN)
            .agent(
                "carbon.api=electricitymaps,carbon.api.url="
                    + url()
                    + ",carbon.zone=FR,carbon.api.refresh=100ms,prometheus.port=off,report.json="
                    + report)
            .arg(
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.CarbonApp",
                release.toString())
            .start();
    // Let the agent try (three attempts with back-off) and fail at least once, then end the run.
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (latestCalls.get() < 4 && System.nanoTime() < deadline && run.process().isAlive()) {
      Thread.sleep(20);
    }
    Files.createFile(release);
    ForkedJvm.Result r = run.await(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    String json = Files.readString(report);
    assertThat(r.stderr()).doesNotContain(TOKEN);
    assertThat(json).doesNotContain(TOKEN);
    assertThat(r.stderr().lines().filter(l -> l.contains("HTTP 500")).count()).isEqualTo(1);
    assertThat(r.stderr()).contains("carbon.api=electricitymaps: HTTP 500", "zone table: FR");
    JsonNode root = new ObjectMapper().readTree(json);
    JsonNode segments = root.at("/intensity/segments");
    assertThat(segments.size()).isPositive();
    for (JsonNode s : segments) {
      // France, Our World in Data 2023, from the bundled table
      assertThat(s.get("gramsPerKwh").asDouble()).isEqualTo(56.039);
      assertThat(s.get("source").asText())
          .contains("zone table: FR", "electricitymaps unavailable: HTTP 500");
    }
    assertThat(root.at("/totals/co2eGrams/operational").asDouble()).isPositive();
  }

  private static String scrape(int port) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    return client
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}

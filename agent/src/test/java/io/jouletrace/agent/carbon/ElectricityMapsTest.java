package io.jouletrace.agent.carbon;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.jouletrace.agent.Log;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A local server plays the Electricity Maps v3 API, on 127.0.0.1 only. */
class ElectricityMapsTest {

  private static final String TOKEN = "em-secret-token-4711";
  private static final long T0 = Instant.parse("2026-11-29T10:00:00Z").toEpochMilli();

  /** What the server answers next: status and body per endpoint; null body: never ends. */
  private volatile int status = 200;

  private volatile String latest = latest(300, "2026-11-29T10:00:00.000Z", false);
  private volatile String history = null;
  private volatile boolean hang;
  private final List<String> tokensSeen = Collections.synchronizedList(new ArrayList<>());
  private final List<String> queries = Collections.synchronizedList(new ArrayList<>());
  private final CountDownLatch release = new CountDownLatch(1);
  private HttpServer server;
  private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
  private long now = T0;

  static String latest(double g, String datetime, boolean estimated) {
    return "{\"zone\":\"DE\",\"carbonIntensity\":"
        + g
        + ",\"datetime\":\""
        + datetime
        + "\",\"updatedAt\":\"2026-11-29T10:05:00.000Z\",\"createdAt\":\"2026-11-26T10:00:00.000Z\","
        + "\"emissionFactorType\":\"lifecycle\",\"isEstimated\":"
        + estimated
        + ",\"estimationMethod\":null}";
  }

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v3/carbon-intensity/", this::handle);
    server.start();
  }

  @AfterEach
  void stop() {
    release.countDown();
    server.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    tokensSeen.add(ex.getRequestHeaders().getFirst("auth-token"));
    queries.add(ex.getRequestURI().toString());
    String path = ex.getRequestURI().getPath();
    String body = path.endsWith("/history") ? history : latest;
    if (body == null) {
      ex.sendResponseHeaders(404, -1);
      ex.close();
      return;
    }
    if (hang) {
      // Headers, then a body that never ends (until the test is over).
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      out.write("{\"carbonIntensity\":".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.close();
      return;
    }
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }

  private ElectricityMaps client(IntensityTimeline fallback) {
    return new ElectricityMaps(
        new ElectricityMaps.Settings(
            "http://127.0.0.1:" + server.getAddress().getPort() + "/v3/",
            TOKEN,
            "DE",
            Double.NaN,
            Double.NaN,
            "lifecycle",
            Duration.ofMinutes(15),
            Duration.ofMillis(300),
            3,
            Duration.ofMillis(1)),
        fallback,
        () -> now,
        new Log(lines::add));
  }

  private static final IntensityTimeline TABLE =
      IntensityTimeline.fixed(380.95, "zone table: DE (owid 2023)", "lifecycle");

  @Test
  void changingIntensityOverTheRunIsChargedAtTheValueInForce() throws Exception {
    ElectricityMaps em = client(TABLE);
    em.loadInitial(); // no history here (404): latest, which holds from the start
    now = T0 + 60_000;
    latest = latest(120, "2026-11-29T11:00:00.000Z", true);
    em.refresh();

    List<IntensityPoint> p = em.timeline().points();
    assertThat(p).hasSize(2);
    assertThat(p.get(0).fromMillis()).isEqualTo(Long.MIN_VALUE);
    assertThat(p.get(0).gramsPerKwh()).isEqualTo(300);
    assertThat(p.get(1).fromMillis()).isEqualTo(T0 + 60_000);
    assertThat(p.get(1).estimated()).isTrue();
    assertThat(queries)
        .allMatch(q -> q.contains("zone=DE") && q.contains("emissionFactorType=lifecycle"));
    assertThat(tokensSeen).containsOnly(TOKEN);

    // 2 min of 1 kW: 1 min at 300 g/kWh, 1 min at 120 g/kWh
    CarbonStage stage =
        new CarbonStage(
            new CarbonStage.Settings(
                1.0, Double.NaN, Double.NaN, 0, "t", 0, null, 4, 1, 0, "pre-training"),
            new io.jouletrace.agent.phase.PhaseRegistry(8, w -> {}),
            8,
            0,
            T0,
            lines::add);
    stage.provider(em);
    stage.energy(0, io.jouletrace.sources.Domain.CPU, 120_000, 0, 120_000_000_000L);
    double kwhPerMinute = 60_000 / 3.6e6;
    var s = stage.apply(CarbonTestSnapshots.other());
    assertThat(s.phases().get(0).operationalGrams())
        .isCloseTo(
            kwhPerMinute * 300 + kwhPerMinute * 120, org.assertj.core.api.Assertions.within(1e-12));
    assertThat(s.detail().segments()).hasSize(2);
    assertThat(s.detail().segments().get(1).estimated()).isTrue();
    assertThat(s.detail().segments().get(1).source()).contains("electricitymaps DE");
    assertThat(lines).isEmpty();
  }

  @Test
  void historyAtStartGivesTheValuesOfTheLastHours() throws Exception {
    history =
        "{\"zone\":\"DE\",\"history\":["
            + latest(410, "2026-11-29T08:00:00.000Z", false)
            + ","
            + latest(390, "2026-11-29T09:00:00.000Z", false)
            + "]}";
    ElectricityMaps em = client(TABLE);
    em.loadInitial();
    List<IntensityPoint> p = em.timeline().points();
    assertThat(p).extracting(IntensityPoint::gramsPerKwh).containsExactly(410.0, 390.0);
    assertThat(p.get(1).fromMillis())
        .isEqualTo(Instant.parse("2026-11-29T09:00:00Z").toEpochMilli());
    assertThat(queries.get(0)).contains("/carbon-intensity/history?zone=DE");
  }

  @Test
  void eachFaultFallsBackLabelledAndIsReportedOnceWithoutTheToken() throws Exception {
    status = 401;
    ElectricityMaps em = client(TABLE);
    em.refresh();
    assertThat(last(em).source())
        .contains("zone table: DE", "electricitymaps unavailable: HTTP 401");
    assertThat(last(em).gramsPerKwh()).isEqualTo(380.95);
    assertThat(queries).hasSize(1); // a refused token is not retried

    status = 429;
    em.refresh();
    assertThat(last(em).source()).contains("HTTP 429");
    status = 500;
    em.refresh();
    em.refresh(); // same fault again: no second line
    assertThat(last(em).source()).contains("HTTP 500");
    assertThat(queries).hasSize(1 + 3 + 3 + 3); // retried with back-off

    status = 200;
    latest = "{\"carbonIntensity\": oops";
    em.refresh();
    assertThat(last(em).source()).contains("bad JSON");

    // Good, then down mid-run: the last good value, labelled.
    latest = latest(250, "2026-11-29T10:00:00.000Z", false);
    now = T0 + 1000;
    em.refresh();
    assertThat(last(em).gramsPerKwh()).isEqualTo(250);
    hang = true;
    now = T0 + 2000;
    em.refresh();
    assertThat(last(em).source()).contains("last good value", "timeout after 300 ms");
    assertThat(last(em).gramsPerKwh()).isEqualTo(250);

    assertThat(lines).hasSize(5);
    assertThat(lines)
        .anyMatch(l -> l.contains("HTTP 401"))
        .anyMatch(l -> l.contains("HTTP 429"))
        .anyMatch(l -> l.contains("HTTP 500"))
        .anyMatch(l -> l.contains("bad JSON"))
        .anyMatch(l -> l.contains("timeout"));
    assertThat(lines).noneMatch(l -> l.contains(TOKEN));
    assertThat(String.valueOf(em.timeline())).doesNotContain(TOKEN);
  }

  @Test
  void serverDownAtStartFallsBackToTheStaticDefaultWhenNoZoneRow() throws Exception {
    server.stop(0);
    ElectricityMaps em =
        client(
            IntensityTimeline.fixed(
                475, "default 475 g/kWh: world average (CodeCarbon)", "lifecycle"));
    em.loadInitial();
    assertThat(last(em).gramsPerKwh()).isEqualTo(475);
    assertThat(last(em).source()).contains("default 475", "electricitymaps unavailable");
    assertThat(lines).singleElement().asString().doesNotContain(TOKEN);
  }

  @Test
  void aTokenGivenAsAKeyIsInNoConfigurationMessageAndTheChainStartsTheClient() throws Exception {
    var c =
        io.jouletrace.agent.config.ConfigLoader.load(
            "carbon.api.token="
                + TOKEN
                + ",carbon.api=electricitymap,carbon.api.refresh=1ms,carbon.zone=DE",
            new java.util.Properties(),
            java.util.Map.of());
    assertThat(c.errors()).hasSize(2); // a misspelt provider and a refresh below its minimum
    assertThat(c.errors()).noneMatch(l -> l.contains(TOKEN));
    var good =
        io.jouletrace.agent.config.ConfigLoader.load(
            "carbon.api=electricitymaps,carbon.zone=DE,carbon.api.url="
                + "http://127.0.0.1:"
                + server.getAddress().getPort()
                + "/v3",
            new java.util.Properties(),
            java.util.Map.of(Intensities.TOKEN_ENV, TOKEN));
    IntensityProvider p =
        Intensities.open(
            good,
            java.util.Map.of(Intensities.TOKEN_ENV, TOKEN),
            new Log(lines::add),
            () -> now,
            true);
    try {
      assertThat(p).isInstanceOf(ElectricityMaps.class);
      assertThat(p.zone()).isEqualTo("DE");
    } finally {
      p.close();
    }
  }

  private static IntensityPoint last(ElectricityMaps em) {
    List<IntensityPoint> p = em.timeline().points();
    return p.get(p.size() - 1);
  }

  @Test
  void aRunThatEndsBeforeAnyAnswerSaysWhatItWasChargedAt() {
    var c =
        io.jouletrace.agent.config.ConfigLoader.load(
            "carbon.api=electricitymaps,carbon.zone=DE",
            new java.util.Properties(),
            java.util.Map.of());
    List<String> said = new ArrayList<>();
    IntensityProvider p =
        Intensities.open(c, java.util.Map.of(), new Log(said::add), () -> now, false);
    assertThat(p.timeline().points().get(0).source())
        .startsWith("zone table: DE")
        .endsWith("(electricitymaps not reached before exit)");
    assertThat(said)
        .singleElement()
        .asString()
        .contains("carbon.api=electricitymaps: no answer before exit", "zone table: DE", "g/kWh");
  }
}

package io.jouletrace.agent.carbon;

import io.jouletrace.agent.AgentThreads;
import io.jouletrace.agent.Log;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Grid intensity from the Electricity Maps v3 API ({@code /carbon-intensity/history} once at start,
 * then {@code /carbon-intensity/latest} every refresh), on its own daemon thread with the JDK's
 * {@link HttpClient}.
 *
 * <p>Every request has a deadline (connection and whole response), failures are retried with
 * back-off, and when the API cannot be had the figure falls back, each fallback labelled in the
 * segments and reported once: to the last good value, else to the given fallback (the zone table,
 * else the static default). The token is sent in the {@code auth-token} header only and appears in
 * no message.
 *
 * <p>A value applies from the moment it is fetched (energy already charged is not charged again),
 * except the first answer, which applies from the start of the run.
 */
public final class ElectricityMaps implements IntensityProvider {

  /** Settings. */
  public record Settings(
      String baseUrl,
      String token,
      String zone,
      double lat,
      double lon,
      String factorType,
      Duration refresh,
      Duration timeout,
      int attempts,
      Duration backoff) {}

  private final Settings settings;
  private final IntensityTimeline fallback;
  private final LongSupplier clock;
  private final Log log;
  private final HttpClient client;
  private final Object lock = new Object();
  private final List<IntensityPoint> points = new ArrayList<>();
  private volatile IntensityTimeline published;
  private IntensityPoint lastGood;
  private String lastGoodDatetime;
  private volatile boolean closed;
  private Thread thread;

  /**
   * Creates the provider; nothing is sent until {@link #start()} or {@link #refresh()}.
   *
   * @param settings where and how to ask
   * @param fallback what to use before any good answer (zone table or static default)
   * @param clock wall clock, epoch milliseconds
   * @param log one line per kind of failure
   */
  public ElectricityMaps(
      Settings settings, IntensityTimeline fallback, LongSupplier clock, Log log) {
    this.settings = settings;
    this.fallback = fallback;
    this.clock = clock;
    this.log = log;
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(settings.timeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  @Override
  public IntensityTimeline timeline() {
    return published;
  }

  @Override
  public String zone() {
    return where();
  }

  private String where() {
    return settings.zone() != null && !settings.zone().isBlank()
        ? settings.zone()
        : String.format(Locale.ROOT, "lat %.4f, lon %.4f", settings.lat(), settings.lon());
  }

  /** Starts the {@code jouletrace-carbon} daemon thread: history, then latest every refresh. */
  public void start() {
    thread =
        AgentThreads.daemon(
            "carbon",
            () -> {
              try {
                loadInitial();
                long period = Math.max(1, settings.refresh().toMillis());
                while (!closed) {
                  Thread.sleep(period);
                  refresh();
                }
              } catch (InterruptedException e) {
                // closed
              } catch (Throwable t) {
                log.line("carbon.api: stopped (" + safe(String.valueOf(t)) + ")");
              }
            });
    thread.start();
  }

  @Override
  public void close() {
    closed = true;
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }

  /** First answer: the last 24 h ({@code history}), else {@code latest}. */
  void loadInitial() throws InterruptedException {
    Result history = call("history");
    if (history.rows != null && !history.rows.isEmpty()) {
      synchronized (lock) {
        for (int i = 0; i < history.rows.size(); i++) {
          Row r = history.rows.get(i);
          // The oldest row speaks for everything before it: the run started after it anyway.
          long from = i == 0 ? Long.MIN_VALUE : r.epochMillis;
          good(r, from);
        }
        publish();
      }
      return;
    }
    refresh();
  }

  /** One {@code latest} request (with its retries); publishes the result or the fallback. */
  void refresh() throws InterruptedException {
    Result latest = call("latest");
    synchronized (lock) {
      long now = clock.getAsLong();
      if (latest.rows != null && !latest.rows.isEmpty()) {
        Row r = latest.rows.get(latest.rows.size() - 1);
        good(r, points.isEmpty() ? Long.MIN_VALUE : now);
      } else {
        failed(latest.failure, now);
      }
      publish();
    }
  }

  private void good(Row r, long from) {
    if (lastGood != null
        && r.datetime.equals(lastGoodDatetime)
        && r.gramsPerKwh == lastGood.gramsPerKwh()
        && last().source().equals(lastGood.source())) {
      return; // nothing new
    }
    IntensityPoint p =
        new IntensityPoint(
            from,
            r.gramsPerKwh,
            // The hour is in the segment's times; the source names the provider and zone only, so
            // that a day of hourly values is one source in the statement.
            "electricitymaps " + where(),
            r.factorType,
            r.estimated);
    append(p);
    lastGood = p;
    lastGoodDatetime = r.datetime;
  }

  private void failed(String kind, long now) {
    String label;
    IntensityPoint p;
    if (lastGood != null) {
      label = "last good value (" + lastGoodDatetime + ")";
      p =
          new IntensityPoint(
              now,
              lastGood.gramsPerKwh(),
              "electricitymaps "
                  + where()
                  + " last good value "
                  + lastGoodDatetime
                  + " ("
                  + kind
                  + ")",
              lastGood.factorType(),
              lastGood.estimated());
    } else {
      IntensityPoint fb = fallback.points().get(fallback.points().size() - 1);
      label = fb.source();
      p =
          new IntensityPoint(
              points.isEmpty() ? Long.MIN_VALUE : now,
              fb.gramsPerKwh(),
              fb.source() + " (electricitymaps unavailable: " + kind + ")",
              fb.factorType(),
              fb.estimated());
    }
    log.warn(
        "carbon.api." + kind.replaceAll(" \\(.*$", ""),
        "carbon.api=electricitymaps: " + kind + "; intensity falls back to the " + label);
    if (points.isEmpty() || !last().source().equals(p.source())) {
      append(p);
    }
  }

  private IntensityPoint last() {
    return points.get(points.size() - 1);
  }

  private void append(IntensityPoint p) {
    if (!points.isEmpty() && p.fromMillis() <= last().fromMillis()) {
      // Same instant (or a clock step back): the newer figure replaces the one not yet used.
      points.set(points.size() - 1, withFrom(p, last().fromMillis()));
      return;
    }
    points.add(p);
  }

  private static IntensityPoint withFrom(IntensityPoint p, long from) {
    return new IntensityPoint(from, p.gramsPerKwh(), p.source(), p.factorType(), p.estimated());
  }

  private void publish() {
    published =
        new IntensityTimeline(
            points, Long.MIN_VALUE, Long.MAX_VALUE, "carbon.api=electricitymaps " + where());
  }

  private record Row(
      String datetime,
      long epochMillis,
      double gramsPerKwh,
      String factorType,
      boolean estimated) {}

  private record Result(List<Row> rows, String failure) {}

  /** One endpoint, with retries and back-off; never throws but for interruption. */
  private Result call(String endpoint) throws InterruptedException {
    String failure = "no answer";
    long backoff = Math.max(1, settings.backoff().toMillis());
    for (int attempt = 1; attempt <= Math.max(1, settings.attempts()); attempt++) {
      if (closed) {
        break;
      }
      Attempt a = once(endpoint);
      if (a.rows != null) {
        return new Result(a.rows, null);
      }
      failure = a.failure;
      if (!a.retry || attempt == settings.attempts()) {
        break;
      }
      Thread.sleep(backoff);
      backoff *= 2;
    }
    return new Result(null, failure);
  }

  private record Attempt(List<Row> rows, String failure, boolean retry) {}

  private Attempt once(String endpoint) throws InterruptedException {
    URI uri;
    try {
      uri = URI.create(url(endpoint));
    } catch (IllegalArgumentException e) {
      return new Attempt(null, "carbon.api.url is not a URL", false);
    }
    HttpRequest.Builder req =
        HttpRequest.newBuilder(uri)
            .timeout(settings.timeout())
            .header("Accept", "application/json");
    if (settings.token() != null && !settings.token().isEmpty()) {
      req.header("auth-token", settings.token());
    }
    CompletableFuture<HttpResponse<String>> f =
        client.sendAsync(req.GET().build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> response;
    try {
      // The request timeout covers the headers only: a body that never ends is cut here.
      response = f.get(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      return new Attempt(null, "timeout after " + settings.timeout().toMillis() + " ms", true);
    } catch (ExecutionException e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      String kind =
          c instanceof java.net.http.HttpTimeoutException
              ? "timeout after " + settings.timeout().toMillis() + " ms"
              : "unreachable (" + c.getClass().getSimpleName() + ")";
      return new Attempt(null, kind, true);
    }
    int status = response.statusCode();
    if (status == 401 || status == 403) {
      return new Attempt(null, "HTTP " + status + " (token refused)", false);
    }
    if (status == 429) {
      return new Attempt(null, "HTTP 429 (rate limited)", true);
    }
    if (status != 200) {
      return new Attempt(null, "HTTP " + status, status >= 500);
    }
    try {
      return new Attempt(rows(response.body(), endpoint), null, false);
    } catch (IOException | RuntimeException e) {
      return new Attempt(
          null, "bad JSON from " + endpoint + " (" + safe(e.getMessage()) + ")", true);
    }
  }

  private String url(String endpoint) {
    String base = settings.baseUrl().replaceAll("/+$", "");
    StringBuilder b = new StringBuilder(base).append("/carbon-intensity/").append(endpoint);
    if (settings.zone() != null && !settings.zone().isBlank()) {
      b.append("?zone=").append(URLEncoder.encode(settings.zone(), StandardCharsets.UTF_8));
    } else {
      b.append(String.format(Locale.ROOT, "?lat=%s&lon=%s", settings.lat(), settings.lon()));
    }
    b.append("&emissionFactorType=").append(settings.factorType());
    return b.toString();
  }

  private List<Row> rows(String body, String endpoint) throws IOException {
    Object root = Json.parse(body);
    if (!(root instanceof Map<?, ?> m)) {
      throw new IOException("not an object");
    }
    List<Row> out = new ArrayList<>();
    if ("history".equals(endpoint)) {
      if (!(m.get("history") instanceof List<?> list)) {
        throw new IOException("no history array");
      }
      for (Object o : list) {
        if (o instanceof Map<?, ?> row) {
          Row r = row(row);
          if (out.isEmpty() || r.epochMillis > out.get(out.size() - 1).epochMillis) {
            out.add(r);
          }
        }
      }
    } else {
      out.add(row(m));
    }
    return out;
  }

  private Row row(Map<?, ?> m) throws IOException {
    if (!(m.get("carbonIntensity") instanceof Double g) || g < 0 || g.isNaN()) {
      throw new IOException("no valid carbonIntensity");
    }
    if (!(m.get("datetime") instanceof String dt)) {
      throw new IOException("no datetime");
    }
    long t;
    try {
      t = OffsetDateTime.parse(dt).toInstant().toEpochMilli();
    } catch (RuntimeException e) {
      throw new IOException("datetime '" + dt + "' is not ISO-8601");
    }
    String type =
        m.get("emissionFactorType") instanceof String s && !s.isBlank() ? s : settings.factorType();
    return new Row(dt, t, g, type, Boolean.TRUE.equals(m.get("isEstimated")));
  }

  /** A message with the token, should anything ever echo it, blanked out. */
  private String safe(String s) {
    String token = settings.token();
    return s == null || token == null || token.isEmpty() ? s : s.replace(token, "***");
  }
}

package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real Prometheus and Pushgateway servers on 127.0.0.1, started and stopped by the tests. */
final class Servers {

  private Servers() {}

  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** Finds an executable on the PATH, or {@code null}. */
  static Path binary(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** A server process that is stopped (and waited for) on close. */
  record Server(Process process, int port, Path log) implements AutoCloseable {
    String url() {
      return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  static Server start(Path dir, String name, List<String> args, int port) throws Exception {
    Path bin = binary(name);
    assertThat(bin)
        .as(name + " is not installed (apt-get install " + name + "; .ci/run does)")
        .isNotNull();
    List<String> cmd = new ArrayList<>();
    cmd.add(bin.toString());
    cmd.addAll(args);
    Path log = dir.resolve(name + "-" + port + ".log");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Server s = new Server(p, port, log);
    awaitReady(s, Duration.ofSeconds(30));
    return s;
  }

  static Server pushgateway(Path dir) throws Exception {
    int port = DjlExampleIT.freePort();
    return start(
        dir,
        "prometheus-pushgateway",
        // Debian's build persists to /var/lib/prometheus by default: each test keeps its own.
        List.of(
            "--web.listen-address=127.0.0.1:" + port,
            "--persistence.file=" + dir.resolve("pushgateway-" + port + ".data")),
        port);
  }

  static Server prometheus(Path dir, Path config) throws Exception {
    int port = DjlExampleIT.freePort();
    return start(
        dir,
        "prometheus",
        List.of(
            "--config.file=" + config,
            "--storage.tsdb.path=" + dir.resolve("prom-data"),
            "--web.listen-address=127.0.0.1:" + port),
        port);
  }

  /** Polls {@code /-/ready} until the server answers 200 (both servers have it). */
  static void awaitReady(Server s, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(s.url() + "/-/ready"))
            .timeout(Duration.ofSeconds(2))
            .build();
    while (System.nanoTime() < deadline) {
      assertThat(s.process().isAlive()).as(() -> log(s)).isTrue();
      try {
        if (HTTP.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not ready in " + limit + ": " + log(s));
  }

  /**
   * Waits until Prometheus has tried each of its targets once. It hands static targets to its
   * scrapers only with its first discovery update, about 5 s after it is ready: a job shorter than
   * that (the DJL example takes 4 s on a fast day) would otherwise be scraped once or twice, too
   * few samples for a {@code rate()}.
   */
  static void awaitScraping(Server prom, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    String body = "";
    while (System.nanoTime() < deadline) {
      body = get(prom.url() + "/api/v1/targets");
      JsonNode targets = new ObjectMapper().readTree(body).at("/data/activeTargets");
      boolean all = targets.size() > 0;
      for (JsonNode t : targets) {
        all &= !t.path("lastScrape").asText("0001").startsWith("0001");
      }
      if (all) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("Prometheus did not scrape its targets in " + limit + ": " + body);
  }

  static String log(Server s) {
    try {
      return Files.readString(s.log());
    } catch (IOException e) {
      return e.toString();
    }
  }

  static String get(String url) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  /** Runs a PromQL query over a range through the HTTP API; returns {@code data.result}. */
  static JsonNode queryRange(Server prom, String promql, double start, double end, String step)
      throws Exception {
    String body =
        get(
            prom.url()
                + "/api/v1/query_range?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8)
                + "&start="
                + start
                + "&end="
                + end
                + "&step="
                + step);
    JsonNode root = new ObjectMapper().readTree(body);
    assertThat(root.get("status").asText()).as(body).isEqualTo("success");
    return root.at("/data/result");
  }

  /** Runs an instant PromQL query; returns {@code data.result}. */
  static JsonNode query(Server prom, String promql, double time) throws Exception {
    String body =
        get(
            prom.url()
                + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8)
                + "&time="
                + time);
    JsonNode root = new ObjectMapper().readTree(body);
    assertThat(root.get("status").asText()).as(body).isEqualTo("success");
    return root.at("/data/result");
  }
}

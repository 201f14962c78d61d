package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real Prometheus server scrapes the agent while a job runs. */
class PrometheusScrapeIT {

  static Path prometheusBinary() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, "prometheus");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  @Test
  void prometheusScrapesPhaseEnergyWhileTheJobRuns(@TempDir Path dir) throws Exception {
    Path prometheus = prometheusBinary();
    Assumptions.assumeTrue(
        prometheus != null,
        "prometheus is not installed (apt-get install prometheus; .ci/run does)");
    int agentPort = DjlExampleIT.freePort();
    int promPort = DjlExampleIT.freePort();
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        """
        global:
          scrape_interval: 1s
        scrape_configs:
          - job_name: jouletrace
            static_configs:
              - targets: ['127.0.0.1:%d']
        """
            .formatted(agentPort));
    Process server =
        new ProcessBuilder(
                prometheus.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + promPort)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    try {
      ForkedJvm.Running job =
          new ForkedJvm(dir)
              .agent(
                  "prometheus.port="
                      + agentPort
                      + ",prometheus.host=127.0.0.1,report.json="
                      + dir.resolve("r.json")
                      + ",labels=team=it")
              .arg(
                  "-cp",
                  ForkedJvm.appClassPath(),
                  "io.jouletrace.it.apps.PhasesApp",
                  dir.resolve("t.txt").toString(),
                  "alpha:4000",
                  "beta:4000")
              .start();
      JsonNode result =
          queryUntilPresent(
              promPort,
              "jouletrace_energy_joules_total{phase=\"alpha\",domain=\"cpu\"}",
              Duration.ofSeconds(60));
      ForkedJvm.Result r = job.await(60);
      assertThat(r.exitCode()).as(r.stderr()).isZero();

      JsonNode metric = result.get(0).get("metric");
      assertThat(metric.get("job").asText()).isEqualTo("jouletrace");
      assertThat(metric.get("team").asText()).isEqualTo("it");
      assertThat(metric.get("stage").asText()).isEqualTo("training");
      assertThat(metric.get("method").asText()).isIn("measured", "estimated");
      assertThat(result.get(0).get("value").get(1).asDouble()).isPositive();
      JsonNode up = query(promPort, "up{job=\"jouletrace\"}");
      assertThat(up).isNotEmpty();
      // Answering the scrapes is part of what measuring cost: counted among the agent's threads.
      JsonNode threads =
          new ObjectMapper().readTree(dir.resolve("r.json").toFile()).at("/agent/threads");
      assertThat(threads.path("http").asDouble()).as(threads.toString()).isPositive();
      // JFR does not run without profile=true: no JIT time is told apart, and JFR has no threads
      assertThat(threads.has("jit")).as(threads.toString()).isFalse();
      assertThat(threads.has("jfr")).as(threads.toString()).isFalse();
    } finally {
      server.destroy();
      server.waitFor();
    }
  }

  private static JsonNode query(int port, String promql) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    URI uri =
        URI.create(
            "http://127.0.0.1:"
                + port
                + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    HttpResponse<String> resp =
        client.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode body = new ObjectMapper().readTree(resp.body());
    assertThat(body.get("status").asText()).as(resp.body()).isEqualTo("success");
    return body.at("/data/result");
  }

  private static JsonNode queryUntilPresent(int port, String promql, Duration limit)
      throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        JsonNode r = query(port, promql);
        if (r.size() > 0) {
          return r;
        }
      } catch (java.io.IOException notUpYet) {
        // Prometheus is still starting
      }
      Thread.sleep(500);
    }
    throw new AssertionError("Prometheus never returned " + promql);
  }
}

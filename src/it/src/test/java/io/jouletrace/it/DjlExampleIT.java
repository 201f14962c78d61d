package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real DJL example, started with the agent as the README shows, scraped while it runs. */
class DjlExampleIT {

  @Test
  void djlTrainingHasAutomaticPhasesAndServesMetrics(@TempDir Path dir) throws Exception {
    int port = freePort();
    Path report = dir.resolve("djl-report.json");
    ForkedJvm.Running run =
        new ForkedJvm(dir)
            .env("DJL_OFFLINE", "true")
            .env("OPT_OUT_TRACKING", "true")
            // One intra-op thread: PyTorch's OpenMP workers spin while they wait for each other,
            // and on
            // a loaded 2-core machine that turns seconds of training into minutes.
            .env("OMP_NUM_THREADS", "1")
            .agent(
                "prometheus.port="
                    + port
                    + ",prometheus.host=127.0.0.1,report.json="
                    + report
                    + ",labels=job=djl-it")
            .arg("-jar", ForkedJvm.DJL_JAR.toString(), "--epochs", "2", "--hold-ms", "6000")
            .start();

    String metrics = scrapeUntil(port, "phase=\"inference\"", Duration.ofSeconds(120), run);
    ForkedJvm.Result r = run.await(120);
    assertThat(r.exitCode()).as(r.stderr()).isZero();

    assertThat(metrics)
        .contains("# TYPE jouletrace_energy_joules_total counter")
        .contains("# TYPE jouletrace_device_energy_joules_total counter")
        .contains("# TYPE jouletrace_power_watts gauge")
        .contains("# TYPE jouletrace_phase_seconds_total counter")
        .contains("# TYPE jouletrace_co2e_grams_total counter")
        .containsPattern(
            "jouletrace_energy_joules_total\\{domain=\"cpu\",job=\"djl-it\","
                + "method=\"estimated\",phase=\"train-step\",run_id=\"[0-9a-f-]{36}\","
                + "stage=\"training\"} [0-9.eE+-]+")
        .contains("kind=\"embodied\"", "kind=\"operational\"");

    JsonNode root = new ObjectMapper().readTree(report.toFile());
    Map<String, JsonNode> phases = new HashMap<>();
    root.get("phases").forEach(p -> phases.put(p.get("name").asText(), p));
    assertThat(phases)
        .containsKeys(
            "data-loading",
            "train-step",
            "validation",
            "inference",
            "checkpoint",
            "data-generation",
            "other");
    for (String name :
        new String[] {"data-loading", "train-step", "validation", "inference", "checkpoint"}) {
      assertThat(phases.get(name).at("/joules/total").asDouble()).as(name).isPositive();
      assertThat(phases.get(name).at("/co2eGrams/operational").asDouble()).as(name).isPositive();
    }
    assertThat(root.at("/methods/cpu").asText()).isEqualTo("estimated");
    double sum = 0;
    for (JsonNode p : root.get("phases")) {
      sum += p.at("/joules/total").asDouble();
    }
    assertThat(root.at("/totals/joules/total").asDouble())
        .isCloseTo(sum, org.assertj.core.api.Assertions.within(1e-9 * Math.max(1, sum)));
    assertThat(r.stderr()).contains("phase", "train-step", "total");

    // Work units counted at DJL's choke points: 2 epochs of 4096 training samples and 1024
    // validation samples (batches of 32, none dropped), and 5 batchPredict calls of 64 inputs.
    Map<String, Long> units = new HashMap<>();
    for (JsonNode line : root.at("/efficiency/lines")) {
      units.put(
          line.get("phase").asText() + "/" + line.get("unit").asText(), line.get("units").asLong());
    }
    assertThat(units)
        .containsEntry("train-step/samples", 2L * 4096)
        .containsEntry("validation/samples", 2L * 1024)
        .containsEntry("inference/inferences", 5L * 64);
    assertThat(metrics).contains("jouletrace_work_units_total{");
    assertThat(dir.resolve("djl-report.statement.md")).content().contains("co2_eq_emissions:");
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static String scrapeUntil(int port, String needle, Duration limit, ForkedJvm.Running run)
      throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(5))
            .build();
    long deadline = System.nanoTime() + limit.toNanos();
    String last = "";
    while (System.nanoTime() < deadline && run.process().isAlive()) {
      try {
        HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
        last = resp.body();
        if (resp.statusCode() == 200 && last.contains(needle)) {
          return last;
        }
      } catch (IOException notYet) {
        // the endpoint starts on the sampler thread shortly after the JVM
      }
      Thread.sleep(200);
    }
    throw new AssertionError(
        "no '" + needle + "' in /metrics while the job ran; last scrape:\n" + last);
  }
}

package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: a real Prometheus, configured with the shipped example configuration and recording
 * rules, scrapes two JVMs running the real DJL example as ranks 0 and 1 of one job; both push their
 * final figures to a real Pushgateway at exit. Every panel query of the shipped Grafana dashboard
 * must then return data, and the job-total recording rule must equal the sum of the two JVMs' own
 * JSON reports.
 */
class DashboardE2EIT {

  static final Path SRC = Path.of(System.getProperty("jouletrace.it.srcDir", "../"));
  static final String JOB = "djl-e2e";

  static final String GPU_UUID = "GPU-e2e0e2e0-0000-4000-8000-000000000001";

  /** Series a panel may lack, and why. */
  static final Map<String, String> OPTIONAL =
      Map.of(
          "jouletrace_work_units_total",
          "jouletrace_work_units_total is not exported by this agent build");

  /**
   * A stand-in for dcgm-exporter (there is no GPU here): its two series for the fake GPU that rank
   * 1 measures, with dcgm-exporter's label names.
   */
  static HttpServer fakeDcgm() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String labels =
        "{gpu=\"0\",UUID=\""
            + GPU_UUID
            + "\",pci_bus_id=\"00000000:10:00.0\",device=\"nvidia0\","
            + "modelName=\"Fake H200\",Hostname=\"e2e\"}";
    byte[] body =
        ("# TYPE DCGM_FI_DEV_GPU_UTIL gauge\nDCGM_FI_DEV_GPU_UTIL"
                + labels
                + " 87\n# TYPE DCGM_FI_DEV_POWER_MGMT_LIMIT gauge\nDCGM_FI_DEV_POWER_MGMT_LIMIT"
                + labels
                + " 700\n")
            .getBytes(StandardCharsets.UTF_8);
    server.createContext(
        "/metrics",
        x -> {
          x.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
          x.sendResponseHeaders(200, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    server.start();
    return server;
  }

  /** Rank 1's fake NVML: one GPU at 250 W, used by this process only. */
  static Path nvmlScript(Path dir) throws Exception {
    Path script = dir.resolve("nvml.script");
    Files.writeString(
        script,
        String.join(
            "\n",
            "origin_ns " + System.nanoTime(),
            "devices 1",
            "name 0 Fake H200",
            "uuid 0 " + GPU_UUID,
            "power 0 0 250",
            "proc 0 self 1000000",
            "util 0 self 90",
            ""));
    return script;
  }

  @Test
  void everyPanelQueryReturnsDataAndTheJobTotalMatchesTheReports(@TempDir Path dir)
      throws Exception {
    Path promDir = dir.resolve("prometheus");
    Files.createDirectories(promDir);
    for (String f : List.of("jouletrace.rules.yml", "jouletrace.alerts.yml")) {
      Files.copy(SRC.resolve("prometheus").resolve(f), promDir.resolve(f));
    }
    int[] ports = {DjlExampleIT.freePort(), DjlExampleIT.freePort()};
    HttpServer dcgm = fakeDcgm();
    try (Servers.Server gw = Servers.pushgateway(dir)) {
      String config =
          Files.readString(SRC.resolve("prometheus/prometheus.yml"))
              .replace("scrape_interval: 15s", "scrape_interval: 500ms")
              .replace("evaluation_interval: 15s", "evaluation_interval: 500ms")
              .replace("'localhost:9464'", "'127.0.0.1:" + ports[0] + "'")
              .replace("'localhost:9465'", "'127.0.0.1:" + ports[1] + "'")
              .replace("'localhost:9091'", "'127.0.0.1:" + gw.port() + "'")
              .replace("'localhost:9400'", "'127.0.0.1:" + dcgm.getAddress().getPort() + "'");
      assertThat(config).doesNotContain("localhost:");
      Path configFile = promDir.resolve("prometheus.yml");
      Files.writeString(configFile, config);
      PrometheusFilesIT.promtool("check", "config", configFile.toString());

      try (Servers.Server prom = Servers.prometheus(dir, configFile)) {
        Servers.awaitScraping(prom, Duration.ofSeconds(30));
        double start = System.currentTimeMillis() / 1000.0;
        List<ForkedJvm.Running> runs = new ArrayList<>();
        Path script = nvmlScript(dir);
        for (int rank = 0; rank < 2; rank++) {
          runs.add(
              new ForkedJvm(dir)
                  .env("FAKE_NVML_SCRIPT", script.toString())
                  .unsetEnv("CUDA_VISIBLE_DEVICES")
                  .env("DJL_OFFLINE", "true")
                  .env("OPT_OUT_TRACKING", "true")
                  .env("OMP_NUM_THREADS", "1")
                  .agent(
                      "prometheus.host=127.0.0.1,prometheus.port="
                          + ports[rank]
                          + ",report.json="
                          + dir.resolve("rank" + rank + ".json")
                          + ",labels=job_name="
                          + JOB
                          + ";rank="
                          + rank
                          + ",push.url="
                          + gw.url()
                          // rank 1 measures a (fake) GPU, so that the GPU panels have data
                          + (rank == 1 ? ",nvml.library=" + ForkedJvm.FAKE_NVML : ",gpu=off"))
                  .arg("-jar", ForkedJvm.DJL_JAR.toString(), "--epochs", "2", "--hold-ms", "3000")
                  .start());
        }
        double reports = 0;
        for (int rank = 0; rank < 2; rank++) {
          ForkedJvm.Result r = runs.get(rank).await(300);
          assertThat(r.exitCode()).as(r.stderr()).isZero();
          assertThat(r.stderr()).doesNotContain("push to");
          JsonNode root =
              new ObjectMapper().readTree(dir.resolve("rank" + rank + ".json").toFile());
          reports += root.at("/totals/joules/total").asDouble();
        }

        // The job total (recording rule) against the two reports: once Prometheus has scraped
        // the gateway after both pushes and evaluated the rules.
        String rule = "job:jouletrace_energy_joules:sum{job=\"" + JOB + "\"}";
        double total = Double.NaN;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
          JsonNode res = Servers.query(prom, rule, System.currentTimeMillis() / 1000.0);
          if (res.size() == 1) {
            total = res.get(0).at("/value/1").asDouble();
            if (Math.abs(total - reports) <= 0.01 * reports) {
              break;
            }
          }
          Thread.sleep(250);
        }
        System.out.printf(
            "job total (rule %s) %.4f J, sum of the JSON reports %.4f J%n", rule, total, reports);
        assertThat(total).isCloseTo(reports, within(0.01 * reports));

        double end = System.currentTimeMillis() / 1000.0;
        panels(prom, start, end, dir);
        variables(prom, start, end);
      }
    } finally {
      dcgm.stop(0);
    }
  }

  /** Runs every panel query of the dashboard, with its variables substituted. */
  private static void panels(Servers.Server prom, double start, double end, Path dir)
      throws Exception {
    JsonNode dash = new ObjectMapper().readTree(SRC.resolve("grafana/jouletrace.json").toFile());
    Map<String, String> vars = new LinkedHashMap<>();
    vars.put("$__rate_interval", "2s");
    vars.put("$job", JOB);
    vars.put("$instance", ".*");
    vars.put("$stage", ".*");
    vars.put("$phase", ".*");
    StringBuilder table = new StringBuilder();
    List<String> empty = new ArrayList<>();
    int run = 0;
    for (JsonNode panel : dash.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        String expr = target.get("expr").asText();
        String q = expr;
        for (Map.Entry<String, String> v : vars.entrySet()) {
          q = q.replace(v.getKey(), v.getValue());
        }
        assertThat(q).as(expr).doesNotContain("$");
        JsonNode result = Servers.queryRange(prom, q, start, end, "1s");
        String line;
        if (result.size() > 0) {
          line = result.size() + " series";
          run++;
        } else {
          String reason = missing(prom, q, start, end);
          if (reason == null) {
            empty.add(panel.get("title").asText() + ": " + q);
            line = "NO DATA";
          } else {
            line = "skipped: " + reason;
          }
        }
        table.append(panel.get("title").asText()).append(" | ").append(q).append(" | ");
        table.append(line).append('\n');
      }
    }
    System.out.print(table);
    Files.writeString(dir.getParent().resolve("dashboard-queries.txt"), table);
    Path out = Path.of("target", "dashboard-queries.txt");
    Files.writeString(out, table);
    assertThat(empty).as(table.toString()).isEmpty();
    assertThat(run).isGreaterThanOrEqualTo(10);
  }

  /** Returns why a query may be empty (an optional series absent), or {@code null}. */
  private static String missing(Servers.Server prom, String q, double start, double end)
      throws Exception {
    for (Map.Entry<String, String> o : OPTIONAL.entrySet()) {
      if (q.contains(o.getKey())
          && Servers.queryRange(prom, "count(" + o.getKey() + ")", start, end, "1s").size() == 0) {
        return o.getValue();
      }
    }
    return null;
  }

  /** The template variables' label_values queries, through the series API. */
  private static void variables(Servers.Server prom, double start, double end) throws Exception {
    JsonNode dash = new ObjectMapper().readTree(SRC.resolve("grafana/jouletrace.json").toFile());
    Pattern lv = Pattern.compile("label_values\\((.*), *(\\w+)\\)");
    for (JsonNode v : dash.at("/templating/list")) {
      if (!v.get("type").asText().equals("query")) {
        continue;
      }
      Matcher m = lv.matcher(v.at("/query/query").asText());
      assertThat(m.matches()).as(v.toString()).isTrue();
      String selector = m.group(1).replace("$job", JOB);
      String body =
          Servers.get(
              prom.url()
                  + "/api/v1/label/"
                  + m.group(2)
                  + "/values?match[]="
                  + URLEncoder.encode(selector, StandardCharsets.UTF_8)
                  + "&start="
                  + start
                  + "&end="
                  + end);
      JsonNode values = new ObjectMapper().readTree(body).get("data");
      System.out.println("variable " + v.get("name").asText() + ": " + values);
      assertThat(values).as(v.get("name").asText()).isNotEmpty();
      if (v.get("name").asText().equals("job")) {
        assertThat(values.toString()).contains(JOB);
      }
    }
  }
}

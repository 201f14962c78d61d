package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU phases on a fake NVML that behaves as real GPUs do: its energy counter moves only every 100
 * ms (at instants the agent is not told), a read of it takes 3 ms, and its power steps at the
 * phases' boundaries. The application opens and closes each phase at the script's instants, as near
 * as its thread wakes; the truth of each phase is the script's energy over the phase's span as the
 * application timed it, computed here from the script alone.
 */
class FakeGpuPhasesIT {

  private static final long MS = 1_000_000L;

  /** Counter update period and the instant of its first update, read cost: as on an H200. */
  private static final String COUNTER = "energy_period 0 0.1 0.037\nread_cost_us 0 3000\n";

  /** The levels the phases cycle through, in watts. */
  private static final double[] LEVELS = {120, 310, 520};

  /** When the phases start: after start-up and after the agent has found the counter's rhythm. */
  private static final long START = 3_000;

  /** The warm-up power before the phases, and the power after them. */
  private static final double IDLE = 70;

  /** A phase of the schedule: its name, span (ms from the origin) and power. */
  record Step(String name, long from, long to, double watts) {}

  @Test
  void perPhaseGpuEnergyAtEachPhaseLengthAgainstTheCounterTruth(@TempDir Path dir)
      throws Exception {
    List<Step> steps = new ArrayList<>();
    long t = START;
    int[][] plan = {{1000, 2}, {500, 3}, {200, 6}}; // length, repetitions of the level cycle
    for (int[] p : plan) {
      for (int r = 0; r < p[1]; r++) {
        for (int k = 0; k < LEVELS.length; k++) {
          steps.add(new Step("len" + p[0] + "-lvl" + k + "-r" + r, t, t + p[0], LEVELS[k]));
          t += p[0];
        }
      }
    }
    // A training loop's rhythm: 120 ms steps at high power and 40 ms of data loading at low power,
    // shorter than the counter's update period; named as a training loop names them, so each name
    // gathers 20 phases.
    for (int r = 0; r < 20; r++) {
      steps.add(new Step("rhythm-step", t, t + 120, 450));
      steps.add(new Step("rhythm-data", t + 120, t + 160, 150));
      t += 160;
    }
    Path truthFile = dir.resolve("truth.txt");
    Path report = dir.resolve("report.json");
    long origin = System.nanoTime();
    PowerScript power = script(origin, steps);
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .env("FAKE_NVML_SCRIPT", nvmlScript(dir, origin, steps).toString())
            .unsetEnv("CUDA_VISIBLE_DEVICES")
            .agent(
                "nvml.library="
                    + ForkedJvm.FAKE_NVML
                    + ",attribution=host,prometheus.port=off,report.json="
                    + report)
            .arg(phasesApp(truthFile, origin, steps))
            .run(120);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    PhaseTruth truth = PhaseTruth.read(truthFile);
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    Map<String, Double> agent = new HashMap<>();
    root.get("phases")
        .forEach(p -> agent.put(p.get("name").asText(), p.at("/joules/gpu").asDouble()));

    // Per phase name: how far the agent's joules lie outside [inner truth, outer truth], relative
    // to it; the rhythm's names hold all their phases.
    Map<String, List<Double>> errors = new LinkedHashMap<>();
    for (String name : steps.stream().map(Step::name).distinct().toList()) {
      double inner = 0;
      double outer = 0;
      for (PhaseTruth.Span span : truth.spans(name)) {
        inner += power.joules(span.start(), span.end());
        outer += power.joules(span.outerStart(), span.outerEnd());
      }
      double got = agent.getOrDefault(name, 0.0);
      double off = got < inner ? inner - got : got > outer ? got - outer : 0;
      String kind = name.startsWith("rhythm") ? name : name.substring(0, name.indexOf('-'));
      errors.computeIfAbsent(kind, k -> new ArrayList<>()).add(off / inner);
    }
    StringBuilder table =
        new StringBuilder("| phases | names | median error | worst error |\n|---|---|---|---|\n");
    Map<String, double[]> stats = new LinkedHashMap<>();
    errors.forEach(
        (kind, list) -> {
          List<Double> sorted = list.stream().sorted().toList();
          double median = sorted.get(sorted.size() / 2);
          double worst = sorted.get(sorted.size() - 1);
          stats.put(kind, new double[] {median, worst});
          table.append(
              String.format(
                  Locale.ROOT,
                  "| %s | %d | %.2f %% | %.2f %% |%n",
                  kind,
                  list.size(),
                  median * 100,
                  worst * 100));
        });
    System.out.print(table);
    Files.writeString(Path.of("target", "fake-gpu-phases.txt"), table);
    // The issue's targets for a real GPU: median 2 % at 1 s, 5 % at 500 ms, 10 % at 200 ms.
    assertThat(stats.get("len1000")[0]).as(table.toString()).isLessThanOrEqualTo(0.02);
    assertThat(stats.get("len500")[0]).as(table.toString()).isLessThanOrEqualTo(0.05);
    assertThat(stats.get("len200")[0]).as(table.toString()).isLessThanOrEqualTo(0.10);
    // On the fake, whose power is constant within each phase, the method does better than that,
    // even in the worst phase. One 200 ms phase in 18 was once 5.6 % off under the whole suite's
    // load (a boundary read delayed by scheduling): its bound is the target's 10 %.
    for (String kind : List.of("len1000", "len500", "rhythm-step", "rhythm-data")) {
      assertThat(stats.get(kind)[1]).as(kind + "\n" + table).isLessThanOrEqualTo(0.05);
    }
    assertThat(stats.get("len200")[1]).as("len200\n" + table).isLessThanOrEqualTo(0.10);
    // conservation: the phases, other included, add up to the device's energy
    double sum = 0;
    for (JsonNode p : root.get("phases")) {
      sum += p.at("/joules/gpu").asDouble();
    }
    double device = 0;
    for (JsonNode d : root.get("devices")) {
      if (d.get("id").asText().equals("gpu-0")) {
        device = d.get("joules").asDouble();
      }
    }
    assertThat(sum).isCloseTo(device, within(1e-6 * device));
  }

  /**
   * {@code jouletrace_power_watts} means the mean power over the second up to the device's latest
   * reading, a reading at most {@link #LAG_NANOS} before the scrape. Scraped every 40 ms while the
   * power steps between long constant stretches, each value must be within 2 % of that mean for
   * some instant the latest reading can stand for; where the power was constant over all of them,
   * that is 2 % of the power itself.
   */
  @Test
  void thePowerGaugeIsTheMeanOfTheLastSecondAtEveryScrape(@TempDir Path dir) throws Exception {
    List<Step> steps =
        List.of(
            new Step("low", START, START + 3_000, 100),
            new Step("high", START + 3_000, START + 6_000, 400),
            new Step("mid", START + 6_000, START + 9_000, 250));
    Path truthFile = dir.resolve("truth.txt");
    long origin = System.nanoTime();
    PowerScript power = script(origin, steps);
    int port = DjlExampleIT.freePort();
    ForkedJvm.Running run =
        new ForkedJvm(dir)
            .env("FAKE_NVML_SCRIPT", nvmlScript(dir, origin, steps).toString())
            .unsetEnv("CUDA_VISIBLE_DEVICES")
            .agent(
                "nvml.library="
                    + ForkedJvm.FAKE_NVML
                    + ",attribution=host,prometheus.host=127.0.0.1,prometheus.port="
                    + port)
            .arg(phasesApp(truthFile, origin, steps))
            .start();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
    Pattern gauge =
        Pattern.compile("(?m)^jouletrace_power_watts\\{[^}]*device=\"gpu-0\"[^}]*\\} (\\S+)$");
    List<double[]> scrapes = new ArrayList<>(); // start, end (ns), watts
    long until = origin + (START + 9_000) * MS;
    while (System.nanoTime() < until && run.process().isAlive()) {
      long before = System.nanoTime();
      String body;
      try {
        body = client.send(request, HttpResponse.BodyHandlers.ofString()).body();
      } catch (java.io.IOException e) {
        Thread.sleep(40);
        continue; // not up yet
      }
      long after = System.nanoTime();
      Matcher m = gauge.matcher(body);
      if (before > origin + START * MS && m.find()) {
        scrapes.add(new double[] {before, after, Double.parseDouble(m.group(1))});
      }
      Thread.sleep(40);
    }
    ForkedJvm.Result r = run.await(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(scrapes).hasSizeGreaterThan(100);
    int strict = 0;
    StringBuilder bad = new StringBuilder();
    for (double[] s : scrapes) {
      double lo = Double.MAX_VALUE;
      double hi = 0;
      for (long end = (long) s[0] - LAG_NANOS; end <= (long) s[1]; end += MS) {
        double mean = power.joules(end - 1_000 * MS, end) / 1.0;
        lo = Math.min(lo, mean);
        hi = Math.max(hi, mean);
      }
      if (hi - lo < 1e-9) {
        strict++;
      }
      if (s[2] < lo * 0.98 || s[2] > hi * 1.02) {
        bad.append(
            String.format(
                Locale.ROOT,
                "at %.3f s: %.2f W, the last second's mean was %.2f..%.2f W%n",
                (s[0] - origin) * 1e-9,
                s[2],
                lo,
                hi));
      }
    }
    assertThat(bad).as("scrapes outside 2 %% of the gauge's meaning").isEmpty();
    assertThat(strict).as("scrapes at constant power").isGreaterThan(60);
  }

  /** How old the latest reading may be at a scrape: an interval, an update period, a read. */
  private static final long LAG_NANOS = 250 * MS;

  private static PowerScript script(long origin, List<Step> steps) {
    PowerScript p = new PowerScript(origin, IDLE);
    for (Step s : steps) {
      p.segment(origin + s.from() * MS, origin + s.to() * MS, s.watts());
    }
    return p;
  }

  private static Path nvmlScript(Path dir, long origin, List<Step> steps) throws Exception {
    StringBuilder b = new StringBuilder();
    b.append("origin_ns ").append(origin).append('\n');
    b.append("devices 1\nname 0 Fake H200\n").append(COUNTER);
    b.append("power 0 0 ").append(IDLE).append('\n');
    long last = 0;
    for (Step s : steps) {
      b.append(String.format(Locale.ROOT, "power 0 %.3f %.1f%n", s.from() / 1e3, s.watts()));
      last = Math.max(last, s.to());
    }
    b.append(String.format(Locale.ROOT, "power 0 %.3f %.1f%n", last / 1e3, IDLE));
    Path script = dir.resolve("nvml.script");
    Files.writeString(script, b);
    return script;
  }

  private static String[] phasesApp(Path truth, long origin, List<Step> steps) {
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "-cp",
            ForkedJvm.appClassPath(),
            "io.jouletrace.it.apps.PhasesApp",
            truth.toString(),
            "@" + origin));
    for (Step s : steps) {
      args.add(s.name() + ":" + s.from() + ":" + s.to());
    }
    return args.toArray(new String[0]);
  }
}

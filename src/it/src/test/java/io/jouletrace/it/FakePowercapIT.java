package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent in a forked JVM reads a fake powercap tree whose counters advance at known powers while
 * the application runs phases through the API. Ground truth per phase: the known power times the
 * phase's duration as the application itself timed it.
 */
class FakePowercapIT {

  // Counted: package-0 30 W (wrapping every ~0.13 s), package-1 10 W; dram 4 W + 2 W.
  // Not counted: core (inside package-0) and psys (covers the packages).
  private static final double CPU_WATTS = 30 + 10;
  private static final double DRAM_WATTS = 4 + 2;
  private static final long BIG = 262_143_328_850L;

  @Test
  void perPhaseJoulesMatchKnownPowerTimesPhaseTime(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("report.json");
    Path truth = dir.resolve("truth.txt");
    FakePowercap fake;
    long runEnd;
    try (FakePowercap rapl =
        new FakePowercap(dir.resolve("powercap"))
            .zone("intel-rapl:0", "package-0", 30, 4_000_000L, 3_500_000L)
            .zone("intel-rapl:0:0", "core", 20, BIG, 0)
            .zone("intel-rapl:0:1", "dram", 4, BIG, 0)
            .zone("intel-rapl:1", "package-1", 10, BIG, 7_000_000L)
            .zone("intel-rapl:1:0", "dram", 2, BIG, 0)
            .zone("intel-rapl:2", "psys", 80, BIG, 0)
            .start()) {
      fake = rapl;
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .agent(
                  "powercap.root="
                      + rapl.root()
                      + ",interval=20ms,attribution=host,"
                      + "prometheus.port=off,report.json="
                      + report
                      + ",labels=suite=it;case=powercap")
              .arg(
                  "-cp",
                  ForkedJvm.appClassPath(),
                  "io.jouletrace.it.apps.PhasesApp",
                  truth.toString(),
                  "alpha:300",
                  "beta:500",
                  "alpha:200",
                  "gamma:1000")
              .run(60);
      runEnd = System.nanoTime(); // the agent's last reading came before
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stdout()).contains("phases done");
      assertThat(r.stderr()).doesNotContain("ESTIMATED");
    }

    PhaseTruth truthSpans = PhaseTruth.read(truth);
    assertThat(truthSpans.recording()).isTrue();
    Map<String, Double> lag = new HashMap<>();
    for (String name : List.of("alpha", "beta", "gamma")) {
      for (PhaseTruth.Span span : truthSpans.spans(name)) {
        // how far behind the fake's files were around each boundary (the agent reads within ms)
        long around = 20_000_000L;
        lag.merge(
            name,
            (fake.lag().maxLagNanos(span.outerStart(), span.start() + around)
                    + fake.lag()
                        .maxLagNanos(span.end(), endOfLag(truthSpans, span, around, runEnd)))
                * 1e-9,
            Double::sum);
      }
    }

    JsonNode root = new ObjectMapper().readTree(report.toFile());
    assertThat(root.get("attribution").asText()).isEqualTo("host");
    assertThat(root.at("/run/labels/suite").asText()).isEqualTo("it");
    assertThat(root.at("/methods/cpu").asText()).isEqualTo("measured");
    Map<String, JsonNode> phases = new HashMap<>();
    root.get("phases").forEach(p -> phases.put(p.get("name").asText(), p));
    assertThat(phases).containsKeys("alpha", "beta", "gamma", "other");

    for (String name : List.of("alpha", "beta", "gamma")) {
      double inner = truthSpans.innerSeconds(name);
      double outer = truthSpans.outerSeconds(name);
      JsonNode p = phases.get(name);
      // Each of a phase's two boundary readings may be behind by however long the fake's writer
      // left its files behind around that boundary: 1 ms steps, and more when the writer thread
      // was descheduled (measured by the fake, not by the agent). Allow that, 2 % and 2 ms.
      double slack = 0.02 * outer + 0.002 + lag.get(name);
      PhaseTruth.assertBetween(
          name + " cpu, fake lag " + lag.get(name) + " s",
          p.at("/joules/cpu").asDouble(),
          CPU_WATTS * inner,
          CPU_WATTS * outer,
          CPU_WATTS * slack);
      PhaseTruth.assertBetween(
          name + " dram, fake lag " + lag.get(name) + " s",
          p.at("/joules/dram").asDouble(),
          DRAM_WATTS * inner,
          DRAM_WATTS * outer,
          DRAM_WATTS * slack);
      // the agent's stamps lie between the application's inner and outer ones
      PhaseTruth.assertBetween(
          name + " seconds", p.get("wallSeconds").asDouble(), inner, outer, 1e-6);
    }

    // Counted devices only: two packages and two dram zones, never core or psys.
    List<String> ids = root.get("devices").findValuesAsText("id");
    assertThat(ids).containsExactlyInAnyOrder("package-0", "package-1", "dram-0", "dram-1");
    double deviceCpu = 0;
    double wall = root.at("/run/wallSeconds").asDouble();
    for (JsonNode d : root.get("devices")) {
      assertThat(d.get("source").asText()).isEqualTo("rapl-sysfs");
      assertThat(d.get("measured").asBoolean()).isTrue();
      if (d.get("domain").asText().equals("cpu")) {
        deviceCpu += d.get("joules").asDouble();
      }
    }
    // Devices are read from when the sampler opened them (after JVM start) to exit.
    assertThat(deviceCpu)
        .isLessThanOrEqualTo(CPU_WATTS * wall * 1.02)
        .isGreaterThan(CPU_WATTS * 2.0);

    // Conservation: totals are the sum over phases, and with attribution=host they are the
    // devices'.
    double sumCpu = 0;
    for (JsonNode p : root.get("phases")) {
      sumCpu += p.at("/joules/cpu").asDouble();
    }
    assertThat(root.at("/totals/joules/cpu").asDouble()).isCloseTo(sumCpu, within(1e-9 * sumCpu));
    assertThat(sumCpu).isCloseTo(deviceCpu, within(1e-6 * deviceCpu));
  }

  /**
   * Regression: phases of 15 to 120 W alternating with gaps of about 0.3 s outside any phase. The
   * fake's power follows a script that the application follows too (it opens and closes each phase
   * at the script's instants, as near as its thread wakes). The truth of a named phase is the
   * script's energy over the phase's span as the application timed it (inner and outer stamps);
   * that of {@code other} is what the counters advanced while the agent read them, less the named
   * phases' truth. All of it comes from the script, none from the agent's attribution.
   */
  @Test
  void phasesAlternatingWithGapsOutsideAnyPhaseStayWithinOnePercent(@TempDir Path dir)
      throws Exception {
    double[] cpuWatts = {15, 45, 80, 120};
    double[] dramWatts = {2, 4, 6, 8};
    Random random = new Random(42);
    Path report = dir.resolve("report.json");
    Path truth = dir.resolve("truth.txt");
    long start = 2_500;
    List<String> spans = new ArrayList<>();
    FakePowercap fake;
    long runEnd;
    PowerScript cpu;
    PowerScript dram;
    try (FakePowercap rapl = new FakePowercap(dir.resolve("powercap"))) {
      fake = rapl;
      long origin = rapl.t0();
      cpu = new PowerScript(origin, 8).segment(origin, origin + start * 1_000_000L, 25);
      dram = new PowerScript(origin, 1.5).segment(origin, origin + start * 1_000_000L, 3);
      long t = start;
      for (int i = 0; i < 12; i++) {
        int k = i % cpuWatts.length;
        long length = 300 + random.nextInt(500);
        String name = "p" + (int) cpuWatts[k];
        cpu.segment(origin + t * 1_000_000L, origin + (t + length) * 1_000_000L, cpuWatts[k]);
        dram.segment(origin + t * 1_000_000L, origin + (t + length) * 1_000_000L, dramWatts[k]);
        spans.add(name + ":" + t + ":" + (t + length));
        t += length + 300; // a gap outside any phase
      }
      rapl.zone("intel-rapl:0", "package-0", cpu, BIG).zone("intel-rapl:0:0", "dram", dram, BIG);
      rapl.start();
      List<String> args = new ArrayList<>();
      args.addAll(
          List.of(
              "-cp",
              ForkedJvm.appClassPath(),
              "io.jouletrace.it.apps.PhasesApp",
              truth.toString(),
              "@" + origin));
      args.addAll(spans);
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .agent(
                  "powercap.root="
                      + rapl.root()
                      + ",attribution=host,prometheus.port=off,report.json="
                      + report)
              .arg(args.toArray(new String[0]))
              .run(90);
      runEnd = System.nanoTime(); // the agent's last reading came before
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stderr()).doesNotContain("ESTIMATED");
    }

    PhaseTruth app = PhaseTruth.read(truth);
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    Map<String, JsonNode> phases = new HashMap<>();
    root.get("phases").forEach(p -> phases.put(p.get("name").asText(), p));
    double deviceCpu = 0;
    double deviceDram = 0;
    for (JsonNode d : root.get("devices")) {
      if (d.get("domain").asText().equals("cpu")) {
        deviceCpu += d.get("joules").asDouble();
      } else {
        deviceDram += d.get("joules").asDouble();
      }
    }
    // truth per name: {cpu inner, cpu outer, dram inner, dram outer, lag slack in seconds}
    Map<String, double[]> bounds = new LinkedHashMap<>();
    for (String name : List.of("p15", "p45", "p80", "p120")) {
      double[] b = new double[5];
      for (PhaseTruth.Span span : app.spans(name)) {
        b[0] += cpu.joules(span.start(), span.end());
        b[1] += cpu.joules(span.outerStart(), span.outerEnd());
        b[2] += dram.joules(span.start(), span.end());
        b[3] += dram.joules(span.outerStart(), span.outerEnd());
        long around = 20_000_000L;
        b[4] +=
            (fake.lag().maxLagNanos(span.outerStart(), span.start() + around)
                    + fake.lag().maxLagNanos(span.end(), endOfLag(app, span, around, runEnd)))
                * 1e-9;
      }
      bounds.put(name, b);
    }
    double[] other = new double[5];
    other[0] = deviceCpu;
    other[1] = deviceCpu;
    other[2] = deviceDram;
    other[3] = deviceDram;
    for (double[] b : bounds.values()) {
      other[0] -= b[1];
      other[1] -= b[0];
      other[2] -= b[3];
      other[3] -= b[2];
      other[4] += b[4];
    }
    bounds.put("other", other);

    StringBuilder errors = new StringBuilder();
    bounds.forEach(
        (name, b) -> {
          JsonNode p = phases.get(name);
          double c = p.at("/joules/cpu").asDouble();
          double m = p.at("/joules/dram").asDouble();
          errors.append(
              String.format(
                  Locale.ROOT,
                  "ERROR %s cpu %.3f %% dram %.3f %% (truth spans %.3f-%.3f J, %.3f-%.3f J)%n",
                  name,
                  (c / ((b[0] + b[1]) / 2) - 1) * 100,
                  (m / ((b[2] + b[3]) / 2) - 1) * 100,
                  b[0],
                  b[1],
                  b[2],
                  b[3]));
        });
    System.out.print(errors);
    bounds.forEach(
        (name, b) -> {
          JsonNode p = phases.get(name);
          // 1 %, plus however far the fake's files lagged around the boundaries (measured by the
          // fake) at the script's highest power.
          PhaseTruth.assertBetween(
              name + " cpu, fake lag " + b[4] + " s",
              p.at("/joules/cpu").asDouble(),
              b[0],
              b[1],
              0.01 * b[1] + cpu.maxWatts() * b[4]);
          PhaseTruth.assertBetween(
              name + " dram, fake lag " + b[4] + " s",
              p.at("/joules/dram").asDouble(),
              b[2],
              b[3],
              0.01 * b[3] + dram.maxWatts() * b[4]);
        });
  }

  /**
   * Until when the fake's lag after a phase's end matters: shortly after it, or for the run's last
   * phase until the run ends, since energy the fake has not published by the agent's last reading
   * at exit is read by no one.
   */
  private static long endOfLag(PhaseTruth truth, PhaseTruth.Span span, long around, long runEnd) {
    return span.outerEnd() >= truth.lastOuterEnd() ? runEnd : span.outerEnd() + around;
  }
}

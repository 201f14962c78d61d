package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
                    + fake.lag().maxLagNanos(span.end(), span.outerEnd() + around))
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
}

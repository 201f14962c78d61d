package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
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
    try (FakePowercap rapl = new FakePowercap(dir.resolve("powercap"))
        .zone("intel-rapl:0", "package-0", 30, 4_000_000L, 3_500_000L)
        .zone("intel-rapl:0:0", "core", 20, BIG, 0)
        .zone("intel-rapl:0:1", "dram", 4, BIG, 0)
        .zone("intel-rapl:1", "package-1", 10, BIG, 7_000_000L)
        .zone("intel-rapl:1:0", "dram", 2, BIG, 0)
        .zone("intel-rapl:2", "psys", 80, BIG, 0)
        .start()) {
      ForkedJvm.Result r = new ForkedJvm(dir)
          .agent("powercap.root=" + rapl.root() + ",interval=20ms,attribution=host,"
              + "prometheus.port=off,report.json=" + report + ",labels=suite=it;case=powercap")
          .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.PhasesApp", truth.toString(),
              "alpha:300", "beta:500", "alpha:200", "gamma:1000")
          .run(60);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stdout()).contains("phases done");
      assertThat(r.stderr()).doesNotContain("ESTIMATED");
    }

    List<String> lines = Files.readAllLines(truth);
    assertThat(lines.get(0)).isEqualTo("recording true");
    Map<String, Double> seconds = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(" ");
      seconds.merge(f[0], (Long.parseLong(f[2]) - Long.parseLong(f[1])) * 1e-9, Double::sum);
    }

    JsonNode root = new ObjectMapper().readTree(report.toFile());
    assertThat(root.get("attribution").asText()).isEqualTo("host");
    assertThat(root.at("/run/labels/suite").asText()).isEqualTo("it");
    assertThat(root.at("/methods/cpu").asText()).isEqualTo("measured");
    Map<String, JsonNode> phases = new HashMap<>();
    root.get("phases").forEach(p -> phases.put(p.get("name").asText(), p));
    assertThat(phases).containsKeys("alpha", "beta", "gamma", "other");

    for (String name : List.of("alpha", "beta", "gamma")) {
      double s = seconds.get(name);
      JsonNode p = phases.get(name);
      // The fake counters step every 1 ms, so each of a phase's two boundaries may be off by up
      // to 1 ms of energy (plus scheduling jitter of the writer thread): allow 2 % + 4 ms.
      double cpuTruth = CPU_WATTS * s;
      double dramTruth = DRAM_WATTS * s;
      assertThat(p.at("/joules/cpu").asDouble()).as(name + " cpu")
          .isCloseTo(cpuTruth, within(0.02 * cpuTruth + CPU_WATTS * 0.004));
      assertThat(p.at("/joules/dram").asDouble()).as(name + " dram")
          .isCloseTo(dramTruth, within(0.02 * dramTruth + DRAM_WATTS * 0.004));
      assertThat(p.get("wallSeconds").asDouble()).as(name + " seconds")
          .isCloseTo(s, within(0.01 * s + 0.004));
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
    assertThat(deviceCpu).isLessThanOrEqualTo(CPU_WATTS * wall * 1.02).isGreaterThan(CPU_WATTS * 2.0);

    // Conservation: totals are the sum over phases, and with attribution=host they are the devices'.
    double sumCpu = 0;
    for (JsonNode p : root.get("phases")) {
      sumCpu += p.at("/joules/cpu").asDouble();
    }
    assertThat(root.at("/totals/joules/cpu").asDouble()).isCloseTo(sumCpu, within(1e-9 * sumCpu));
    assertThat(sumCpu).isCloseTo(deviceCpu, within(1e-6 * deviceCpu));
  }
}

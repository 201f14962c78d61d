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
 * The agent in a forked JVM reads GPUs through the real JNA bindings from a scripted fake
 * libnvidia-ml (built from C by the test build). The script's power trace is the ground truth.
 */
class FakeGpuIT {

  private static final double GPU0_WATTS = 300; // energy counter
  private static final double GPU1_WATTS = 80; // no energy counter: power integrated

  private Path script(Path dir, long origin) throws Exception {
    Path script = dir.resolve("nvml.script");
    Files.writeString(
        script,
        String.join(
            "\n",
            "origin_ns " + origin,
            "devices 2",
            "name 0 Fake H100 80GB HBM3",
            "name 1 Fake A10",
            "energy 1 unsupported",
            "power 0 0 " + GPU0_WATTS,
            "power 1 0 " + GPU1_WATTS,
            "energy_offset 0 123456789",
            "proc 0 self 1000000",
            "util 0 self 90",
            "proc 1 1 1000000",
            "util 1 1 50",
            ""));
    return script;
  }

  private JsonNode run(Path dir, String attribution, PhaseTruth[] truthOut) throws Exception {
    Path report = dir.resolve("r.json");
    Path truth = dir.resolve("truth.txt");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .env("FAKE_NVML_SCRIPT", script(dir, System.nanoTime()).toString())
            .unsetEnv("CUDA_VISIBLE_DEVICES")
            .agent(
                "nvml.library="
                    + ForkedJvm.FAKE_NVML
                    + ",attribution="
                    + attribution
                    + ",prometheus.port=off,report.json="
                    + report)
            // GPU energy is counted from NVML's first reading, a fraction of a second after
            // start-up
            // (see the README): the phases under test come after that.
            .arg(
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.PhasesApp",
                truth.toString(),
                "start-up:1500",
                "alpha:600",
                "beta:1000")
            .run(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stderr()).doesNotContain("GPU energy unavailable");
    truthOut[0] = PhaseTruth.read(truth);
    return new ObjectMapper().readTree(report.toFile());
  }

  private static Map<String, JsonNode> phases(JsonNode root) {
    Map<String, JsonNode> m = new HashMap<>();
    root.get("phases").forEach(p -> m.put(p.get("name").asText(), p));
    return m;
  }

  @Test
  void hostAttributionGivesEachPhaseAllGpuEnergy(@TempDir Path dir) throws Exception {
    PhaseTruth[] truth = new PhaseTruth[1];
    JsonNode root = run(dir, "host", truth);
    assertThat(root.at("/methods/gpu").asText()).isEqualTo("measured");
    Map<String, String> sources = new HashMap<>();
    root.get("devices").forEach(d -> sources.put(d.get("id").asText(), d.get("source").asText()));
    assertThat(sources).containsEntry("gpu-0", "nvml-energy").containsEntry("gpu-1", "nvml-power");
    for (String name : List.of("alpha", "beta")) {
      double watts = GPU0_WATTS + GPU1_WATTS;
      // constant power: interpolation is exact; 1 % is the target for phases of 0.5 s and longer
      PhaseTruth.assertBetween(
          name,
          phases(root).get(name).at("/joules/gpu").asDouble(),
          watts * truth[0].innerSeconds(name),
          watts * truth[0].outerSeconds(name),
          0.01 * watts * truth[0].outerSeconds(name));
    }
    double sum = 0;
    for (JsonNode p : root.get("phases")) {
      sum += p.at("/joules/gpu").asDouble();
    }
    double devices = 0;
    for (JsonNode d : root.get("devices")) {
      if (d.get("domain").asText().equals("gpu")) {
        devices += d.get("joules").asDouble();
      }
    }
    assertThat(sum).isCloseTo(devices, within(1e-6 * devices));
    // device totals against the script: both GPUs ran at constant power for the whole window
    double window = root.at("/run/wallSeconds").asDouble();
    assertThat(devices).isLessThanOrEqualTo((GPU0_WATTS + GPU1_WATTS) * window * 1.005);
  }

  @Test
  void processAttributionChargesOnlyTheGpusThisJvmUses(@TempDir Path dir) throws Exception {
    PhaseTruth[] truth = new PhaseTruth[1];
    JsonNode root = run(dir, "process", truth);
    for (String name : List.of("alpha", "beta")) {
      // gpu-0 lists this JVM as its only process; gpu-1 belongs to pid 1
      PhaseTruth.assertBetween(
          name,
          phases(root).get(name).at("/joules/gpu").asDouble(),
          GPU0_WATTS * truth[0].innerSeconds(name),
          GPU0_WATTS * truth[0].outerSeconds(name),
          0.01 * GPU0_WATTS * truth[0].outerSeconds(name));
    }
  }

  @Test
  void aGpuLostMidRunKeepsItsEnergyAndTheRestGoesOn(@TempDir Path dir) throws Exception {
    // no origin_ns: the script's clock starts at nvmlInit, however slowly the JVM started
    Path script = dir.resolve("lost.script");
    Files.writeString(
        script, String.join("\n", "devices 2", "power 0 0 100", "power 1 0 200", "lost 1 1.5", ""));
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .env("FAKE_NVML_SCRIPT", script.toString())
            .unsetEnv("CUDA_VISIBLE_DEVICES")
            .agent(
                "nvml.library="
                    + ForkedJvm.FAKE_NVML
                    + ",attribution=host,prometheus.port=off,"
                    + "report.json="
                    + report)
            .arg(
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.PhasesApp",
                dir.resolve("t.txt").toString(),
                "work:4000")
            .run(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).contains("phases done");
    assertThat(r.stderr()).containsIgnoringCase("lost");
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    Map<String, Double> joules = new HashMap<>();
    Map<String, Double> seconds = new HashMap<>();
    root.get("devices")
        .forEach(
            d -> {
              joules.put(d.get("id").asText(), d.get("joules").asDouble());
              seconds.put(d.get("id").asText(), d.get("seconds").asDouble());
            });
    double wall = root.at("/run/wallSeconds").asDouble();
    // gpu-1 counted only until it was lost 1.5 s after nvmlInit; gpu-0 for the whole run, at its
    // scripted 100 W
    assertThat(joules.get("gpu-1")).isPositive().isLessThanOrEqualTo(200 * 1.5 * 1.005);
    assertThat(seconds.get("gpu-1")).isLessThan(1.5);
    assertThat(seconds.get("gpu-0"))
        .isGreaterThan(seconds.get("gpu-1") + 1.5)
        .isLessThanOrEqualTo(wall);
    assertThat(joules.get("gpu-0"))
        .isCloseTo(100 * seconds.get("gpu-0"), within(0.01 * 100 * seconds.get("gpu-0")));
  }
}

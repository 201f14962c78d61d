package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CPU burnt by threads that are in no phase (native pools) goes to the phase open on the thread
 * that drives them, not to {@code other}. Measured here with the estimation model, whose power
 * follows the CPU load: the driving phase must draw clearly more power than the idle time after.
 */
class NativeHeavyIT {

  @Test
  void workerThreadsEnergyGoesToTheDrivingPhase(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .agent("cpu.source=model,prometheus.port=off,report.json=" + report)
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.NativeHeavyApp")
            .run(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    Map<String, JsonNode> phases = new HashMap<>();
    root.get("phases").forEach(p -> phases.put(p.get("name").asText(), p));
    JsonNode drive = phases.get("drive");
    JsonNode other = phases.get("other");
    double driveWatts = drive.at("/joules/cpu").asDouble() / drive.get("wallSeconds").asDouble();
    double otherWatts = other.at("/joules/cpu").asDouble() / other.get("wallSeconds").asDouble();
    assertThat(drive.get("wallSeconds").asDouble()).isGreaterThan(1.9);
    // two busy workers against an idle JVM: the phase's CPU power is well above the idle time's
    assertThat(driveWatts)
        .as("drive %.2f W, other %.2f W", driveWatts, otherWatts)
        .isGreaterThan(1.5 * otherWatts);
  }
}

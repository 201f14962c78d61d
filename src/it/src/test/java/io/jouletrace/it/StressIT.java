package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many threads, many names: the agent stays bounded, reports, and conserves energy. */
class StressIT {

  private static final Pattern SUMMARY = Pattern.compile("phases (\\d+) heap-used-mb (\\d+)");

  private static void assertConserved(JsonNode root) {
    double sum = 0;
    for (JsonNode p : root.get("phases")) {
      sum += p.at("/joules/total").asDouble();
    }
    assertThat(root.at("/totals/joules/total").asDouble())
        .isCloseTo(sum, within(1e-9 * sum + 1e-12));
  }

  @Test
  void thousandThreadsEnteringAndLeavingPhasesForTenSeconds(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .agent("prometheus.port=off,attribution=host,report.json=" + report)
            .arg(
                "-Xmx256m",
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.StressApp",
                "threads",
                "1000",
                "10")
            .run(120);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    Matcher m = SUMMARY.matcher(r.stdout());
    assertThat(m.find()).as(r.stdout()).isTrue();
    assertThat(Long.parseLong(m.group(1))).isGreaterThan(100_000);
    assertThat(r.stderr()).doesNotContain("Exception", "sampling failed");
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    assertConserved(root);
    assertThat(root.get("phases").size()).isEqualTo(1 + 20 + 5); // other, stress-*, inner-*
    double wall = 0;
    for (JsonNode p : root.get("phases")) {
      wall += p.get("wallSeconds").asDouble();
    }
    assertThat(wall).isCloseTo(root.at("/run/wallSeconds").asDouble(), within(1e-6));
  }

  @Test
  void aMillionDistinctNamesAreCappedAndReportedOnce(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .agent("prometheus.port=off,phases.max=100,report.json=" + report)
            .arg(
                "-Xmx256m",
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.StressApp",
                "names",
                "1000000")
            .run(120);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).contains("phases 1000000");
    assertThat(r.stderr().lines().filter(l -> l.contains("phases.max"))).hasSize(1);
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    assertThat(root.get("phases").size()).isLessThanOrEqualTo(100);
    assertThat(root.get("phases").findValuesAsText("name")).contains("overflow", "name-0");
    assertConserved(root);
  }
}

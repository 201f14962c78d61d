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

/**
 * Many short threads, each opening one phase, with the built agent reading a fake RAPL package (so
 * that it also reads the counters at phase boundaries): every thread's phase is recorded, the
 * phases' joules add up to the total, nothing is reported as an error, and a small heap suffices.
 * Before the recorder scaled to many threads, 20,000 threads needed 160 MB of rings (8 KB each) and
 * registering each one copied the table of all the others.
 */
class ManyThreadsIT {

  private static final Pattern SUMMARY =
      Pattern.compile("phases (\\d+) seconds ([0-9.]+) heap-after-gc-mb (\\d+) recording true");

  private static JsonNode run(Path dir, ForkedJvm jvm, String kind, int threads) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r;
    try (FakePowercap rapl =
        new FakePowercap(dir.resolve("powercap"))
            .zone("intel-rapl:0", "package-0", 20, 262_143_328_850L, 0)
            .start()) {
      r =
          jvm.agent("powercap.root=" + rapl.root() + ",prometheus.port=off,report.json=" + report)
              .arg(
                  "-Xmx64m",
                  "-cp",
                  ForkedJvm.appClassPath(),
                  "io.jouletrace.it.apps.ManyThreadsApp",
                  kind,
                  Integer.toString(threads),
                  "5")
              .run(60);
    }
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    Matcher m = SUMMARY.matcher(r.stdout());
    assertThat(m.find()).as("stdout: %s%nstderr: %s", r.stdout(), r.stderr()).isTrue();
    assertThat(Long.parseLong(m.group(1))).isEqualTo(threads);
    // what is left once the threads have ended is small: their slots and rings were given back
    assertThat(Long.parseLong(m.group(3))).as(r.stdout()).isLessThan(32);
    assertThat(r.stderr().lines())
        .as(r.stderr())
        .noneMatch(l -> l.matches("(?i).*(exception|error|failed|not recorded|threads alive).*"));
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    double sum = 0;
    JsonNode x = null;
    for (JsonNode p : root.get("phases")) {
      sum += p.at("/joules/total").asDouble();
      if (p.get("name").asText().equals("x")) {
        x = p;
      }
    }
    double total = root.at("/totals/joules/total").asDouble();
    assertThat(total).isGreaterThan(0);
    assertThat(sum).isCloseTo(total, within(1e-9 * total));
    assertThat(x).as("phase x in %s", root.get("phases")).isNotNull();
    // every thread spent 5 ms in x; phase time is the time any thread was in it, within the run
    assertThat(x.get("wallSeconds").asDouble())
        .isGreaterThanOrEqualTo(0.005)
        .isLessThanOrEqualTo(root.at("/run/wallSeconds").asDouble());
    return root;
  }

  @Test
  void twentyThousandVirtualThreadsEachOpeningAPhaseOnJava25(@TempDir Path dir) throws Exception {
    String java25 = Java25IT.java25();
    run(
        dir,
        new ForkedJvm(dir, java25).arg("--enable-native-access=ALL-UNNAMED"),
        "virtual",
        20_000);
  }

  @Test
  void aThousandPlatformThreadsAtOnceEachOpeningAPhase(@TempDir Path dir) throws Exception {
    run(dir, new ForkedJvm(dir), "platform", 1_000);
  }
}

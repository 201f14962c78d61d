package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent is built for Java 17 and must run unchanged on Java 25. The JDK is taken from {@code
 * jouletrace.it.java25Home} (default: Temurin 25 where this project's machines have it).
 */
class Java25IT {

  static final Path JAVA25 =
      Path.of(
          System.getProperty("jouletrace.it.java25Home", "/usr/lib/jvm/temurin-25-jdk-amd64"),
          "bin",
          "java");

  /** The Java 25 {@code java}; fails the calling test where there is none. */
  static String java25() {
    assertThat(JAVA25)
        .as("Java 25 is needed for this test; set -Djouletrace.it.java25Home")
        .isExecutable();
    return JAVA25.toString();
  }

  private static ForkedJvm java25(Path dir) {
    return new ForkedJvm(dir, java25()).arg("--enable-native-access=ALL-UNNAMED");
  }

  @Test
  void phasesAndMeasuredEnergyOnJava25(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    try (FakePowercap rapl =
        new FakePowercap(dir.resolve("powercap"))
            .zone("intel-rapl:0", "package-0", 25, 262_143_328_850L, 0)
            .start()) {
      ForkedJvm.Result r =
          java25(dir)
              .agent("powercap.root=" + rapl.root() + ",prometheus.port=0,report.json=" + report)
              .arg(
                  "-cp",
                  ForkedJvm.appClassPath(),
                  "io.jouletrace.it.apps.PhasesApp",
                  dir.resolve("t.txt").toString(),
                  "alpha:400")
              .run(60);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stderr()).doesNotContain("WARNING", "Exception", "agent not started");
    }
    assertThat(Files.readAllLines(dir.resolve("t.txt")).get(0)).isEqualTo("recording true");
    assertThat(Files.readString(report))
        .contains("\"name\" : \"alpha\"", "\"source\" : \"rapl-sysfs\"");
  }

  @Test
  void djlExampleOnJava25(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        java25(dir)
            .env("DJL_OFFLINE", "true")
            .env("OPT_OUT_TRACKING", "true")
            .agent("prometheus.port=0,report.json=" + report)
            .arg("-jar", ForkedJvm.DJL_JAR.toString(), "--epochs", "1", "--samples", "1024")
            .run(120);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stderr()).doesNotContain("WARNING: A restricted", "sun.misc.Unsafe");
    assertThat(Files.readString(report))
        .contains("\"name\" : \"train-step\"", "\"name\" : \"inference\"");
  }
}

package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad configuration never stops the application; each problem is one line naming its key. */
class ConfigIT {

  @Test
  void malformedValuesAreNamedAndTheAppStillRuns(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .agent(
                "interval=fast,prometheus.port=off,bogus=1,report.json="
                    + report
                    + ",config="
                    + dir.resolve("missing.properties"))
            .arg("-Djouletrace.pue=0.5")
            .env("JOULETRACE_STAGE", "production")
            .arg(
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.PhasesApp",
                dir.resolve("t.txt").toString(),
                "work:200")
            .run(60);
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).contains("phases done");
    assertThat(r.stderr().lines().filter(l -> l.startsWith("jouletrace: invalid value")))
        .anySatisfy(l -> assertThat(l).contains("'fast'", "'interval'", "agent arguments", "100ms"))
        .anySatisfy(l -> assertThat(l).contains("'0.5'", "'pue'", "-Djouletrace.pue"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .contains(
                        "'production'",
                        "'stage'",
                        "JOULETRACE_STAGE",
                        "data, experimentation, training or inference"));
    assertThat(r.stderr()).contains("unknown configuration key 'bogus' (agent arguments)");
    assertThat(r.stderr())
        .contains("cannot read config file '" + dir.resolve("missing.properties"));
    // measured with the defaults for the bad keys, report still written
    assertThat(report).exists();
    assertThat(Files.readString(report))
        .contains("\"stage\" : \"training\"", "\"name\" : \"work\"");
  }

  @Test
  void strictRefusesToStartTheAgentButNotTheApp(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .agent("strict=true,interval=-1s,prometheus.port=off,report.json=" + report)
            .arg(
                "-cp",
                ForkedJvm.appClassPath(),
                "io.jouletrace.it.apps.PhasesApp",
                dir.resolve("t.txt").toString(),
                "work:100")
            .run(60);
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).contains("phases done");
    assertThat(r.stderr()).contains("'interval'", "agent not started", "strict=true");
    assertThat(Files.readAllLines(dir.resolve("t.txt")).get(0)).isEqualTo("recording false");
    assertThat(report).doesNotExist();
  }
}

package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report is written however the JVM ends, and energy measured so far is kept. */
class ExitIT {

  @Test
  void systemExitInsideAPhase(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .agent("prometheus.port=off,report.json=" + report)
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.ExitApp", "exit")
            .run(60);
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(Files.readString(report)).contains("\"name\" : \"unfinished\"");
    assertThat(r.stderr())
        .contains("unfinished", "total")
        .contains("1 phase(s) still open at exit, closed there: unfinished (thread main)");
  }

  @Test
  void sigtermInsideAPhase(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Running running =
        new ForkedJvm(dir)
            .agent("prometheus.port=off,report.json=" + report)
            .arg("-cp", ForkedJvm.appClassPath(), "io.jouletrace.it.apps.ExitApp", "wait")
            .start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!Files.readString(running.out()).contains("ready") && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    // the phase is open when the signal comes, or this test would prove nothing
    assertThat(Files.readString(running.out())).as("the application got ready").contains("ready");
    running.process().destroy(); // SIGTERM
    ForkedJvm.Result r = running.await(30);
    assertThat(r.exitCode()).isEqualTo(143);
    assertThat(Files.readString(report)).contains("\"name\" : \"unfinished\"");
  }
}

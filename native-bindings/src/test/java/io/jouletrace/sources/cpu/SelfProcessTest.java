package io.jouletrace.sources.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SelfProcessTest {

  @TempDir Path proc;

  @Test
  void pidAndCpuTimeFromAFakeProc() throws Exception {
    Path task = Files.createDirectory(proc.resolve("4242"));
    Files.createSymbolicLink(proc.resolve("self"), Path.of("4242"));
    // utime 250 and stime 125 ticks; the command name holds blanks and a parenthesis
    Files.writeString(
        task.resolve("stat"),
        "4242 (my (odd) job) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 125 0 0 20 0 7 0 100 0\n");
    assertThat(SelfProcess.pidFrom(proc)).isEqualTo(4242);
    assertThat(SelfProcess.cpuNanosFrom(proc)).isEqualTo((250 + 125) * 10_000_000L);
  }

  @Test
  void missingOrOddFilesAreUnknown() throws Exception {
    assertThat(SelfProcess.pidFrom(proc)).isEqualTo(-1);
    assertThat(SelfProcess.cpuNanosFrom(proc)).isEqualTo(-1);
    Files.createSymbolicLink(proc.resolve("self"), Path.of("not-a-pid"));
    assertThat(SelfProcess.pidFrom(proc)).isEqualTo(-1);
  }

  @Test
  void agreesWithProcessHandle() {
    assumeThat(Files.isReadable(Path.of("/proc/self/stat"))).isTrue();
    assertThat(SelfProcess.pid()).isEqualTo(ProcessHandle.current().pid());
    long jdk = ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
    long ours = SelfProcess.cpuNanos();
    // the same counters, read a moment apart, in clock ticks of 10 ms
    assertThat(Math.abs(ours - jdk)).isLessThanOrEqualTo(50_000_000L);
  }
}

package io.jouletrace.sources.nvml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.sources.nvml.FakeNvml.RecordingDiagnostics;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessShareTest {

  @TempDir Path tmp;

  @Test
  void twoProcessesShareAGpuByTheirSmUtilisation() throws Exception {
    FakeNvml.script(
        tmp,
        List.of(
            "devices 1",
            "proc 0 4100 2147483648",
            "proc 0 4200 1073741824",
            "util 0 4100 60 10",
            "util 0 4200 20 5"));

    try (NvmlSource source = FakeNvml.open(FakeNvml.library(), null, new RecordingDiagnostics())) {
      assertThat(source.processShare(0, 4100)).isCloseTo(0.75, within(1e-9));
      assertThat(source.processShare(0, 4200)).isCloseTo(0.25, within(1e-9));
      assertThat(source.processShare(0, 9999)).isZero();
    }
  }

  @Test
  void theOnlyComputeProcessOwnsTheWholeGpu() throws Exception {
    FakeNvml.script(tmp, List.of("devices 2", "proc 1 4100 1024", "util 1 4100 0"));

    try (NvmlSource source = FakeNvml.open(FakeNvml.library(), "0", new RecordingDiagnostics())) {
      // GPU 1 is not selected for energy, but its share can still be asked for.
      assertThat(source.processShare(1, 4100)).isEqualTo(1.0);
      assertThat(source.processShare(0, 4100)).isZero();
    }
  }

  @Test
  void anIdleGpuIsSplitEquallyAmongItsProcesses() throws Exception {
    FakeNvml.script(
        tmp,
        List.of(
            "devices 2",
            "proc 0 4100 1",
            "proc 0 4200 1",
            "util 0 4100 0",
            "util 0 4200 0",
            "proc 1 4100 1",
            "proc 1 4200 1",
            "proc 1 4300 1"));

    try (NvmlSource source = FakeNvml.open(FakeNvml.library(), null, new RecordingDiagnostics())) {
      assertThat(source.processShare(0, 4200)).isCloseTo(0.5, within(1e-9));
      // No utilisation sample at all (NVML_ERROR_NOT_FOUND): equal split as well.
      assertThat(source.processShare(1, 4300)).isCloseTo(1.0 / 3, within(1e-9));
    }
  }
}

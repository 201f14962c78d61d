package io.jouletrace.sources.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.sources.nvml.FakeNvml.RecordingDiagnostics;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link GpuProcesses} reports through the fake libnvidia-ml: the processes on each GPU and
 * their SM utilisation samples. The share computed from them is the agent's ({@code GpuShare}).
 */
class ProcessShareTest {

  @TempDir Path tmp;

  @Test
  void twoProcessesAndTheirSmUtilisationAreReported() throws Exception {
    FakeNvml.script(
        tmp,
        List.of(
            "devices 1",
            "proc 0 4100 2147483648",
            "proc 0 4200 1073741824",
            "util 0 4100 60 10",
            "util 0 4200 20 5"));

    try (NvmlSource source = FakeNvml.open(FakeNvml.library(), null, new RecordingDiagnostics())) {
      assertThat(source.computeProcesses(0)).containsExactlyInAnyOrder(4100L, 4200L);
      assertThat(source.smSamples(0, 0))
          .extracting(Nvml.ProcessSample::pid, Nvml.ProcessSample::smUtil)
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple(4100L, 60),
              org.assertj.core.groups.Tuple.tuple(4200L, 20));
    }
  }

  @Test
  void aGpuNotSelectedForEnergyCanStillBeAsked() throws Exception {
    FakeNvml.script(tmp, List.of("devices 2", "proc 1 4100 1024", "util 1 4100 0"));

    try (NvmlSource source = FakeNvml.open(FakeNvml.library(), "0", new RecordingDiagnostics())) {
      assertThat(source.computeProcesses(1)).containsExactly(4100L);
      assertThat(source.computeProcesses(0)).isEmpty();
    }
  }

  @Test
  void aGpuWithoutUtilisationSamplesReportsNone() throws Exception {
    FakeNvml.script(tmp, List.of("devices 2", "proc 1 4100 1", "proc 1 4200 1"));

    try (NvmlSource source = FakeNvml.open(FakeNvml.library(), null, new RecordingDiagnostics())) {
      assertThat(source.computeProcesses(1)).hasSize(2);
      assertThat(source.smSamples(1, 0)).isEmpty(); // NVML_ERROR_NOT_FOUND: no sample yet
    }
  }
}

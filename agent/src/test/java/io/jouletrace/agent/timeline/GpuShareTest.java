package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.nvml.GpuProcesses;
import io.jouletrace.sources.nvml.Nvml;
import io.jouletrace.sources.nvml.NvmlException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GpuShareTest {

  /** NVML as scripted by the test: processes and samples per GPU index. */
  private static final class Script implements GpuProcesses {
    final Map<Integer, Set<Long>> pids = new HashMap<>();
    final Map<Integer, List<Nvml.ProcessSample>> samples = new HashMap<>();
    boolean noUtilisation;
    boolean noProcesses;

    @Override
    public Set<Long> computeProcesses(int gpu) throws NvmlException {
      if (noProcesses) {
        throw new NvmlException("nvmlDeviceGetComputeRunningProcesses_v3", 999, "unknown error");
      }
      return pids.getOrDefault(gpu, Set.of());
    }

    @Override
    public List<Nvml.ProcessSample> smSamples(int gpu, long since) throws NvmlException {
      if (noUtilisation) {
        throw new NvmlException("nvmlDeviceGetProcessUtilization", 3, "Not Supported");
      }
      List<Nvml.ProcessSample> newer = new ArrayList<>();
      for (Nvml.ProcessSample s : samples.getOrDefault(gpu, List.of())) {
        if (s.timestampMicros() > since) {
          newer.add(s);
        }
      }
      return newer;
    }

    void util(int gpu, long pid, long micros, int sm) {
      samples
          .computeIfAbsent(gpu, k -> new ArrayList<>())
          .add(new Nvml.ProcessSample(pid, micros, sm, 0, 0, 0));
    }
  }

  private final List<String> warnings = new ArrayList<>();

  private static Device gpu(int index) {
    return new Device(
        "gpu-" + index, Domain.GPU, "nvml-energy", true, Map.of("gpu", Integer.toString(index)));
  }

  @Test
  void twoProcessesShareAGpuByTheirSmUtilisation() {
    Script nvml = new Script();
    nvml.pids.put(0, Set.of(4100L, 4200L));
    nvml.util(0, 4100, 10, 60);
    nvml.util(0, 4200, 10, 20);
    assertThat(new GpuShare(nvml, 4100, (k, m) -> warnings.add(m)).next(gpu(0)))
        .isCloseTo(0.75, within(1e-9));
    assertThat(new GpuShare(nvml, 4200, (k, m) -> warnings.add(m)).next(gpu(0)))
        .isCloseTo(0.25, within(1e-9));
    assertThat(new GpuShare(nvml, 9999, (k, m) -> warnings.add(m)).next(gpu(0))).isZero();
    assertThat(warnings).isEmpty();
  }

  @Test
  void onlyNewSamplesCountAndWithoutThemThePreviousShareHolds() {
    Script nvml = new Script();
    nvml.pids.put(0, Set.of(4100L, 4200L));
    nvml.util(0, 4100, 10, 60);
    nvml.util(0, 4200, 10, 20);
    GpuShare share = new GpuShare(nvml, 4100, (k, m) -> warnings.add(m));
    assertThat(share.next(gpu(0))).isCloseTo(0.75, within(1e-9));
    assertThat(share.next(gpu(0))).isCloseTo(0.75, within(1e-9)); // nothing newer
    nvml.util(0, 4100, 20, 10);
    nvml.util(0, 4200, 20, 30);
    assertThat(share.next(gpu(0))).isCloseTo(0.25, within(1e-9)); // only the new window
  }

  @Test
  void theOnlyComputeProcessOwnsTheWholeGpu() {
    Script nvml = new Script();
    nvml.pids.put(1, Set.of(4100L));
    GpuShare share = new GpuShare(nvml, 4100, (k, m) -> warnings.add(m));
    assertThat(share.next(gpu(1))).isEqualTo(1.0);
    assertThat(share.next(gpu(0))).isZero();
  }

  @Test
  void anIdleGpuIsSplitEquallyAmongItsProcesses() {
    Script nvml = new Script();
    nvml.pids.put(0, Set.of(4100L, 4200L));
    nvml.util(0, 4100, 10, 0);
    nvml.util(0, 4200, 10, 0);
    nvml.pids.put(1, Set.of(4100L, 4200L, 4300L));
    assertThat(new GpuShare(nvml, 4200, (k, m) -> warnings.add(m)).next(gpu(0)))
        .isCloseTo(0.5, within(1e-9));
    // No utilisation sample at all: equal split as well.
    assertThat(new GpuShare(nvml, 4300, (k, m) -> warnings.add(m)).next(gpu(1)))
        .isCloseTo(1.0 / 3, within(1e-9));
  }

  @Test
  void withoutPerProcessUtilisationTheSplitIsEqualAndSaidOnce() {
    Script nvml = new Script();
    nvml.pids.put(0, Set.of(1L, 2L, 3L, 4L));
    nvml.noUtilisation = true;
    List<String> keys = new ArrayList<>();
    GpuShare share = new GpuShare(nvml, 2, (k, m) -> keys.add(k));
    assertThat(share.next(gpu(0))).isCloseTo(0.25, within(1e-9));
    assertThat(keys).containsExactly("nvml.share.util.0");
  }

  @Test
  void whenProcessesCannotBeListedTheWholeGpuIsChargedWithAWarning() {
    Script nvml = new Script();
    nvml.noProcesses = true;
    List<String> keys = new ArrayList<>();
    GpuShare share = new GpuShare(nvml, 2, (k, m) -> keys.add(k));
    assertThat(share.next(gpu(0))).isEqualTo(1.0);
    assertThat(keys).containsExactly("nvml.share.procs.0", "gpu.share.gpu-0");
  }
}

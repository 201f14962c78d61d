package io.jouletrace.sources.nvml;

import java.util.List;
import java.util.Set;

/**
 * Who uses a GPU, as NVML reports it: the facts a per-process share of the GPU's energy is computed
 * from (the policy itself lives with the attribution).
 */
public interface GpuProcesses {

  /**
   * Lists the compute processes on a GPU ({@code nvmlDeviceGetComputeRunningProcesses_v3}).
   *
   * @param gpuIndex NVML index of the GPU (need not be selected for energy)
   * @return their process ids
   * @throws NvmlException when NVML cannot list them, or is shut down
   */
  Set<Long> computeProcesses(int gpuIndex) throws NvmlException;

  /**
   * Returns the per-process SM utilisation samples newer than a time ({@code
   * nvmlDeviceGetProcessUtilization}).
   *
   * @param gpuIndex NVML index of the GPU
   * @param sinceMicros the newest sample time seen before, 0 for all NVML keeps
   * @return the samples; empty when there are none newer
   * @throws NvmlException when the GPU does not report them (vGPU, some consumer boards)
   */
  List<Nvml.ProcessSample> smSamples(int gpuIndex, long sinceMicros) throws NvmlException;
}

package io.jouletrace.agent.timeline;

import io.jouletrace.sources.Device;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.nvml.GpuProcesses;
import io.jouletrace.sources.nvml.Nvml;
import io.jouletrace.sources.nvml.NvmlException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * This process's share of each GPU per sampling window, used for {@code attribution=process}: the
 * job is charged that fraction of the GPU's board energy, idle power included. The counterpart of
 * {@link CpuShare} for GPUs.
 *
 * <p>The share is this process's SM utilisation divided by the sum over every process NVML reports
 * for that GPU, over the samples newer than the previous call for that GPU. It is 1 when this
 * process is the GPU's only compute process and 0 when it is not among them. When no process used
 * the SMs since the last call (all utilisations zero) the GPU is idle but held, and the share is
 * split equally among its compute processes; when NVML has no new sample, the previous share is
 * repeated (equal split before the first one). Where per-process utilisation is not reported (vGPU,
 * some consumer boards) the share is an equal split, with one warning. Where NVML cannot even list
 * the GPU's processes, the whole GPU is charged to the job, with one warning. Separating idle power
 * first, as Kepler does ((total - idle) x share), is not done.
 */
public final class GpuShare {

  private final GpuProcesses processes;
  private final long pid;
  private final Diagnostics diagnostics;
  private final Map<Integer, Long> lastSeenMicros = new HashMap<>();
  private final Map<Integer, Double> lastShare = new HashMap<>();

  /**
   * Creates the policy.
   *
   * @param processes who uses each GPU
   * @param pid this process, e.g. {@code ProcessHandle.current().pid()}
   * @param diagnostics receives one warning per GPU and problem
   */
  public GpuShare(GpuProcesses processes, long pid, Diagnostics diagnostics) {
    this.processes = processes;
    this.pid = pid;
    this.diagnostics = diagnostics;
  }

  /**
   * Returns the job's share of a GPU over the window since the previous call for it.
   *
   * @param gpu a GPU device; its {@code gpu} detail is the NVML index
   * @return a value in [0, 1]; 1 when the share cannot be told (reported once)
   */
  public double next(Device gpu) {
    String index = gpu.detail().get("gpu");
    double s;
    try {
      s = index == null ? Double.NaN : share(Integer.parseInt(index));
    } catch (NumberFormatException e) {
      s = Double.NaN;
    }
    if (Double.isNaN(s)) {
      diagnostics.warn(
          "gpu.share." + gpu.id(),
          "this process's share of "
              + gpu.id()
              + " cannot be read from NVML; the whole GPU's energy is charged to this job");
      return 1.0;
    }
    return s;
  }

  /**
   * The share of the GPU with this NVML index.
   *
   * @return a value in [0, 1], or NaN when NVML cannot list the GPU's processes
   */
  double share(int gpuIndex) {
    Set<Long> pids;
    try {
      pids = processes.computeProcesses(gpuIndex);
    } catch (NvmlException e) {
      diagnostics.warn(
          "nvml.share.procs." + gpuIndex,
          "GPU "
              + gpuIndex
              + ": cannot list its processes ("
              + e.getMessage()
              + "); this process's share of it is unknown");
      return Double.NaN;
    }
    if (!pids.contains(pid)) {
      return 0.0;
    }
    if (pids.size() == 1) {
      return 1.0;
    }
    double equal = 1.0 / pids.size();
    List<Nvml.ProcessSample> samples;
    try {
      samples = processes.smSamples(gpuIndex, lastSeenMicros.getOrDefault(gpuIndex, 0L));
    } catch (NvmlException e) {
      diagnostics.warn(
          "nvml.share.util." + gpuIndex,
          "GPU "
              + gpuIndex
              + ": per-process utilisation unavailable ("
              + e.getMessage()
              + "); its energy is split equally among its "
              + pids.size()
              + " compute processes");
      return equal;
    }
    if (samples.isEmpty()) {
      return lastShare.getOrDefault(gpuIndex, equal);
    }
    long mine = 0;
    long total = 0;
    long seen = lastSeenMicros.getOrDefault(gpuIndex, 0L);
    for (Nvml.ProcessSample sample : samples) {
      total += sample.smUtil();
      if (sample.pid() == pid) {
        mine += sample.smUtil();
      }
      seen = Math.max(seen, sample.timestampMicros());
    }
    lastSeenMicros.put(gpuIndex, seen);
    double share = total == 0 ? equal : Math.min(1.0, (double) mine / total);
    lastShare.put(gpuIndex, share);
    return share;
  }
}

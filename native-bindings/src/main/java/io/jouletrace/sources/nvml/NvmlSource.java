package io.jouletrace.sources.nvml;

import com.sun.jna.Pointer;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * GPU board energy from NVML, one {@link Device} per selected GPU ({@code gpu-<index>}).
 *
 * <p>Each GPU is read one of two ways, chosen at open and shown as the device's source:
 *
 * <ul>
 *   <li>{@code nvml-energy}: {@code nvmlDeviceGetTotalEnergyConsumption}, millijoules since the
 *       driver loaded (Volta and newer). The device reports the counter minus its value at open.
 *       The counter updates about every 100 ms, which bounds how finely phases can be told apart.
 *       It is also slow to read: about 3 ms per call on an H200 with driver 580, against about 4 us
 *       for the power readings, so {@link #sample(double[])} blocks about 3 ms per GPU and belongs
 *       on a sampling thread of its own.
 *   <li>{@code nvml-power}: sampled power integrated over time with the trapezoid rule between
 *       samples, on a monotonic clock. The instantaneous field {@code NVML_FI_DEV_POWER_INSTANT} is
 *       preferred. The fallback {@code nvmlDeviceGetPowerUsage} is a 1 s moving average on Ampere
 *       (except GA100) and newer: integrating it shifts energy about 0.5 s later in time. Totals
 *       over a long run are right, but a phase of a few seconds or less is credited with part of
 *       the previous phase's power and loses part of its own to the next one. The error of the
 *       trapezoid rule itself is at most (power step) x (sampling interval) / 2 per step.
 * </ul>
 *
 * <p>A GPU that stops answering for good ({@code NVML_ERROR_GPU_IS_LOST} and the like, or 50 failed
 * reads in a row) keeps the energy counted so far and is read no more; the other GPUs go on. One
 * warning goes to {@link Diagnostics}. A counter that goes backwards (a driver reload) is taken as
 * a reset: no energy is counted for that step.
 *
 * <p>Opening, the choice of GPUs and of how each is read live in {@link NvmlOpening}; the sampling
 * of one GPU in {@link NvmlGpu}; what {@code probe} shows in {@link NvmlProbe}; who uses a GPU is
 * answered here ({@link GpuProcesses}), the share of its energy that makes for this process by the
 * agent.
 *
 * <pre>{@code
 * try (NvmlSource gpus = NvmlSource.open(null, null, diagnostics)) {
 *   double[] joules = new double[gpus.devices().size()];
 *   gpus.sample(joules);
 * }
 * }</pre>
 */
public final class NvmlSource implements EnergySource, GpuProcesses {

  /** Configuration key for a library name or absolute path, read by the agent's configuration. */
  public static final String LIBRARY_KEY = "nvml.library";

  /** Configuration key for the GPU list; same syntax as {@code CUDA_VISIBLE_DEVICES}. */
  public static final String DEVICES_KEY = GpuSelection.OVERRIDE_KEY;

  /** Source label of a GPU read through its energy counter. */
  public static final String SOURCE_ENERGY = "nvml-energy";

  /** Source label of a GPU whose sampled power is integrated. */
  public static final String SOURCE_POWER = "nvml-power";

  private final Nvml nvml;
  private final Diagnostics diagnostics;
  private final LongSupplier nanoClock;
  private final NvmlGpu[] gpus;
  private final List<Device> devices;
  private final Object shareLock;

  /** Parts not closed yet, shared by the parts of one source ({@link #parts()}); else null. */
  private final AtomicInteger openParts;

  private boolean closed;

  NvmlSource(Nvml nvml, List<NvmlGpu> gpus, Diagnostics diagnostics, LongSupplier nanoClock) {
    this(nvml, gpus, diagnostics, nanoClock, new Object(), null);
  }

  private NvmlSource(
      Nvml nvml,
      List<NvmlGpu> gpus,
      Diagnostics diagnostics,
      LongSupplier nanoClock,
      Object shareLock,
      AtomicInteger openParts) {
    this.shareLock = shareLock;
    this.openParts = openParts;
    this.nvml = nvml;
    this.diagnostics = diagnostics;
    this.nanoClock = nanoClock;
    this.gpus = gpus.toArray(new NvmlGpu[0]);
    List<Device> list = new ArrayList<>();
    for (NvmlGpu g : gpus) {
      list.add(g.device());
    }
    this.devices = List.copyOf(list);
  }

  /**
   * Opens NVML and every GPU this process uses.
   *
   * @param libraryNameOrPath a library name or absolute path; {@code null} for {@code
   *     libnvidia-ml.so.1} ({@code nvml} on Windows)
   * @param gpuDevicesOverride the {@code gpu.devices} setting, or {@code null} to follow {@code
   *     CUDA_VISIBLE_DEVICES} (all GPUs when that is unset too); see {@link GpuSelection}
   * @param diagnostics where problems found while opening and sampling are reported
   * @return an open source
   * @throws SourceUnavailableException when the library is absent, {@code nvmlInit_v2} fails, or no
   *     usable GPU is selected; the message says why and how to fix it
   */
  public static NvmlSource open(
      String libraryNameOrPath, String gpuDevicesOverride, Diagnostics diagnostics)
      throws SourceUnavailableException {
    return open(
        libraryNameOrPath,
        gpuDevicesOverride,
        System.getenv(GpuSelection.CUDA_VISIBLE_DEVICES),
        System.getenv("CUDA_DEVICE_ORDER"),
        diagnostics,
        System::nanoTime);
  }

  /** As {@link #open(String, String, Diagnostics)}, with the environment and clock given. */
  static NvmlSource open(
      String libraryNameOrPath,
      String gpuDevicesOverride,
      String cudaVisibleDevices,
      String cudaDeviceOrder,
      Diagnostics diagnostics,
      LongSupplier nanoClock)
      throws SourceUnavailableException {
    return NvmlOpening.open(
        libraryNameOrPath,
        gpuDevicesOverride,
        cudaVisibleDevices,
        cudaDeviceOrder,
        diagnostics,
        nanoClock);
  }

  /** The NVML session, for {@link NvmlProbe}. */
  Nvml nvml() {
    return nvml;
  }

  /** The selected GPUs, for {@link NvmlProbe}. */
  List<NvmlGpu> gpus() {
    return List.of(gpus);
  }

  @Override
  public String name() {
    return "nvml";
  }

  @Override
  public List<Device> devices() {
    return devices;
  }

  /**
   * One source per GPU when there are several: each GPU's energy counter updates on its own
   * schedule, so each is read just after its own updates. The parts share this source's NVML
   * session, which closes with the last of them; this source is then not to be closed itself.
   */
  @Override
  public List<NvmlSource> parts() {
    if (gpus.length <= 1 || openParts != null) {
      return List.of(this);
    }
    AtomicInteger open = new AtomicInteger(gpus.length);
    List<NvmlSource> parts = new ArrayList<>();
    for (NvmlGpu g : gpus) {
      parts.add(new NvmlSource(nvml, List.of(g), diagnostics, nanoClock, shareLock, open));
    }
    return parts;
  }

  /**
   * About 100 ms when every GPU is read through its energy counter (see {@link
   * NvmlGpu#ENERGY_UPDATE_NANOS}); 0 for integrated power, which is current when read.
   */
  @Override
  public long updatePeriodNanos() {
    for (NvmlGpu g : gpus) {
      if (g.mode != NvmlGpu.Mode.ENERGY) {
        return 0;
      }
    }
    return gpus.length == 0 ? 0 : NvmlGpu.ENERGY_UPDATE_NANOS;
  }

  @Override
  public long readCostNanos() {
    long cost = 0;
    for (NvmlGpu g : gpus) {
      cost += g.readCostNanos();
    }
    return cost;
  }

  @Override
  public void sample(double[] joules) {
    for (int i = 0; i < gpus.length; i++) {
      joules[i] = gpus[i].sample(nvml, diagnostics, nanoClock);
    }
  }

  @Override
  public Set<Long> computeProcesses(int gpuIndex) throws NvmlException {
    synchronized (shareLock) {
      Set<Long> pids = new HashSet<>();
      for (Nvml.ComputeProcess p : nvml.computeRunningProcesses(handle(gpuIndex))) {
        pids.add(p.pid());
      }
      return pids;
    }
  }

  @Override
  public List<Nvml.ProcessSample> smSamples(int gpuIndex, long sinceMicros) throws NvmlException {
    synchronized (shareLock) {
      return nvml.processUtilization(handle(gpuIndex), sinceMicros);
    }
  }

  /** A selected GPU's handle, or NVML's for another index. */
  private Pointer handle(int gpuIndex) throws NvmlException {
    if (!nvml.isOpen()) {
      throw new NvmlException(
          "nvmlDeviceGetHandleByIndex_v2", Nvml.UNINITIALIZED, "NVML is shut down");
    }
    for (NvmlGpu g : gpus) {
      if (g.index == gpuIndex) {
        return g.handle;
      }
    }
    return nvml.handleByIndex(gpuIndex);
  }

  /** Shuts NVML down for this source (once; for parts, with the last part). Never throws. */
  @Override
  public void close() {
    synchronized (shareLock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (openParts != null && openParts.decrementAndGet() > 0) {
      return;
    }
    synchronized (shareLock) {
      nvml.close();
    }
  }
}

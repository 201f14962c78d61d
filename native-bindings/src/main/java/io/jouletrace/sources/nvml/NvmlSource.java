package io.jouletrace.sources.nvml;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
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

  /** Failed reads in a row after which a GPU is given up. */
  static final int MAX_FAILURES_IN_A_ROW = 50;

  private enum Mode {
    ENERGY,
    INSTANT_POWER,
    AVERAGE_POWER
  }

  private static final class Gpu {
    final int index;
    final Pointer handle;
    final String id;
    final String uuid;
    final String name;
    final String pciBusId;
    final boolean energySupported;
    final boolean instantSupported;
    final Mode mode;
    final LongByReference energyRef = new LongByReference();
    final IntByReference powerRef = new IntByReference();
    final NvmlLibrary.FieldValue field = new NvmlLibrary.FieldValue();

    long lastMillijoules;
    double lastWatts;
    long lastNanos;
    double joules;
    int failures;
    boolean stopped;

    Gpu(
        int index,
        Pointer handle,
        String uuid,
        String name,
        String pciBusId,
        boolean energySupported,
        boolean instantSupported,
        Mode mode) {
      this.index = index;
      this.handle = handle;
      this.id = "gpu-" + index;
      this.uuid = uuid;
      this.name = name;
      this.pciBusId = pciBusId;
      this.energySupported = energySupported;
      this.instantSupported = instantSupported;
      this.mode = mode;
      // readInstantPower works on the native memory directly; skip JNA's per-call reflection.
      this.field.setAutoSynch(false);
    }

    String label() {
      return "GPU " + index + " (" + name + ", " + uuid + ")";
    }
  }

  private final Nvml nvml;
  private final Diagnostics diagnostics;
  private final LongSupplier nanoClock;
  private final Gpu[] gpus;
  private final List<Device> devices;
  private final Object shareLock = new Object();

  private NvmlSource(Nvml nvml, List<Gpu> gpus, Diagnostics diagnostics, LongSupplier nanoClock) {
    this.nvml = nvml;
    this.diagnostics = diagnostics;
    this.nanoClock = nanoClock;
    this.gpus = gpus.toArray(new Gpu[0]);
    List<Device> list = new ArrayList<>();
    for (Gpu g : gpus) {
      Map<String, String> detail = new LinkedHashMap<>();
      detail.put("gpu", Integer.toString(g.index));
      detail.put("UUID", g.uuid);
      detail.put("modelName", g.name);
      detail.put("pci_bus_id", g.pciBusId);
      String source = g.mode == Mode.ENERGY ? SOURCE_ENERGY : SOURCE_POWER;
      list.add(new Device(g.id, Domain.GPU, source, true, detail));
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
    String name =
        libraryNameOrPath == null || libraryNameOrPath.isBlank()
            ? NvmlLibrary.Loader.defaultName()
            : libraryNameOrPath.trim();
    NvmlLibrary library;
    try {
      library = NvmlLibrary.Loader.load(name);
    } catch (UnsatisfiedLinkError e) {
      throw new SourceUnavailableException(
          "NVML library '"
              + name
              + "' is not available ("
              + firstLine(e.getMessage())
              + "): no NVIDIA driver on this machine, or the library is not on the loader path."
              + " Fix: install the NVIDIA driver (nvidia-smi must work); in a container, run with"
              + " the NVIDIA Container Toolkit (--gpus all); or set "
              + LIBRARY_KEY
              + " to the full path of libnvidia-ml.so.1 (nvml.dll on Windows)",
          e);
    } catch (NoClassDefFoundError e) {
      throw new SourceUnavailableException(
          "NVML is not available: JNA is missing from the class path (" + e.getMessage() + ")", e);
    }
    Nvml nvml;
    try {
      nvml = Nvml.init(library);
    } catch (NvmlException e) {
      throw new SourceUnavailableException(initFailure(name, e), e);
    }
    boolean opened = false;
    try {
      NvmlSource source =
          build(
              nvml,
              gpuDevicesOverride,
              cudaVisibleDevices,
              cudaDeviceOrder,
              diagnostics,
              nanoClock);
      opened = true;
      return source;
    } finally {
      if (!opened) {
        nvml.close();
      }
    }
  }

  private static String initFailure(String library, NvmlException e) {
    String what =
        "nvmlInit_v2 failed in '"
            + library
            + "': "
            + e.nvmlMessage()
            + " ("
            + Nvml.codeName(e.code())
            + ")";
    switch (e.code()) {
      case Nvml.LIB_RM_VERSION_MISMATCH:
        return what
            + ": the NVML library and the loaded NVIDIA kernel module come from different driver"
            + " versions (usually a driver upgrade without a reboot, or a container carrying its"
            + " own libnvidia-ml). Fix: reboot or reload the nvidia kernel modules; in a container,"
            + " use the host's libnvidia-ml.so.1 (NVIDIA Container Toolkit)";
      case Nvml.NO_PERMISSION:
        return what
            + ": this user may not open the GPU device files. Fix: add the user to the group that"
            + " owns /dev/nvidia* (often 'video'), or pass the devices into the container";
      case Nvml.DRIVER_NOT_LOADED:
        return what
            + ": the NVIDIA kernel driver is not running. Fix: load it (`sudo modprobe nvidia`,"
            + " or reinstall the driver) until nvidia-smi works";
      case Nvml.FUNCTION_NOT_FOUND:
        return what + ": this library is too old for JouleTrace. Fix: update the NVIDIA driver";
      default:
        return what + ". Fix: check that nvidia-smi works for this user";
    }
  }

  private static NvmlSource build(
      Nvml nvml,
      String override,
      String cudaVisibleDevices,
      String cudaDeviceOrder,
      Diagnostics diagnostics,
      LongSupplier nanoClock)
      throws SourceUnavailableException {
    int count;
    try {
      count = nvml.deviceCount();
    } catch (NvmlException e) {
      throw new SourceUnavailableException(
          "NVML cannot count the GPUs: " + e.getMessage() + ". Fix: check that nvidia-smi works",
          e);
    }
    if (count == 0) {
      throw new SourceUnavailableException(
          "NVML sees no GPU on this machine (the driver is loaded but no GPU is visible; in a"
              + " container, pass GPUs with --gpus)");
    }
    List<GpuSelection.Gpu> visible = new ArrayList<>();
    Map<Integer, Pointer> handles = new HashMap<>();
    for (int i = 0; i < count; i++) {
      try {
        Pointer h = nvml.handleByIndex(i);
        visible.add(new GpuSelection.Gpu(i, nvml.uuid(h), nvml.name(h)));
        handles.put(i, h);
      } catch (NvmlException e) {
        diagnostics.warn(
            "nvml.handle." + i,
            "GPU " + i + " cannot be opened and is left out: " + e.getMessage());
      }
    }
    GpuSelection.Result selection =
        GpuSelection.select(
            override, cudaVisibleDevices, cudaDeviceOrder, visible, migResolver(nvml));
    for (int i = 0; i < selection.problems().size(); i++) {
      diagnostics.warn("nvml.selection." + i, selection.problems().get(i));
    }
    if (selection.indices().isEmpty()) {
      String fix =
          selection.origin().equals(GpuSelection.OVERRIDE_KEY)
              ? "Fix: set " + DEVICES_KEY + " to GPU indices or UUIDs (nvidia-smi -L), or remove it"
              : "Fix: unset "
                  + GpuSelection.CUDA_VISIBLE_DEVICES
                  + " or name the GPUs in it, or set "
                  + DEVICES_KEY;
      throw new SourceUnavailableException(
          "no GPU selected: "
              + selection.origin()
              + "='"
              + selection.spec()
              + "' names none of the "
              + visible.size()
              + " GPUs NVML sees. "
              + fix);
    }
    List<Gpu> chosen = new ArrayList<>();
    for (int index : selection.indices()) {
      GpuSelection.Gpu seen =
          visible.stream().filter(g -> g.index() == index).findFirst().orElseThrow();
      Gpu gpu = probe(nvml, index, handles.get(index), seen, diagnostics, nanoClock);
      if (gpu != null) {
        chosen.add(gpu);
      }
    }
    if (chosen.isEmpty()) {
      throw new SourceUnavailableException(
          "none of the selected GPUs "
              + selection.indices()
              + " reports energy or power through NVML (see the warnings above)");
    }
    return new NvmlSource(nvml, chosen, diagnostics, nanoClock);
  }

  private static GpuSelection.MigResolver migResolver(Nvml nvml) {
    return migUuid -> {
      try {
        Pointer mig = nvml.handleByUuid(migUuid);
        return OptionalInt.of(nvml.index(nvml.parentOfMigDevice(mig)));
      } catch (NvmlException e) {
        return OptionalInt.empty();
      }
    };
  }

  /** Decides how to read one GPU and takes the first reading; null when it cannot be read. */
  private static Gpu probe(
      Nvml nvml,
      int index,
      Pointer handle,
      GpuSelection.Gpu seen,
      Diagnostics diagnostics,
      LongSupplier nanoClock) {
    String label = "GPU " + index + " (" + seen.name() + ", " + seen.uuid() + ")";
    String pci;
    try {
      pci = nvml.pciBusId(handle);
    } catch (NvmlException e) {
      pci = "";
    }
    LongByReference energy = new LongByReference();
    int energyRc = nvml.readTotalEnergy(handle, energy);
    NvmlLibrary.FieldValue field = new NvmlLibrary.FieldValue();
    int instantRc = nvml.readInstantPower(handle, field);
    IntByReference usage = new IntByReference();
    int usageRc = nvml.readPowerUsage(handle, usage);
    long now = nanoClock.getAsLong();
    boolean energyOk = energyRc == Nvml.SUCCESS;
    boolean instantOk = instantRc == Nvml.SUCCESS;
    if (energyRc == Nvml.GPU_IS_LOST) {
      diagnostics.warn(
          "nvml.lost." + index,
          label + " is lost (" + nvml.errorString(energyRc) + ") and is left out");
      return null;
    }
    Mode mode;
    if (energyOk) {
      mode = Mode.ENERGY;
    } else if (instantOk) {
      mode = Mode.INSTANT_POWER;
    } else if (usageRc == Nvml.SUCCESS) {
      mode = Mode.AVERAGE_POWER;
    } else {
      diagnostics.warn(
          "nvml.unreadable." + index,
          label
              + " reports neither energy ("
              + describe(nvml, energyRc)
              + ") nor power ("
              + describe(nvml, usageRc)
              + ") and is left out");
      return null;
    }
    if (!energyOk) {
      String how =
          mode == Mode.INSTANT_POWER
              ? "integrating its instantaneous power (NVML_FI_DEV_POWER_INSTANT) instead"
              : "integrating nvmlDeviceGetPowerUsage instead, which on Ampere and newer is a 1 s"
                  + " moving average: energy lags the real power by about 0.5 s, so phases"
                  + " shorter than a few seconds are blurred into their neighbours";
      diagnostics.warn(
          "nvml.power." + index,
          label
              + ": no energy counter ("
              + describe(nvml, energyRc)
              + "; it needs a Volta or newer GPU and a recent driver); "
              + how
              + " (source "
              + SOURCE_POWER
              + ")");
    }
    Gpu gpu = new Gpu(index, handle, seen.uuid(), seen.name(), pci, energyOk, instantOk, mode);
    switch (mode) {
      case ENERGY:
        gpu.lastMillijoules = energy.getValue();
        break;
      case INSTANT_POWER:
        gpu.lastWatts = field.numericValue() / 1000.0;
        gpu.lastNanos = now;
        break;
      default:
        gpu.lastWatts = Integer.toUnsignedLong(usage.getValue()) / 1000.0;
        gpu.lastNanos = now;
        break;
    }
    return gpu;
  }

  private static String describe(Nvml nvml, int rc) {
    return Nvml.codeName(rc) + ": " + nvml.errorString(rc);
  }

  @Override
  public String name() {
    return "nvml";
  }

  @Override
  public List<Device> devices() {
    return devices;
  }

  /** Reading the energy counter takes about 3 ms per GPU; a power reading about 4 µs. */
  static final long ENERGY_READ_NANOS = 3_000_000;

  static final long POWER_READ_NANOS = 4_000;

  @Override
  public long readCostNanos() {
    long cost = 0;
    for (Gpu g : gpus) {
      cost += g.mode == Mode.ENERGY ? ENERGY_READ_NANOS : POWER_READ_NANOS;
    }
    return cost;
  }

  @Override
  public void sample(double[] joules) {
    boolean open = nvml.isOpen();
    for (int i = 0; i < gpus.length; i++) {
      Gpu g = gpus[i];
      if (open && !g.stopped) {
        read(g);
      }
      joules[i] = g.joules;
    }
  }

  private void read(Gpu g) {
    int rc;
    try {
      switch (g.mode) {
        case ENERGY:
          rc = nvml.readTotalEnergy(g.handle, g.energyRef);
          if (rc == Nvml.SUCCESS) {
            long now = g.energyRef.getValue();
            long delta = now - g.lastMillijoules;
            if (delta < 0) {
              diagnostics.warn(
                  "nvml.reset." + g.id,
                  g.label()
                      + ": energy counter went from "
                      + g.lastMillijoules
                      + " to "
                      + now
                      + " mJ; taken as a reset (driver reload), no energy counted for that step");
              delta = 0;
            }
            g.lastMillijoules = now;
            g.joules += delta / 1000.0;
          }
          break;
        case INSTANT_POWER:
          rc = nvml.readInstantPower(g.handle, g.field);
          if (rc == Nvml.SUCCESS) {
            integrate(g, g.field.numericValue() / 1000.0);
          }
          break;
        default:
          rc = nvml.readPowerUsage(g.handle, g.powerRef);
          if (rc == Nvml.SUCCESS) {
            integrate(g, Integer.toUnsignedLong(g.powerRef.getValue()) / 1000.0);
          }
          break;
      }
    } catch (RuntimeException e) {
      // JNA reports native trouble as runtime exceptions; sample() must not throw.
      rc = Nvml.UNKNOWN;
    }
    if (rc == Nvml.SUCCESS) {
      g.failures = 0;
    } else if (nvml.isOpen()) {
      failed(g, rc);
    }
  }

  private void integrate(Gpu g, double watts) {
    long now = nanoClock.getAsLong();
    double seconds = (now - g.lastNanos) * 1e-9;
    if (seconds > 0 && Double.isFinite(watts)) {
      g.joules += 0.5 * (g.lastWatts + watts) * seconds;
    }
    g.lastWatts = Double.isFinite(watts) ? watts : g.lastWatts;
    g.lastNanos = now;
  }

  private void failed(Gpu g, int rc) {
    g.failures++;
    if (isPermanent(rc) || g.failures >= MAX_FAILURES_IN_A_ROW) {
      g.stopped = true;
      diagnostics.warn(
          "nvml.stopped." + g.id,
          g.label()
              + " stopped answering ("
              + describe(nvml, rc)
              + (isPermanent(rc) ? "" : ", " + g.failures + " failed reads in a row")
              + "); its energy stays at "
              + String.format(Locale.ROOT, "%.3f", g.joules)
              + " J and the other GPUs go on. Fix: look for Xid errors in `dmesg` and check"
              + " nvidia-smi; a lost GPU needs a reset or a reboot");
    } else {
      diagnostics.warn(
          "nvml.read." + g.id + "." + rc,
          g.label()
              + ": reading failed ("
              + describe(nvml, rc)
              + "); its energy is carried over to the next good read");
    }
  }

  private static boolean isPermanent(int rc) {
    switch (rc) {
      case Nvml.GPU_IS_LOST:
      case Nvml.RESET_REQUIRED:
      case Nvml.UNINITIALIZED:
      case Nvml.DRIVER_NOT_LOADED:
      case Nvml.FUNCTION_NOT_FOUND:
      case Nvml.NOT_SUPPORTED:
      case Nvml.INVALID_ARGUMENT:
      case Nvml.LIB_RM_VERSION_MISMATCH:
        return true;
      default:
        return false;
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
    for (Gpu g : gpus) {
      if (g.index == gpuIndex) {
        return g.handle;
      }
    }
    return nvml.handleByIndex(gpuIndex);
  }

  /**
   * Describes the selected GPUs, for the {@code probe} command.
   *
   * @return one entry per device, in {@link #devices()} order
   */
  public List<GpuInfo> describe() {
    List<GpuInfo> out = new ArrayList<>();
    for (Gpu g : gpus) {
      double limitWatts = Double.NaN;
      long memory = -1;
      if (nvml.isOpen() && !g.stopped) {
        try {
          limitWatts = nvml.enforcedPowerLimitMilliwatts(g.handle) / 1000.0;
        } catch (NvmlException e) {
          try {
            limitWatts = nvml.powerManagementLimitMilliwatts(g.handle) / 1000.0;
          } catch (NvmlException ignored) {
            // Stays NaN: not available.
          }
        }
        try {
          memory = nvml.memoryInfo(g.handle).totalBytes();
        } catch (NvmlException e) {
          // Stays -1: not available.
        }
      }
      out.add(
          new GpuInfo(
              g.index,
              g.uuid,
              g.name,
              g.pciBusId,
              g.energySupported,
              g.instantSupported,
              limitWatts,
              memory,
              g.mode == Mode.ENERGY ? SOURCE_ENERGY : SOURCE_POWER));
    }
    return out;
  }

  /**
   * Returns the driver version, e.g. {@code 550.54.15}.
   *
   * @return the version, or empty when NVML cannot tell or the source is closed
   */
  public Optional<String> driverVersion() {
    try {
      return Optional.of(nvml.driverVersion());
    } catch (NvmlException e) {
      return Optional.empty();
    }
  }

  /**
   * Returns the NVML library version, e.g. {@code 12.550.54.15}.
   *
   * @return the version, or empty when NVML cannot tell or the source is closed
   */
  public Optional<String> nvmlVersion() {
    try {
      return Optional.of(nvml.nvmlVersion());
    } catch (NvmlException e) {
      return Optional.empty();
    }
  }

  /** Shuts NVML down for this source (once). Never throws. */
  @Override
  public void close() {
    synchronized (shareLock) {
      nvml.close();
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "no detail";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}

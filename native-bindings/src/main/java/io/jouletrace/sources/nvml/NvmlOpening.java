package io.jouletrace.sources.nvml;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.SourceUnavailableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.LongSupplier;

/**
 * Opening an {@link NvmlSource}: loading the library, {@code nvmlInit_v2}, choosing the GPUs this
 * process uses ({@link GpuSelection}) and how each is read, with one message per problem that says
 * how to fix it.
 */
final class NvmlOpening {

  private NvmlOpening() {}

  /** Opens NVML and the selected GPUs; see {@link NvmlSource#open(String, String, Diagnostics)}. */
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
      if (name.indexOf('/') >= 0 && !java.nio.file.Files.exists(java.nio.file.Path.of(name))) {
        // A path that was set explicitly: the culprit is the setting, not the driver.
        throw new SourceUnavailableException(
            NvmlSource.LIBRARY_KEY
                + "="
                + name
                + ": no such file. Fix: set it to the full path of libnvidia-ml.so.1 (ldconfig -p"
                + " | grep nvidia-ml shows it), or leave it unset to use the loader path",
            e);
      }
      throw new SourceUnavailableException(
          "NVML library '"
              + name
              + "' is not available ("
              + firstLine(e.getMessage())
              + "): no NVIDIA driver on this machine, or the library is not on the loader path."
              + " Fix: install the NVIDIA driver (nvidia-smi must work); in a container, run with"
              + " the NVIDIA Container Toolkit (--gpus all); or set "
              + NvmlSource.LIBRARY_KEY
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
              ? "Fix: set "
                  + NvmlSource.DEVICES_KEY
                  + " to GPU indices or UUIDs (nvidia-smi -L), or remove it"
              : "Fix: unset "
                  + GpuSelection.CUDA_VISIBLE_DEVICES
                  + " or name the GPUs in it, or set "
                  + NvmlSource.DEVICES_KEY;
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
    List<NvmlGpu> chosen = new ArrayList<>();
    for (int index : selection.indices()) {
      GpuSelection.Gpu seen =
          visible.stream().filter(g -> g.index() == index).findFirst().orElseThrow();
      NvmlGpu gpu = probe(nvml, index, handles.get(index), seen, diagnostics, nanoClock);
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
  private static NvmlGpu probe(
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
    NvmlGpu.Mode mode;
    if (energyOk) {
      mode = NvmlGpu.Mode.ENERGY;
    } else if (instantOk) {
      mode = NvmlGpu.Mode.INSTANT_POWER;
    } else if (usageRc == Nvml.SUCCESS) {
      mode = NvmlGpu.Mode.AVERAGE_POWER;
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
          mode == NvmlGpu.Mode.INSTANT_POWER
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
              + NvmlSource.SOURCE_POWER
              + ")");
    }
    NvmlGpu gpu =
        new NvmlGpu(index, handle, seen.uuid(), seen.name(), pci, energyOk, instantOk, mode);
    switch (mode) {
      case ENERGY:
        gpu.start(energy.getValue(), 0, now);
        break;
      case INSTANT_POWER:
        gpu.start(0, field.numericValue() / 1000.0, now);
        break;
      default:
        gpu.start(0, Integer.toUnsignedLong(usage.getValue()) / 1000.0, now);
        break;
    }
    return gpu;
  }

  static String describe(Nvml nvml, int rc) {
    return Nvml.codeName(rc) + ": " + nvml.errorString(rc);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "no detail";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}

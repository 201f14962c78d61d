package io.jouletrace.sources.nvml;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;

/**
 * One initialised NVML session over a {@link NvmlLibrary}: every return code checked, results
 * typed.
 *
 * <p>{@link #init(NvmlLibrary)} calls {@code nvmlInit_v2} once and {@link #close()} calls {@code
 * nvmlShutdown} once (later calls do nothing). NVML counts references itself, so several sessions
 * may be open at the same time; each must be closed.
 *
 * <pre>{@code
 * try (Nvml nvml = Nvml.init(NvmlLibrary.Loader.load(null))) {
 *   Pointer gpu = nvml.handleByIndex(0);
 *   long millijoules = nvml.totalEnergyMillijoules(gpu);
 * }
 * }</pre>
 *
 * <p>A function the loaded library lacks (an old driver) behaves as if it returned {@link
 * #FUNCTION_NOT_FOUND}; a closed session answers {@link #UNINITIALIZED} without calling NVML.
 */
public final class Nvml implements AutoCloseable {

  // nvmlReturn_t values (nvml.h, NVML 12).
  public static final int SUCCESS = 0;
  public static final int UNINITIALIZED = 1;
  public static final int INVALID_ARGUMENT = 2;
  public static final int NOT_SUPPORTED = 3;
  public static final int NO_PERMISSION = 4;
  public static final int NOT_FOUND = 6;
  public static final int INSUFFICIENT_SIZE = 7;
  public static final int DRIVER_NOT_LOADED = 9;
  public static final int TIMEOUT = 10;
  public static final int LIBRARY_NOT_FOUND = 12;
  public static final int FUNCTION_NOT_FOUND = 13;
  public static final int GPU_IS_LOST = 15;
  public static final int RESET_REQUIRED = 16;
  public static final int OPERATING_SYSTEM = 17;
  public static final int LIB_RM_VERSION_MISMATCH = 18;
  public static final int UNKNOWN = 999;

  private final NvmlLibrary lib;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Set<String> missing = ConcurrentHashMap.newKeySet();

  private Nvml(NvmlLibrary lib) {
    this.lib = lib;
  }

  /**
   * Initialises NVML ({@code nvmlInit_v2}).
   *
   * @param lib the loaded library
   * @return an open session
   * @throws NvmlException when initialisation fails, e.g. {@link #LIB_RM_VERSION_MISMATCH}, {@link
   *     #NO_PERMISSION}, {@link #DRIVER_NOT_LOADED}, or {@link #FUNCTION_NOT_FOUND} for a library
   *     older than NVML 4.304 that lacks {@code nvmlInit_v2}
   */
  public static Nvml init(NvmlLibrary lib) throws NvmlException {
    int rc;
    try {
      rc = lib.nvmlInit_v2();
    } catch (UnsatisfiedLinkError e) {
      rc = FUNCTION_NOT_FOUND;
    }
    if (rc != SUCCESS) {
      throw new NvmlException("nvmlInit_v2", rc, errorString(lib, rc));
    }
    return new Nvml(lib);
  }

  /** Returns the binding this session calls. */
  public NvmlLibrary library() {
    return lib;
  }

  /** Returns {@code false} once {@link #close()} has run. */
  public boolean isOpen() {
    return !closed.get();
  }

  /** Calls {@code nvmlShutdown} the first time; never throws. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        lib.nvmlShutdown();
      } catch (RuntimeException | LinkageError e) {
        // Nothing useful to do: the process keeps running without NVML.
      }
    }
  }

  /**
   * Returns the symbolic name of a return code.
   *
   * @param code an {@code nvmlReturn_t}
   * @return e.g. {@code NVML_ERROR_GPU_IS_LOST}, or {@code NVML_ERROR_<code>} when not known here
   */
  public static String codeName(int code) {
    switch (code) {
      case SUCCESS:
        return "NVML_SUCCESS";
      case UNINITIALIZED:
        return "NVML_ERROR_UNINITIALIZED";
      case INVALID_ARGUMENT:
        return "NVML_ERROR_INVALID_ARGUMENT";
      case NOT_SUPPORTED:
        return "NVML_ERROR_NOT_SUPPORTED";
      case NO_PERMISSION:
        return "NVML_ERROR_NO_PERMISSION";
      case NOT_FOUND:
        return "NVML_ERROR_NOT_FOUND";
      case INSUFFICIENT_SIZE:
        return "NVML_ERROR_INSUFFICIENT_SIZE";
      case DRIVER_NOT_LOADED:
        return "NVML_ERROR_DRIVER_NOT_LOADED";
      case TIMEOUT:
        return "NVML_ERROR_TIMEOUT";
      case LIBRARY_NOT_FOUND:
        return "NVML_ERROR_LIBRARY_NOT_FOUND";
      case FUNCTION_NOT_FOUND:
        return "NVML_ERROR_FUNCTION_NOT_FOUND";
      case GPU_IS_LOST:
        return "NVML_ERROR_GPU_IS_LOST";
      case RESET_REQUIRED:
        return "NVML_ERROR_RESET_REQUIRED";
      case OPERATING_SYSTEM:
        return "NVML_ERROR_OPERATING_SYSTEM";
      case LIB_RM_VERSION_MISMATCH:
        return "NVML_ERROR_LIB_RM_VERSION_MISMATCH";
      case UNKNOWN:
        return "NVML_ERROR_UNKNOWN";
      default:
        return "NVML_ERROR_" + code;
    }
  }

  /**
   * Returns NVML's description of a return code.
   *
   * @param code an {@code nvmlReturn_t}
   * @return {@code nvmlErrorString(code)}, or {@link #codeName(int)} when that is unavailable
   */
  public String errorString(int code) {
    return errorString(lib, code);
  }

  private static String errorString(NvmlLibrary lib, int code) {
    if (code == FUNCTION_NOT_FOUND) {
      return "function not found in this NVML library (driver too old)";
    }
    try {
      String s = lib.nvmlErrorString(code);
      return s == null || s.isBlank() ? codeName(code) : s;
    } catch (RuntimeException | LinkageError e) {
      return codeName(code);
    }
  }

  /** Returns whether the library lacked a function when it was first called. */
  boolean isMissing(String function) {
    return missing.contains(function);
  }

  // ---- system ----

  /**
   * Returns the driver version, e.g. {@code 550.54.15}.
   *
   * @return the version text
   * @throws NvmlException when NVML cannot tell
   */
  public String driverVersion() throws NvmlException {
    byte[] buf = new byte[NvmlLibrary.DRIVER_VERSION_BUFFER_SIZE];
    check("nvmlSystemGetDriverVersion", () -> lib.nvmlSystemGetDriverVersion(buf, buf.length));
    return text(buf);
  }

  /**
   * Returns the NVML library version, e.g. {@code 12.550.54.15}.
   *
   * @return the version text
   * @throws NvmlException when NVML cannot tell
   */
  public String nvmlVersion() throws NvmlException {
    byte[] buf = new byte[NvmlLibrary.NVML_VERSION_BUFFER_SIZE];
    check("nvmlSystemGetNVMLVersion", () -> lib.nvmlSystemGetNVMLVersion(buf, buf.length));
    return text(buf);
  }

  // ---- handles and identity ----

  /**
   * Returns the number of GPUs NVML sees (all of them, whatever {@code CUDA_VISIBLE_DEVICES} says).
   *
   * @return the count
   * @throws NvmlException on failure
   */
  public int deviceCount() throws NvmlException {
    IntByReference count = new IntByReference();
    check("nvmlDeviceGetCount_v2", () -> lib.nvmlDeviceGetCount_v2(count));
    return count.getValue();
  }

  /**
   * Returns the handle of a GPU by NVML index (PCI bus order).
   *
   * @param index 0 to {@link #deviceCount()} - 1
   * @return the handle
   * @throws NvmlException on failure (e.g. {@link #NO_PERMISSION}, {@link #GPU_IS_LOST})
   */
  public Pointer handleByIndex(int index) throws NvmlException {
    PointerByReference ref = new PointerByReference();
    check("nvmlDeviceGetHandleByIndex_v2", () -> lib.nvmlDeviceGetHandleByIndex_v2(index, ref));
    return ref.getValue();
  }

  /**
   * Returns the handle of a GPU or MIG device by its full UUID.
   *
   * @param uuid e.g. {@code GPU-...} or {@code MIG-...}
   * @return the handle
   * @throws NvmlException {@link #NOT_FOUND} when no device has that UUID
   */
  public Pointer handleByUuid(String uuid) throws NvmlException {
    PointerByReference ref = new PointerByReference();
    check("nvmlDeviceGetHandleByUUID", () -> lib.nvmlDeviceGetHandleByUUID(uuid, ref));
    return ref.getValue();
  }

  /**
   * Returns the physical GPU a MIG device belongs to.
   *
   * @param migDevice a MIG device handle
   * @return the parent GPU's handle
   * @throws NvmlException {@link #INVALID_ARGUMENT} when the handle is not a MIG device
   */
  public Pointer parentOfMigDevice(Pointer migDevice) throws NvmlException {
    PointerByReference ref = new PointerByReference();
    check(
        "nvmlDeviceGetDeviceHandleFromMigDeviceHandle",
        () -> lib.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(migDevice, ref));
    return ref.getValue();
  }

  /**
   * Returns the product name, e.g. {@code NVIDIA H100 80GB HBM3}.
   *
   * @param device a handle
   * @return the name
   * @throws NvmlException on failure
   */
  public String name(Pointer device) throws NvmlException {
    byte[] buf = new byte[NvmlLibrary.DEVICE_NAME_BUFFER_SIZE];
    check("nvmlDeviceGetName", () -> lib.nvmlDeviceGetName(device, buf, buf.length));
    return text(buf);
  }

  /**
   * Returns the UUID, e.g. {@code GPU-5f6c1f0e-...}.
   *
   * @param device a handle
   * @return the UUID
   * @throws NvmlException on failure
   */
  public String uuid(Pointer device) throws NvmlException {
    byte[] buf = new byte[NvmlLibrary.DEVICE_UUID_BUFFER_SIZE];
    check("nvmlDeviceGetUUID", () -> lib.nvmlDeviceGetUUID(device, buf, buf.length));
    return text(buf);
  }

  /**
   * Returns the PCI bus id with its 8-digit domain, e.g. {@code 00000000:3B:00.0}.
   *
   * @param device a handle
   * @return the bus id
   * @throws NvmlException on failure
   */
  public String pciBusId(Pointer device) throws NvmlException {
    NvmlLibrary.PciInfo pci = new NvmlLibrary.PciInfo();
    check("nvmlDeviceGetPciInfo_v3", () -> lib.nvmlDeviceGetPciInfo_v3(device, pci));
    return text(pci.busId);
  }

  /**
   * Returns the NVML index of a GPU handle.
   *
   * @param device a handle of a physical GPU
   * @return the index
   * @throws NvmlException on failure
   */
  public int index(Pointer device) throws NvmlException {
    IntByReference index = new IntByReference();
    check("nvmlDeviceGetIndex", () -> lib.nvmlDeviceGetIndex(device, index));
    return index.getValue();
  }

  // ---- power and energy ----

  /**
   * Returns the energy counter: millijoules since the driver was loaded (Volta and newer).
   *
   * @param device a handle
   * @return millijoules
   * @throws NvmlException {@link #NOT_SUPPORTED} before Volta, {@link #FUNCTION_NOT_FOUND} with a
   *     driver older than the function
   */
  public long totalEnergyMillijoules(Pointer device) throws NvmlException {
    LongByReference ref = new LongByReference();
    throwIfFailed("nvmlDeviceGetTotalEnergyConsumption", readTotalEnergy(device, ref));
    return ref.getValue();
  }

  /**
   * Returns {@code nvmlDeviceGetPowerUsage}: milliwatts, averaged over 1 s on Ampere (except GA100)
   * and newer, closer to instantaneous on older GPUs.
   *
   * @param device a handle
   * @return milliwatts
   * @throws NvmlException on failure
   */
  public long powerUsageMilliwatts(Pointer device) throws NvmlException {
    IntByReference ref = new IntByReference();
    throwIfFailed("nvmlDeviceGetPowerUsage", readPowerUsage(device, ref));
    return Integer.toUnsignedLong(ref.getValue());
  }

  /**
   * Returns the instantaneous board power (field {@code NVML_FI_DEV_POWER_INSTANT}).
   *
   * @param device a handle
   * @return milliwatts
   * @throws NvmlException when the function or the field is not supported
   */
  public double instantPowerMilliwatts(Pointer device) throws NvmlException {
    NvmlLibrary.FieldValue field = new NvmlLibrary.FieldValue();
    throwIfFailed("nvmlDeviceGetFieldValues", readInstantPower(device, field));
    return field.numericValue();
  }

  /**
   * Returns the power management limit (the configured cap).
   *
   * @param device a handle
   * @return milliwatts
   * @throws NvmlException on failure
   */
  public long powerManagementLimitMilliwatts(Pointer device) throws NvmlException {
    IntByReference ref = new IntByReference();
    check(
        "nvmlDeviceGetPowerManagementLimit",
        () -> lib.nvmlDeviceGetPowerManagementLimit(device, ref));
    return Integer.toUnsignedLong(ref.getValue());
  }

  /**
   * Returns the power limit in force (the lowest of all limits, including out-of-band ones).
   *
   * @param device a handle
   * @return milliwatts
   * @throws NvmlException on failure
   */
  public long enforcedPowerLimitMilliwatts(Pointer device) throws NvmlException {
    IntByReference ref = new IntByReference();
    check(
        "nvmlDeviceGetEnforcedPowerLimit", () -> lib.nvmlDeviceGetEnforcedPowerLimit(device, ref));
    return Integer.toUnsignedLong(ref.getValue());
  }

  // ---- utilisation, memory, processes ----

  /** GPU and memory-controller busy percentages over NVML's last sample period. */
  public record UtilizationRates(int gpuPercent, int memoryPercent) {}

  /** Device memory in bytes. */
  public record MemoryInfo(long totalBytes, long freeBytes, long usedBytes) {}

  /**
   * A compute process on a GPU.
   *
   * @param pid the process id
   * @param usedGpuMemoryBytes device memory it holds; -1 when not available (WDDM)
   * @param gpuInstanceId MIG GPU instance, 0xFFFFFFFF (-1 as int) without MIG
   * @param computeInstanceId MIG compute instance, 0xFFFFFFFF (-1 as int) without MIG
   */
  public record ComputeProcess(
      long pid, long usedGpuMemoryBytes, int gpuInstanceId, int computeInstanceId) {}

  /**
   * One per-process utilisation sample.
   *
   * @param pid the process id
   * @param timestampMicros CPU time of the sample, microseconds since 1970
   * @param smUtil SM (3D/compute) utilisation, percent
   * @param memUtil frame-buffer memory utilisation, percent
   * @param encUtil encoder utilisation, percent
   * @param decUtil decoder utilisation, percent
   */
  public record ProcessSample(
      long pid, long timestampMicros, int smUtil, int memUtil, int encUtil, int decUtil) {}

  /**
   * Returns the utilisation rates.
   *
   * @param device a handle
   * @return the rates
   * @throws NvmlException on failure
   */
  public UtilizationRates utilizationRates(Pointer device) throws NvmlException {
    NvmlLibrary.Utilization u = new NvmlLibrary.Utilization();
    check("nvmlDeviceGetUtilizationRates", () -> lib.nvmlDeviceGetUtilizationRates(device, u));
    return new UtilizationRates(u.gpu, u.memory);
  }

  /**
   * Returns the device memory.
   *
   * @param device a handle
   * @return total, free and used bytes
   * @throws NvmlException on failure
   */
  public MemoryInfo memoryInfo(Pointer device) throws NvmlException {
    NvmlLibrary.Memory m = new NvmlLibrary.Memory();
    check("nvmlDeviceGetMemoryInfo", () -> lib.nvmlDeviceGetMemoryInfo(device, m));
    return new MemoryInfo(m.total, m.free, m.used);
  }

  /**
   * Returns the compute processes on a GPU ({@code nvmlDeviceGetComputeRunningProcesses_v3}).
   *
   * @param device a handle
   * @return the processes, possibly empty
   * @throws NvmlException on failure, {@link #FUNCTION_NOT_FOUND} before driver R510
   */
  public List<ComputeProcess> computeRunningProcesses(Pointer device) throws NvmlException {
    String fn = "nvmlDeviceGetComputeRunningProcesses_v3";
    IntByReference count = new IntByReference(0);
    // The list may grow between the size query and the read; retry a few times.
    for (int attempt = 0; attempt < 4; attempt++) {
      int capacity = count.getValue();
      NvmlLibrary.ProcessInfo[] infos =
          capacity == 0
              ? null
              : (NvmlLibrary.ProcessInfo[]) new NvmlLibrary.ProcessInfo().toArray(capacity);
      int rc = call(fn, () -> lib.nvmlDeviceGetComputeRunningProcesses_v3(device, count, infos));
      if (rc == SUCCESS) {
        int n = Math.min(count.getValue(), capacity);
        List<ComputeProcess> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          NvmlLibrary.ProcessInfo p = infos[i];
          out.add(
              new ComputeProcess(
                  Integer.toUnsignedLong(p.pid),
                  p.usedGpuMemory,
                  p.gpuInstanceId,
                  p.computeInstanceId));
        }
        return out;
      }
      if (rc != INSUFFICIENT_SIZE) {
        throwIfFailed(fn, rc);
      }
      count.setValue(count.getValue() + 2);
    }
    throw new NvmlException(fn, INSUFFICIENT_SIZE, errorString(INSUFFICIENT_SIZE));
  }

  /**
   * Returns the per-process utilisation samples newer than a timestamp ({@code
   * nvmlDeviceGetProcessUtilization}).
   *
   * @param device a handle
   * @param lastSeenMicros only samples after this CPU time (microseconds since 1970); 0 for all
   *     NVML still holds
   * @return the samples; empty when NVML has none newer ({@link #NOT_FOUND})
   * @throws NvmlException on failure, e.g. {@link #NOT_SUPPORTED}
   */
  public List<ProcessSample> processUtilization(Pointer device, long lastSeenMicros)
      throws NvmlException {
    String fn = "nvmlDeviceGetProcessUtilization";
    IntByReference count = new IntByReference(0);
    for (int attempt = 0; attempt < 4; attempt++) {
      int capacity = count.getValue();
      NvmlLibrary.ProcessUtilizationSample[] samples =
          capacity == 0
              ? null
              : (NvmlLibrary.ProcessUtilizationSample[])
                  new NvmlLibrary.ProcessUtilizationSample().toArray(capacity);
      int rc =
          call(
              fn,
              () -> lib.nvmlDeviceGetProcessUtilization(device, samples, count, lastSeenMicros));
      if (rc == NOT_FOUND) {
        return List.of();
      }
      if (rc == SUCCESS) {
        int n = Math.min(count.getValue(), capacity);
        List<ProcessSample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          NvmlLibrary.ProcessUtilizationSample s = samples[i];
          out.add(
              new ProcessSample(
                  Integer.toUnsignedLong(s.pid),
                  s.timeStamp,
                  s.smUtil,
                  s.memUtil,
                  s.encUtil,
                  s.decUtil));
        }
        return out;
      }
      if (rc != INSUFFICIENT_SIZE) {
        throwIfFailed(fn, rc);
      }
      count.setValue(count.getValue() + 2);
    }
    throw new NvmlException(fn, INSUFFICIENT_SIZE, errorString(INSUFFICIENT_SIZE));
  }

  // ---- allocation-free reads for the sampling loop: return the code, fill the reference ----

  /** {@code nvmlDeviceGetTotalEnergyConsumption} into {@code out} (millijoules). */
  int readTotalEnergy(Pointer device, LongByReference out) {
    String fn = "nvmlDeviceGetTotalEnergyConsumption";
    if (closed.get()) {
      return UNINITIALIZED;
    }
    if (missing.contains(fn)) {
      return FUNCTION_NOT_FOUND;
    }
    try {
      return lib.nvmlDeviceGetTotalEnergyConsumption(device, out);
    } catch (UnsatisfiedLinkError e) {
      missing.add(fn);
      return FUNCTION_NOT_FOUND;
    }
  }

  /** {@code nvmlDeviceGetPowerUsage} into {@code out} (milliwatts, unsigned). */
  int readPowerUsage(Pointer device, IntByReference out) {
    String fn = "nvmlDeviceGetPowerUsage";
    if (closed.get()) {
      return UNINITIALIZED;
    }
    if (missing.contains(fn)) {
      return FUNCTION_NOT_FOUND;
    }
    try {
      return lib.nvmlDeviceGetPowerUsage(device, out);
    } catch (UnsatisfiedLinkError e) {
      missing.add(fn);
      return FUNCTION_NOT_FOUND;
    }
  }

  /**
   * Reads {@code NVML_FI_DEV_POWER_INSTANT} into {@code field}.
   *
   * @return the call's code, or the field's own code when the call succeeded
   */
  int readInstantPower(Pointer device, NvmlLibrary.FieldValue field) {
    String fn = "nvmlDeviceGetFieldValues";
    if (closed.get()) {
      return UNINITIALIZED;
    }
    if (missing.contains(fn)) {
      return FUNCTION_NOT_FOUND;
    }
    // Written and read through the pointer so that a structure with auto-synchronisation turned
    // off (the sampling loop's) costs no reflection per call.
    Pointer p = field.getPointer();
    field.fieldId = NvmlLibrary.FI_DEV_POWER_INSTANT;
    p.setInt(NvmlLibrary.FieldValue.FIELD_ID_OFFSET, NvmlLibrary.FI_DEV_POWER_INSTANT);
    p.setInt(NvmlLibrary.FieldValue.SCOPE_ID_OFFSET, 0);
    p.setInt(NvmlLibrary.FieldValue.NVML_RETURN_OFFSET, UNKNOWN);
    int rc;
    try {
      rc = lib.nvmlDeviceGetFieldValues(device, 1, field);
    } catch (UnsatisfiedLinkError e) {
      missing.add(fn);
      return FUNCTION_NOT_FOUND;
    }
    return rc != SUCCESS ? rc : p.getInt(NvmlLibrary.FieldValue.NVML_RETURN_OFFSET);
  }

  // ---- helpers ----

  private int call(String function, IntSupplier body) {
    if (closed.get()) {
      return UNINITIALIZED;
    }
    if (missing.contains(function)) {
      return FUNCTION_NOT_FOUND;
    }
    try {
      return body.getAsInt();
    } catch (UnsatisfiedLinkError e) {
      missing.add(function);
      return FUNCTION_NOT_FOUND;
    }
  }

  private void check(String function, IntSupplier body) throws NvmlException {
    throwIfFailed(function, call(function, body));
  }

  private void throwIfFailed(String function, int rc) throws NvmlException {
    if (rc != SUCCESS) {
      throw new NvmlException(function, rc, errorString(rc));
    }
  }

  private static String text(byte[] buf) {
    return Native.toString(buf, StandardCharsets.UTF_8).trim();
  }
}

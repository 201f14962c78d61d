package io.jouletrace.sources.nvml;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import com.sun.jna.Union;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JNA binding of the NVIDIA Management Library ({@code libnvidia-ml.so.1}, {@code nvml.dll}).
 *
 * <p>Only the functions JouleTrace calls are declared, under the versioned names that {@code
 * nvml.h} (NVML 12) maps its unversioned macros to ({@code nvmlInit_v2}, {@code
 * nvmlDeviceGetPciInfo_v3}, ...). Every function returns an {@code nvmlReturn_t}; {@link Nvml}
 * checks them. Device handles ({@code nvmlDevice_t}, an opaque {@code struct nvmlDevice_st *}) are
 * {@link Pointer}s.
 *
 * <p>A function missing from an old driver's library makes JNA throw {@link UnsatisfiedLinkError}
 * at the first call, not at load time; {@link Nvml} turns that into {@link
 * Nvml#FUNCTION_NOT_FOUND}. Use {@link Loader#load(String)} to obtain an instance.
 */
public interface NvmlLibrary extends Library {

  /**
   * Buffer size for {@link #nvmlSystemGetDriverVersion} (NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE).
   */
  int DRIVER_VERSION_BUFFER_SIZE = 80;

  /** Buffer size for {@link #nvmlSystemGetNVMLVersion} (NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE). */
  int NVML_VERSION_BUFFER_SIZE = 80;

  /** Buffer size for {@link #nvmlDeviceGetName} (NVML_DEVICE_NAME_V2_BUFFER_SIZE). */
  int DEVICE_NAME_BUFFER_SIZE = 96;

  /** Buffer size for {@link #nvmlDeviceGetUUID} (NVML_DEVICE_UUID_V2_BUFFER_SIZE). */
  int DEVICE_UUID_BUFFER_SIZE = 96;

  /** Field id of the instantaneous board power in milliwatts (NVML_FI_DEV_POWER_INSTANT). */
  int FI_DEV_POWER_INSTANT = 186;

  /** {@code nvmlValueType_t} values used to decode {@link FieldValue#value}. */
  int VALUE_TYPE_DOUBLE = 0;

  int VALUE_TYPE_UNSIGNED_INT = 1;
  int VALUE_TYPE_UNSIGNED_LONG = 2;
  int VALUE_TYPE_UNSIGNED_LONG_LONG = 3;
  int VALUE_TYPE_SIGNED_LONG_LONG = 4;
  int VALUE_TYPE_SIGNED_INT = 5;
  int VALUE_TYPE_UNSIGNED_SHORT = 6;

  int nvmlInit_v2();

  int nvmlShutdown();

  String nvmlErrorString(int result);

  int nvmlSystemGetDriverVersion(byte[] version, int length);

  int nvmlSystemGetNVMLVersion(byte[] version, int length);

  int nvmlDeviceGetCount_v2(IntByReference deviceCount);

  int nvmlDeviceGetHandleByIndex_v2(int index, PointerByReference device);

  int nvmlDeviceGetHandleByUUID(String uuid, PointerByReference device);

  /** NVML 11 (R450) and newer: the physical GPU a MIG device belongs to. */
  int nvmlDeviceGetDeviceHandleFromMigDeviceHandle(Pointer migDevice, PointerByReference device);

  int nvmlDeviceGetName(Pointer device, byte[] name, int length);

  int nvmlDeviceGetUUID(Pointer device, byte[] uuid, int length);

  int nvmlDeviceGetPciInfo_v3(Pointer device, PciInfo pci);

  int nvmlDeviceGetIndex(Pointer device, IntByReference index);

  /** Board power in milliwatts; a 1 s average on Ampere (except GA100) and newer. */
  int nvmlDeviceGetPowerUsage(Pointer device, IntByReference milliwatts);

  /** Millijoules since the driver was loaded; Volta and newer. */
  int nvmlDeviceGetTotalEnergyConsumption(Pointer device, LongByReference millijoules);

  /** {@code values} must be contiguous ({@link Structure#toArray(int)}) or a single structure. */
  int nvmlDeviceGetFieldValues(Pointer device, int valuesCount, FieldValue values);

  int nvmlDeviceGetPowerManagementLimit(Pointer device, IntByReference milliwatts);

  int nvmlDeviceGetEnforcedPowerLimit(Pointer device, IntByReference milliwatts);

  int nvmlDeviceGetUtilizationRates(Pointer device, Utilization utilization);

  int nvmlDeviceGetMemoryInfo(Pointer device, Memory memory);

  /** {@code infos} may be {@code null} to ask for the count. */
  int nvmlDeviceGetComputeRunningProcesses_v3(
      Pointer device, IntByReference infoCount, ProcessInfo[] infos);

  /** {@code utilization} may be {@code null} to ask for the count. */
  int nvmlDeviceGetProcessUtilization(
      Pointer device,
      ProcessUtilizationSample[] utilization,
      IntByReference processSamplesCount,
      long lastSeenTimeStamp);

  /** {@code nvmlPciInfo_t} as filled by {@code nvmlDeviceGetPciInfo_v3} (68 bytes). */
  @FieldOrder({"busIdLegacy", "domain", "bus", "device", "pciDeviceId", "pciSubSystemId", "busId"})
  class PciInfo extends Structure {
    /**
     * {@code domain:bus:device.function}, 4-digit domain (NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE).
     */
    public byte[] busIdLegacy = new byte[16];

    public int domain;
    public int bus;
    public int device;
    public int pciDeviceId;
    public int pciSubSystemId;

    /** {@code domain:bus:device.function}, 8-digit domain (NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE). */
    public byte[] busId = new byte[32];
  }

  /** {@code nvmlValue_t}: 8 bytes; which member is valid is given by the field's value type. */
  class Value extends Union {
    public double dVal;
    public int uiVal;
    public NativeLong ulVal;
    public long ullVal;
    public long sllVal;
    public int siVal;
    public short usVal;
  }

  /** {@code nvmlFieldValue_t} (40 bytes). Set {@link #fieldId} before the call. */
  @FieldOrder({
    "fieldId",
    "scopeId",
    "timestamp",
    "latencyUsec",
    "valueType",
    "nvmlReturn",
    "value"
  })
  class FieldValue extends Structure {
    public int fieldId;
    public int scopeId;

    /** CPU time of the value, microseconds since 1970. */
    public long timestamp;

    public long latencyUsec;
    public int valueType;

    /** Per-field return code; {@link #value} is undefined unless it is 0. */
    public int nvmlReturn;

    public Value value = new Value();

    /** Byte offsets of the fields the sampling loop reads straight from native memory. */
    static final int FIELD_ID_OFFSET = 0;

    static final int SCOPE_ID_OFFSET = 4;
    static final int VALUE_TYPE_OFFSET = 24;
    static final int NVML_RETURN_OFFSET = 28;
    static final int VALUE_OFFSET = 32;

    /** Returns the byte offset of a field, to check the constants above against JNA's layout. */
    int offsetOf(String field) {
      return fieldOffset(field);
    }

    /**
     * Returns the value as a double, decoded by the value type, read from native memory (so it also
     * works with auto-synchronisation turned off).
     *
     * @return the value; {@code NaN} for an unknown type
     */
    public double numericValue() {
      Pointer p = getPointer();
      switch (p.getInt(VALUE_TYPE_OFFSET)) {
        case VALUE_TYPE_DOUBLE:
          return p.getDouble(VALUE_OFFSET);
        case VALUE_TYPE_UNSIGNED_INT:
          return Integer.toUnsignedLong(p.getInt(VALUE_OFFSET));
        case VALUE_TYPE_UNSIGNED_LONG:
          return Native.LONG_SIZE == 4
              ? Integer.toUnsignedLong(p.getInt(VALUE_OFFSET))
              : unsignedToDouble(p.getLong(VALUE_OFFSET));
        case VALUE_TYPE_UNSIGNED_LONG_LONG:
          return unsignedToDouble(p.getLong(VALUE_OFFSET));
        case VALUE_TYPE_SIGNED_LONG_LONG:
          return p.getLong(VALUE_OFFSET);
        case VALUE_TYPE_SIGNED_INT:
          return p.getInt(VALUE_OFFSET);
        case VALUE_TYPE_UNSIGNED_SHORT:
          return Short.toUnsignedInt(p.getShort(VALUE_OFFSET));
        default:
          return Double.NaN;
      }
    }

    private static double unsignedToDouble(long v) {
      return v >= 0 ? v : (v >>> 1) * 2.0 + (v & 1);
    }
  }

  /** {@code nvmlUtilization_t}: percentages over the last sample period. */
  @FieldOrder({"gpu", "memory"})
  class Utilization extends Structure {
    public int gpu;
    public int memory;
  }

  /** {@code nvmlMemory_t} (v1): bytes. */
  @FieldOrder({"total", "free", "used"})
  class Memory extends Structure {
    public long total;
    public long free;
    public long used;
  }

  /** {@code nvmlProcessInfo_t}, the v2 layout that the {@code _v3} process queries fill. */
  @FieldOrder({"pid", "usedGpuMemory", "gpuInstanceId", "computeInstanceId"})
  class ProcessInfo extends Structure {
    public int pid;

    /** Bytes; NVML_VALUE_NOT_AVAILABLE (-1) under WDDM. */
    public long usedGpuMemory;

    /** 0xFFFFFFFF when MIG is off. */
    public int gpuInstanceId;

    public int computeInstanceId;
  }

  /** {@code nvmlProcessUtilizationSample_t}. */
  @FieldOrder({"pid", "timeStamp", "smUtil", "memUtil", "encUtil", "decUtil"})
  class ProcessUtilizationSample extends Structure {
    public int pid;

    /** CPU time of the sample, microseconds since 1970. */
    public long timeStamp;

    public int smUtil;
    public int memUtil;
    public int encUtil;
    public int decUtil;
  }

  /**
   * Loads the library on first use (JNA is touched only here), once per name.
   *
   * <p>{@code load(null)} uses the platform default: {@code libnvidia-ml.so.1} (the versioned name
   * the driver installs; the unversioned {@code .so} comes only with development packages) or
   * {@code nvml} on Windows.
   */
  final class Loader {
    private static final Map<String, NvmlLibrary> LOADED = new ConcurrentHashMap<>();

    private Loader() {}

    /**
     * Returns the platform's default library name.
     *
     * @return {@code nvml} on Windows, {@code libnvidia-ml.so.1} elsewhere
     */
    public static String defaultName() {
      return Platform.isWindows() ? "nvml" : "libnvidia-ml.so.1";
    }

    /**
     * Loads NVML.
     *
     * @param nameOrPath a library name searched on the library path, or an absolute file path;
     *     {@code null} or blank for {@link #defaultName()}
     * @return the binding
     * @throws UnsatisfiedLinkError when the library cannot be loaded
     * @throws NoClassDefFoundError when JNA itself is missing
     */
    public static NvmlLibrary load(String nameOrPath) {
      String name = nameOrPath == null || nameOrPath.isBlank() ? defaultName() : nameOrPath.trim();
      NvmlLibrary lib = LOADED.get(name);
      if (lib == null) {
        lib = Native.load(name, NvmlLibrary.class);
        NvmlLibrary previous = LOADED.putIfAbsent(name, lib);
        if (previous != null) {
          lib = previous;
        }
      }
      return lib;
    }
  }
}

package io.jouletrace.sources.nvml;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.Domain;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * One selected GPU and the sampling of its energy: through the energy counter, or by integrating
 * sampled power with the trapezoid rule (see {@link NvmlSource}). Keeps the GPU's cumulative
 * joules, and gives it up after a permanent error or {@link #MAX_FAILURES_IN_A_ROW} failed reads in
 * a row.
 */
final class NvmlGpu {

  /** Failed reads in a row after which a GPU is given up. */
  static final int MAX_FAILURES_IN_A_ROW = 50;

  /** Reading the energy counter takes about 3 ms per GPU; a power reading about 4 µs. */
  static final long ENERGY_READ_NANOS = 3_000_000;

  static final long POWER_READ_NANOS = 4_000;

  /** The energy counter updates about every 100 ms (Volta to Hopper). */
  static final long ENERGY_UPDATE_NANOS = 100_000_000;

  /** How the GPU is read, chosen at open. */
  enum Mode {
    ENERGY,
    INSTANT_POWER,
    AVERAGE_POWER
  }

  final int index;
  final Pointer handle;
  final String id;
  final String uuid;
  final String name;
  final String pciBusId;
  final boolean energySupported;
  final boolean instantSupported;
  final Mode mode;
  private final LongByReference energyRef = new LongByReference();
  private final IntByReference powerRef = new IntByReference();
  private final NvmlLibrary.FieldValue field = new NvmlLibrary.FieldValue();

  private long lastMillijoules;
  private double lastWatts;
  private long lastNanos;
  private double joules;
  private int failures;
  private boolean stopped;

  NvmlGpu(
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

  /** The first reading, taken at open: the counter's value, or the power at {@code nanos}. */
  void start(long millijoules, double watts, long nanos) {
    lastMillijoules = millijoules;
    lastWatts = watts;
    lastNanos = nanos;
  }

  String label() {
    return "GPU " + index + " (" + name + ", " + uuid + ")";
  }

  /** The source label: {@link NvmlSource#SOURCE_ENERGY} or {@link NvmlSource#SOURCE_POWER}. */
  String source() {
    return mode == Mode.ENERGY ? NvmlSource.SOURCE_ENERGY : NvmlSource.SOURCE_POWER;
  }

  Device device() {
    Map<String, String> detail = new LinkedHashMap<>();
    detail.put("gpu", Integer.toString(index));
    detail.put("UUID", uuid);
    detail.put("modelName", name);
    detail.put("pci_bus_id", pciBusId);
    return new Device(id, Domain.GPU, source(), true, detail);
  }

  long readCostNanos() {
    return mode == Mode.ENERGY ? ENERGY_READ_NANOS : POWER_READ_NANOS;
  }

  boolean stopped() {
    return stopped;
  }

  double joules() {
    return joules;
  }

  /** Reads the GPU once (unless NVML is shut down or the GPU given up); never throws. */
  double sample(Nvml nvml, Diagnostics diagnostics, LongSupplier nanoClock) {
    if (nvml.isOpen() && !stopped) {
      read(nvml, diagnostics, nanoClock);
    }
    return joules;
  }

  private void read(Nvml nvml, Diagnostics diagnostics, LongSupplier nanoClock) {
    int rc;
    try {
      switch (mode) {
        case ENERGY:
          rc = nvml.readTotalEnergy(handle, energyRef);
          if (rc == Nvml.SUCCESS) {
            long now = energyRef.getValue();
            long delta = now - lastMillijoules;
            if (delta < 0) {
              diagnostics.warn(
                  "nvml.reset." + id,
                  label()
                      + ": energy counter went from "
                      + lastMillijoules
                      + " to "
                      + now
                      + " mJ; taken as a reset (driver reload), no energy counted for that step");
              delta = 0;
            }
            lastMillijoules = now;
            joules += delta / 1000.0;
          }
          break;
        case INSTANT_POWER:
          rc = nvml.readInstantPower(handle, field);
          if (rc == Nvml.SUCCESS) {
            integrate(field.numericValue() / 1000.0, nanoClock);
          }
          break;
        default:
          rc = nvml.readPowerUsage(handle, powerRef);
          if (rc == Nvml.SUCCESS) {
            integrate(Integer.toUnsignedLong(powerRef.getValue()) / 1000.0, nanoClock);
          }
          break;
      }
    } catch (RuntimeException e) {
      // JNA reports native trouble as runtime exceptions; sample() must not throw.
      rc = Nvml.UNKNOWN;
    }
    if (rc == Nvml.SUCCESS) {
      failures = 0;
    } else if (nvml.isOpen()) {
      failed(nvml, diagnostics, rc);
    }
  }

  private void integrate(double watts, LongSupplier nanoClock) {
    long now = nanoClock.getAsLong();
    double seconds = (now - lastNanos) * 1e-9;
    if (seconds > 0 && Double.isFinite(watts)) {
      joules += 0.5 * (lastWatts + watts) * seconds;
    }
    lastWatts = Double.isFinite(watts) ? watts : lastWatts;
    lastNanos = now;
  }

  private void failed(Nvml nvml, Diagnostics diagnostics, int rc) {
    failures++;
    if (isPermanent(rc) || failures >= MAX_FAILURES_IN_A_ROW) {
      stopped = true;
      diagnostics.warn(
          "nvml.stopped." + id,
          label()
              + " stopped answering ("
              + NvmlOpening.describe(nvml, rc)
              + (isPermanent(rc) ? "" : ", " + failures + " failed reads in a row")
              + "); its energy stays at "
              + String.format(Locale.ROOT, "%.3f", joules)
              + " J and the other GPUs go on. Fix: look for Xid errors in `dmesg` and check"
              + " nvidia-smi; a lost GPU needs a reset or a reboot");
    } else {
      diagnostics.warn(
          "nvml.read." + id + "." + rc,
          label()
              + ": reading failed ("
              + NvmlOpening.describe(nvml, rc)
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
}

package io.jouletrace.sources.nvml;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the {@code probe} command shows of an open {@link NvmlSource}: each selected GPU with its
 * limits and memory, and the driver and library versions.
 *
 * <pre>{@code
 * NvmlProbe.driverVersion(gpus).ifPresent(v -> out.println("driver " + v));
 * for (GpuInfo g : NvmlProbe.describe(gpus)) { ... }
 * }</pre>
 */
public final class NvmlProbe {

  private NvmlProbe() {}

  /**
   * Describes the selected GPUs.
   *
   * @param source an open source
   * @return one entry per device, in {@link NvmlSource#devices()} order
   */
  public static List<GpuInfo> describe(NvmlSource source) {
    Nvml nvml = source.nvml();
    List<GpuInfo> out = new ArrayList<>();
    for (NvmlGpu g : source.gpus()) {
      double limitWatts = Double.NaN;
      long memory = -1;
      if (nvml.isOpen() && !g.stopped()) {
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
              g.source()));
    }
    return out;
  }

  /**
   * Returns the driver version, e.g. {@code 550.54.15}.
   *
   * @param source an open source
   * @return the version, or empty when NVML cannot tell or the source is closed
   */
  public static Optional<String> driverVersion(NvmlSource source) {
    try {
      return Optional.of(source.nvml().driverVersion());
    } catch (NvmlException e) {
      return Optional.empty();
    }
  }

  /**
   * Returns the NVML library version, e.g. {@code 12.550.54.15}.
   *
   * @param source an open source
   * @return the version, or empty when NVML cannot tell or the source is closed
   */
  public static Optional<String> nvmlVersion(NvmlSource source) {
    try {
      return Optional.of(source.nvml().nvmlVersion());
    } catch (NvmlException e) {
      return Optional.empty();
    }
  }
}

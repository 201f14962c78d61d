package io.jouletrace.sources.nvml;

/**
 * What the {@code probe} command shows about one selected GPU.
 *
 * @param index NVML index (PCI bus order)
 * @param uuid {@code GPU-...}
 * @param name product name
 * @param pciBusId e.g. {@code 00000000:3B:00.0}; empty when NVML could not tell
 * @param energyCounterSupported whether {@code nvmlDeviceGetTotalEnergyConsumption} answers (Volta
 *     and newer with a recent driver)
 * @param instantPowerSupported whether the {@code NVML_FI_DEV_POWER_INSTANT} field answers
 * @param powerLimitWatts the enforced power limit in watts; {@code NaN} when not available
 * @param memoryTotalBytes device memory in bytes; -1 when not available
 * @param source how its energy is read: {@code nvml-energy} or {@code nvml-power}
 */
public record GpuInfo(
    int index,
    String uuid,
    String name,
    String pciBusId,
    boolean energyCounterSupported,
    boolean instantPowerSupported,
    double powerLimitWatts,
    long memoryTotalBytes,
    String source) {}

package io.jouletrace.sources;

import java.util.Map;
import java.util.Objects;

/**
 * One energy-consuming device as a source sees it.
 *
 * @param id stable identifier within the run, e.g. {@code package-0}, {@code dram-0}, {@code gpu-0}
 * @param domain what the energy belongs to
 * @param source how it is read, e.g. {@code rapl-sysfs}, {@code nvml-energy}, {@code model}
 * @param measured {@code true} when read from a hardware counter, {@code false} when estimated
 * @param detail extra descriptive labels (model name, zone path); never used for arithmetic
 */
public record Device(
    String id, Domain domain, String source, boolean measured, Map<String, String> detail) {

  public Device {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(source, "source");
    detail = Map.copyOf(detail);
  }
}

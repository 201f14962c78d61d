package io.jouletrace.sources;

import java.util.Locale;

/** What part of the machine a device's energy belongs to. */
public enum Domain {
  /** CPU packages (cores, uncore and everything else RAPL counts in a package). */
  CPU,
  /** Memory attached to a package. */
  DRAM,
  /** A GPU board. */
  GPU;

  /**
   * Returns the value used for the {@code domain} label and in reports.
   *
   * @return lower-case name, e.g. {@code cpu}
   */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}

package io.jouletrace.sources.msr;

import java.util.List;
import java.util.Locale;

/**
 * Where a CPU vendor keeps its RAPL registers, and which of them are counted.
 *
 * @param vendor the CPUID vendor string, e.g. {@code GenuineIntel}
 * @param units the power-unit register; its bits 12:8 are the energy status unit (ESU)
 * @param packageEnergy the package energy counter, counted as the CPU device
 * @param dramEnergy the DRAM energy counter, counted as the DRAM device when readable; {@code -1}
 *     when the vendor has none
 * @param detail registers read for diagnostics only, never added (they lie inside the package or
 *     cover it)
 */
record MsrLayout(
    String vendor, long units, long packageEnergy, long dramEnergy, List<Detail> detail) {

  /**
   * A register read for diagnostics only.
   *
   * @param name the key suffix, e.g. {@code pp0}
   * @param register the register number
   */
  record Detail(String name, long register) {}

  /** Intel since Sandy Bridge. */
  static final MsrLayout INTEL =
      new MsrLayout(
          "GenuineIntel",
          0x606,
          0x611,
          0x619,
          List.of(
              new Detail("pp0", 0x639), new Detail("pp1", 0x641), new Detail("platform", 0x64D)));

  /** AMD family 17h (Zen) and later. */
  static final MsrLayout AMD =
      new MsrLayout(
          "AuthenticAMD", 0xC0010299L, 0xC001029BL, -1, List.of(new Detail("core", 0xC001029AL)));

  /**
   * Finds the layout for a vendor string.
   *
   * @param vendor the CPUID vendor string, surrounding blanks ignored
   * @return the layout, or {@code null} for a vendor this source does not know
   */
  static MsrLayout forVendor(String vendor) {
    if (vendor == null) {
      return null;
    }
    String v = vendor.trim();
    for (MsrLayout layout : List.of(INTEL, AMD)) {
      if (layout.vendor.equals(v)) {
        return layout;
      }
    }
    return null;
  }

  /**
   * Formats a register number as in vendor manuals.
   *
   * @param register the register number
   * @return e.g. {@code 0x611}, {@code 0xC001029B}
   */
  static String hex(long register) {
    return "0x" + Long.toHexString(register).toUpperCase(Locale.ROOT);
  }
}

package io.jouletrace.sources.msr;

import io.jouletrace.sources.cpu.CpuIdentity;
import java.util.List;
import java.util.Locale;
import java.util.Set;

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
   * Intel family 6 models whose DRAM counter counts in a fixed 2<sup>-16</sup> J instead of the
   * energy status unit of the units register, as Linux's {@code intel_rapl} driver lists them (its
   * server defaults): Haswell-EP 0x3F, Broadwell-EP 0x4F, Skylake-SP/Cascade Lake/Cooper Lake 0x55,
   * Ice Lake-SP 0x6A, Ice Lake-D 0x6C, Sapphire Rapids 0x8F, Emerald Rapids 0xCF, Xeon Phi Knights
   * Landing 0x57 and Knights Mill 0x85. Broadwell-DE (0x56) uses the ESU.
   */
  static final Set<Integer> INTEL_FIXED_DRAM_UNIT_MODELS =
      Set.of(0x3F, 0x4F, 0x55, 0x6A, 0x6C, 0x8F, 0xCF, 0x57, 0x85);

  /**
   * Whether the DRAM counter of this CPU counts in the fixed server unit.
   *
   * @param cpu the CPU
   * @return {@code true} for the Intel server parts in {@link #INTEL_FIXED_DRAM_UNIT_MODELS}
   */
  static boolean fixedDramUnit(CpuIdentity cpu) {
    return INTEL.vendor.equals(cpu.vendor())
        && cpu.family() == 6
        && INTEL_FIXED_DRAM_UNIT_MODELS.contains(cpu.model());
  }

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

package io.jouletrace.sources.cpu;

/**
 * Which CPU this is, as CPUID tells it: the vendor string and the display family and model (the
 * {@code vendor_id}, {@code cpu family} and {@code model} lines of {@code /proc/cpuinfo}, or OSHI's
 * {@code ProcessorIdentifier}). Sources whose register layout or units depend on the model ask it.
 *
 * <pre>{@code
 * CpuIdentity skylakeSp = new CpuIdentity("GenuineIntel", 6, 0x55);
 * }</pre>
 *
 * @param vendor the CPUID vendor string, e.g. {@code GenuineIntel} or {@code AuthenticAMD}
 * @param family the display family (family plus extended family), or -1 when unknown
 * @param model the display model (model plus extended model), or -1 when unknown
 */
public record CpuIdentity(String vendor, int family, int model) {

  /**
   * Builds an identity from text, as OSHI and {@code /proc/cpuinfo} give it.
   *
   * @param vendor the vendor string; surrounding blanks are dropped
   * @param family the family in decimal (or {@code 0x} hexadecimal); unknown when not a number
   * @param model the model in decimal (or {@code 0x} hexadecimal); unknown when not a number
   * @return the identity
   */
  public static CpuIdentity parse(String vendor, String family, String model) {
    return new CpuIdentity(vendor == null ? null : vendor.trim(), number(family), number(model));
  }

  /** Whether the family and model are known. */
  public boolean modelKnown() {
    return family >= 0 && model >= 0;
  }

  private static int number(String text) {
    if (text == null) {
      return -1;
    }
    String t = text.trim();
    try {
      return t.startsWith("0x") || t.startsWith("0X")
          ? Integer.parseInt(t.substring(2), 16)
          : Integer.parseInt(t);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public String toString() {
    return vendor
        + (modelKnown() ? " family " + family + " model 0x" + Integer.toHexString(model) : "");
  }
}

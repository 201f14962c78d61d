package io.jouletrace.sources.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Structure;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/**
 * The JNA structures must have nvml.h's layout on LP64; fake_nvml.c asserts the same sizes with
 * _Static_assert, so both sides of the tests agree with the header.
 */
class NvmlLibraryLayoutTest {

  /** Structure.fieldOffset is protected. */
  private static int offset(Structure s, String field) {
    try {
      Method m = Structure.class.getDeclaredMethod("fieldOffset", String.class);
      m.setAccessible(true);
      return (int) m.invoke(s, field);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void pciInfoV3() {
    NvmlLibrary.PciInfo pci = new NvmlLibrary.PciInfo();

    assertThat(pci.size()).isEqualTo(68);
    assertThat(offset(pci, "domain")).isEqualTo(16);
    assertThat(offset(pci, "busId")).isEqualTo(36);
  }

  @Test
  void fieldValue() {
    NvmlLibrary.FieldValue f = new NvmlLibrary.FieldValue();

    assertThat(f.size()).isEqualTo(40);
    assertThat(offset(f, "timestamp")).isEqualTo(8);
    assertThat(offset(f, "valueType")).isEqualTo(24);
    assertThat(offset(f, "nvmlReturn")).isEqualTo(28);
    assertThat(offset(f, "value")).isEqualTo(32);
    // The sampling loop reads these offsets without JNA's synchronisation.
    assertThat(f.offsetOf("fieldId")).isEqualTo(NvmlLibrary.FieldValue.FIELD_ID_OFFSET);
    assertThat(f.offsetOf("scopeId")).isEqualTo(NvmlLibrary.FieldValue.SCOPE_ID_OFFSET);
    assertThat(f.offsetOf("valueType")).isEqualTo(NvmlLibrary.FieldValue.VALUE_TYPE_OFFSET);
    assertThat(f.offsetOf("nvmlReturn")).isEqualTo(NvmlLibrary.FieldValue.NVML_RETURN_OFFSET);
    assertThat(f.offsetOf("value")).isEqualTo(NvmlLibrary.FieldValue.VALUE_OFFSET);
  }

  @Test
  void fieldValuesDecodeByTheirType() {
    NvmlLibrary.FieldValue f = new NvmlLibrary.FieldValue();
    var p = f.getPointer();

    p.setInt(NvmlLibrary.FieldValue.VALUE_TYPE_OFFSET, NvmlLibrary.VALUE_TYPE_UNSIGNED_INT);
    p.setLong(NvmlLibrary.FieldValue.VALUE_OFFSET, 0);
    p.setInt(NvmlLibrary.FieldValue.VALUE_OFFSET, 0xFFFFFFFE);
    assertThat(f.numericValue()).isEqualTo(4294967294.0);
    p.setInt(NvmlLibrary.FieldValue.VALUE_TYPE_OFFSET, NvmlLibrary.VALUE_TYPE_DOUBLE);
    p.setDouble(NvmlLibrary.FieldValue.VALUE_OFFSET, 251.5);
    assertThat(f.numericValue()).isEqualTo(251.5);
    p.setInt(NvmlLibrary.FieldValue.VALUE_TYPE_OFFSET, NvmlLibrary.VALUE_TYPE_UNSIGNED_LONG_LONG);
    p.setLong(NvmlLibrary.FieldValue.VALUE_OFFSET, -1L);
    assertThat(f.numericValue()).isEqualTo(18446744073709551615.0);
    p.setInt(NvmlLibrary.FieldValue.VALUE_TYPE_OFFSET, 77);
    assertThat(f.numericValue()).isNaN();
  }

  @Test
  void processInfoV2AndUtilisationSample() {
    NvmlLibrary.ProcessInfo p = new NvmlLibrary.ProcessInfo();
    NvmlLibrary.ProcessUtilizationSample s = new NvmlLibrary.ProcessUtilizationSample();

    assertThat(p.size()).isEqualTo(24);
    assertThat(offset(p, "usedGpuMemory")).isEqualTo(8);
    assertThat(offset(p, "computeInstanceId")).isEqualTo(20);
    assertThat(s.size()).isEqualTo(32);
    assertThat(offset(s, "timeStamp")).isEqualTo(8);
    assertThat(offset(s, "smUtil")).isEqualTo(16);
  }

  @Test
  void memoryAndUtilisation() {
    assertThat(new NvmlLibrary.Memory().size()).isEqualTo(24);
    assertThat(new NvmlLibrary.Utilization().size()).isEqualTo(8);
  }
}

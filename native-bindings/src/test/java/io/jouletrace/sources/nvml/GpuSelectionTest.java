package io.jouletrace.sources.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.sources.nvml.GpuSelection.Gpu;
import io.jouletrace.sources.nvml.GpuSelection.MigResolver;
import io.jouletrace.sources.nvml.GpuSelection.Result;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class GpuSelectionTest {

  private static final String U0 = "GPU-8e4c2f1a-1111-2222-3333-444455556666";
  private static final String U1 = "GPU-8e4d0000-aaaa-bbbb-cccc-ddddeeeeffff";
  private static final String U2 = "GPU-1b2c3d4e-0000-0000-0000-000000000002";
  private static final String U3 = "GPU-f00dcafe-0000-0000-0000-000000000003";

  private static final List<Gpu> FOUR_SAME =
      List.of(
          new Gpu(0, U0, "NVIDIA A100"),
          new Gpu(1, U1, "NVIDIA A100"),
          new Gpu(2, U2, "NVIDIA A100"),
          new Gpu(3, U3, "NVIDIA A100"));

  private static final List<Gpu> MIXED =
      List.of(new Gpu(0, U0, "NVIDIA A100"), new Gpu(1, U1, "NVIDIA T4"));

  private static final MigResolver MIGS =
      uuid -> {
        Map<String, Integer> parents =
            Map.of(
                "MIG-11111111-2222-3333-4444-555555555555", 2,
                "MIG-66666666-7777-8888-9999-000000000000", 2);
        Integer parent = parents.get(uuid);
        return parent == null ? OptionalInt.empty() : OptionalInt.of(parent);
      };

  private static Result cuda(String value) {
    return GpuSelection.select(null, value, null, FOUR_SAME, MIGS);
  }

  @Test
  void unsetMeansEveryGpuInIndexOrder() {
    Result r =
        GpuSelection.select(null, null, null, List.of(FOUR_SAME.get(3), FOUR_SAME.get(1)), MIGS);

    assertThat(r.indices()).containsExactly(1, 3);
    assertThat(r.origin()).isEqualTo("all");
    assertThat(r.problems()).isEmpty();
  }

  @Test
  void emptyOrBlankMeansNoGpu() {
    assertThat(cuda("").indices()).isEmpty();
    assertThat(cuda("  ").indices()).isEmpty();
    assertThat(cuda("").problems()).isEmpty();
  }

  @Test
  void indicesKeepTheOrderGivenAndTolerateSpaces() {
    Result r = cuda("2, 0");

    assertThat(r.indices()).containsExactly(2, 0);
    assertThat(r.origin()).isEqualTo("CUDA_VISIBLE_DEVICES");
    assertThat(r.problems()).isEmpty();
  }

  @Test
  void likeCudaTheFirstInvalidEntryEndsTheList() {
    Result r = cuda("0,7,1");

    assertThat(r.indices()).containsExactly(0);
    assertThat(r.problems()).singleElement().asString().contains("'7'").contains("7,1");
  }

  @Test
  void minusOneHidesEveryGpuWithoutComplaint() {
    Result r = cuda("-1");

    assertThat(r.indices()).isEmpty();
    assertThat(r.problems()).isEmpty();
  }

  @Test
  void gpuUuidsMatchInFullOrByUniquePrefixIgnoringCase() {
    assertThat(cuda(U3).indices()).containsExactly(3);
    assertThat(cuda("GPU-1b2c").indices()).containsExactly(2);
    assertThat(cuda("gpu-F00D").indices()).containsExactly(3);
  }

  @Test
  void anAmbiguousOrUnknownUuidEndsTheList() {
    Result ambiguous = cuda("1,GPU-8e4,0");
    Result unknown = cuda("GPU-dead,0");

    assertThat(ambiguous.indices()).containsExactly(1);
    assertThat(ambiguous.problems()).singleElement().asString().contains("prefix of 2");
    assertThat(unknown.indices()).isEmpty();
    assertThat(unknown.problems()).singleElement().asString().contains("matches no GPU");
  }

  @Test
  void legacyMigNamesTheirParentGpu() {
    Result r = cuda("MIG-" + U1 + "/7/0");

    assertThat(r.indices()).containsExactly(1);
  }

  @Test
  void migUuidsResolveToTheirParentOnceEach() {
    Result r =
        cuda("MIG-11111111-2222-3333-4444-555555555555,MIG-66666666-7777-8888-9999-000000000000");

    assertThat(r.indices()).containsExactly(2);
    assertThat(r.problems()).isEmpty();
  }

  @Test
  void anUnknownMigDeviceEndsTheList() {
    Result r = cuda("3,MIG-99999999-0000-0000-0000-000000000000,1");

    assertThat(r.indices()).containsExactly(3);
    assertThat(r.problems()).singleElement().asString().contains("MIG device");
  }

  @Test
  void aRepeatedGpuCountsOnceAndIsReported() {
    Result r = cuda("1," + U1 + ",2");

    assertThat(r.indices()).containsExactly(1, 2);
    assertThat(r.problems()).singleElement().asString().contains("named twice");
  }

  @Test
  void theOverrideWinsOverCudaVisibleDevices() {
    Result r = GpuSelection.select("3", "0,1", null, FOUR_SAME, MIGS);
    Result empty = GpuSelection.select("", "0,1", null, FOUR_SAME, MIGS);

    assertThat(r.indices()).containsExactly(3);
    assertThat(r.origin()).isEqualTo("gpu.devices");
    assertThat(empty.indices()).isEmpty();
  }

  @Test
  void indicesOnMixedModelsWarnUnlessCudaUsesPciOrder() {
    Result fastestFirst = GpuSelection.select(null, "1", null, MIXED, MIGS);
    Result pciOrder = GpuSelection.select(null, "1", "PCI_BUS_ID", MIXED, MIGS);
    Result byUuid = GpuSelection.select(null, U1, null, MIXED, MIGS);

    assertThat(fastestFirst.indices()).containsExactly(1);
    assertThat(fastestFirst.problems())
        .singleElement()
        .asString()
        .contains("CUDA_DEVICE_ORDER=PCI_BUS_ID");
    assertThat(pciOrder.problems()).isEmpty();
    assertThat(byUuid.problems()).isEmpty();
  }

  @Test
  void anEntryThatIsNoKnownFormIsReported() {
    Result r = cuda("0,nvidia1");

    assertThat(r.indices()).containsExactly(0);
    assertThat(r.problems()).singleElement().asString().contains("'nvidia1'");
  }
}

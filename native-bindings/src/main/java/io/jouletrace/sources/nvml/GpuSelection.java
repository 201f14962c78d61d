package io.jouletrace.sources.nvml;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Decides which physical GPUs this process uses, from the {@code gpu.devices} setting or, when that
 * is not set, {@code CUDA_VISIBLE_DEVICES}. Pure logic: the GPUs and a MIG resolver are passed in.
 *
 * <p>The syntax is CUDA's: a comma-separated list whose entries are
 *
 * <ul>
 *   <li>an index ({@code 0}, {@code 3});
 *   <li>a GPU UUID or any unique prefix of one ({@code GPU-8e4c}, {@code GPU-8e4c2f1a-...});
 *   <li>a MIG device, in the legacy form {@code MIG-GPU-<gpu uuid>/<gi>/<ci>} (the parent GPU is
 *       named inside it) or the R470+ form {@code MIG-<uuid>}, which needs the {@link MigResolver}
 *       (NVML: {@code nvmlDeviceGetHandleByUUID} then {@code
 *       nvmlDeviceGetDeviceHandleFromMigDeviceHandle}). A MIG device counts as its whole physical
 *       GPU: NVML measures energy per board, not per MIG slice.
 * </ul>
 *
 * <p>Like CUDA, parsing stops at the first entry that names no GPU: {@code 0,7,1} on a 4-GPU
 * machine selects GPU 0 only, and {@code -1} selects nothing. An empty value selects no GPU; an
 * unset value (null) selects all. Each GPU is listed once, in the order first named.
 *
 * <p>Indices are taken as NVML indices, which follow PCI bus order. CUDA numbers devices fastest
 * first unless {@code CUDA_DEVICE_ORDER=PCI_BUS_ID}; on a machine with mixed GPU models the two
 * orders can differ, and {@link #select} then says so in {@link Result#problems()}.
 */
public final class GpuSelection {

  /** Where the selection came from, for messages. */
  public static final String OVERRIDE_KEY = "gpu.devices";

  /** The CUDA variable read when {@link #OVERRIDE_KEY} is not set. */
  public static final String CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES";

  private GpuSelection() {}

  /**
   * A GPU NVML reports.
   *
   * @param index NVML index
   * @param uuid {@code GPU-...}
   * @param name product name, used only to detect mixed models
   */
  public record Gpu(int index, String uuid, String name) {
    public Gpu {
      Objects.requireNonNull(uuid, "uuid");
      Objects.requireNonNull(name, "name");
    }
  }

  /** Finds the parent GPU of a MIG device by the MIG device's UUID. */
  @FunctionalInterface
  public interface MigResolver {
    /**
     * Resolves a MIG device.
     *
     * @param migUuid a full {@code MIG-...} UUID
     * @return the NVML index of its physical GPU, or empty when unknown
     */
    OptionalInt parentIndex(String migUuid);

    /** A resolver that knows no MIG device. */
    MigResolver NONE = uuid -> OptionalInt.empty();
  }

  /**
   * The outcome.
   *
   * @param indices NVML indices of the selected GPUs, each once, in the order named
   * @param origin {@code gpu.devices}, {@code CUDA_VISIBLE_DEVICES} or {@code all}
   * @param spec the value parsed; {@code null} for {@code all}
   * @param problems one line per ignored entry or doubtful interpretation
   */
  public record Result(List<Integer> indices, String origin, String spec, List<String> problems) {
    public Result {
      indices = List.copyOf(indices);
      problems = List.copyOf(problems);
    }
  }

  /**
   * Selects GPUs.
   *
   * @param override the {@code gpu.devices} setting; wins when not {@code null}
   * @param cudaVisibleDevices {@code CUDA_VISIBLE_DEVICES}; {@code null} when unset
   * @param cudaDeviceOrder {@code CUDA_DEVICE_ORDER}; {@code null} when unset
   * @param gpus every GPU NVML reports, any order
   * @param mig resolves {@code MIG-<uuid>} entries
   * @return the selection
   */
  public static Result select(
      String override,
      String cudaVisibleDevices,
      String cudaDeviceOrder,
      List<Gpu> gpus,
      MigResolver mig) {
    if (override != null) {
      return parse(override, OVERRIDE_KEY, gpus, mig);
    }
    if (cudaVisibleDevices == null) {
      List<Integer> all = new ArrayList<>();
      gpus.stream().mapToInt(Gpu::index).sorted().forEach(all::add);
      return new Result(all, "all", null, List.of());
    }
    Result result = parse(cudaVisibleDevices, CUDA_VISIBLE_DEVICES, gpus, mig);
    boolean usesIndices =
        splitEntries(cudaVisibleDevices).stream().anyMatch(e -> e.matches("\\d+"));
    boolean mixedModels = gpus.stream().map(Gpu::name).distinct().count() > 1;
    boolean pciOrder = cudaDeviceOrder != null && "PCI_BUS_ID".equals(cudaDeviceOrder.trim());
    if (usesIndices && mixedModels && !pciOrder) {
      List<String> problems = new ArrayList<>(result.problems());
      problems.add(
          CUDA_VISIBLE_DEVICES
              + "="
              + cudaVisibleDevices
              + " uses indices on a machine with different GPU models: CUDA numbers them fastest"
              + " first, NVML in PCI bus order, so the indices may name other GPUs. Fix: set"
              + " CUDA_DEVICE_ORDER=PCI_BUS_ID, or use GPU UUIDs (nvidia-smi -L)");
      return new Result(result.indices(), result.origin(), result.spec(), problems);
    }
    return result;
  }

  private static Result parse(String spec, String origin, List<Gpu> gpus, MigResolver mig) {
    List<String> problems = new ArrayList<>();
    Set<Integer> chosen = new LinkedHashSet<>();
    List<String> entries = splitEntries(spec);
    for (int i = 0; i < entries.size(); i++) {
      String entry = entries.get(i);
      Resolution r = resolve(entry, gpus, mig);
      if (r.index < 0) {
        // "-1" is the usual way to hide every GPU: no need to comment on it.
        if (!entry.equals("-1")) {
          List<String> dropped = entries.subList(i, entries.size());
          problems.add(
              origin
                  + ": '"
                  + entry
                  + "' "
                  + r.why
                  + "; like CUDA, it and everything after it are ignored: "
                  + String.join(",", dropped));
        }
        break;
      }
      if (!chosen.add(r.index) && !r.mig) {
        problems.add(origin + ": GPU " + r.index + " is named twice; counted once");
      }
    }
    return new Result(new ArrayList<>(chosen), origin, spec, problems);
  }

  private static List<String> splitEntries(String spec) {
    List<String> out = new ArrayList<>();
    if (spec.isBlank()) {
      return out;
    }
    for (String part : spec.split(",", -1)) {
      out.add(part.trim());
    }
    return out;
  }

  private record Resolution(int index, boolean mig, String why) {
    static Resolution of(int index, boolean mig) {
      return new Resolution(index, mig, null);
    }

    static Resolution invalid(String why) {
      return new Resolution(-1, false, why);
    }
  }

  private static Resolution resolve(String entry, List<Gpu> gpus, MigResolver mig) {
    if (entry.isEmpty()) {
      return Resolution.invalid("is empty");
    }
    if (entry.matches("\\d+")) {
      int index;
      try {
        index = Integer.parseInt(entry);
      } catch (NumberFormatException e) {
        return Resolution.invalid("is not a GPU index");
      }
      for (Gpu gpu : gpus) {
        if (gpu.index() == index) {
          return Resolution.of(index, false);
        }
      }
      return Resolution.invalid("is not a GPU index here (" + gpus.size() + " GPUs)");
    }
    String upper = entry.toUpperCase(Locale.ROOT);
    if (upper.startsWith("MIG-GPU-")) {
      // Legacy (before R470): MIG-GPU-<gpu uuid>/<gpu instance>/<compute instance>.
      int slash = entry.indexOf('/');
      String gpuUuid = entry.substring("MIG-".length(), slash < 0 ? entry.length() : slash);
      Resolution parent = byUuidPrefix(gpuUuid, gpus);
      return parent.index < 0 ? parent : Resolution.of(parent.index, true);
    }
    if (upper.startsWith("MIG-")) {
      OptionalInt parent = mig.parentIndex(entry);
      if (parent.isEmpty()) {
        return Resolution.invalid("is not a MIG device NVML knows");
      }
      return Resolution.of(parent.getAsInt(), true);
    }
    if (upper.startsWith("GPU-")) {
      return byUuidPrefix(entry, gpus);
    }
    return Resolution.invalid("is neither an index, a GPU-<uuid> nor a MIG-<uuid>");
  }

  private static Resolution byUuidPrefix(String prefix, List<Gpu> gpus) {
    String p = prefix.toLowerCase(Locale.ROOT);
    int found = -1;
    int matches = 0;
    for (Gpu gpu : gpus) {
      if (gpu.uuid().toLowerCase(Locale.ROOT).startsWith(p)) {
        found = gpu.index();
        matches++;
      }
    }
    if (matches == 0) {
      return Resolution.invalid("matches no GPU UUID");
    }
    if (matches > 1) {
      return Resolution.invalid("is a prefix of " + matches + " GPU UUIDs");
    }
    return Resolution.of(found, false);
  }
}

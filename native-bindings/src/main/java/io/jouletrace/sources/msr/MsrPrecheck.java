package io.jouletrace.sources.msr;

import io.jouletrace.sources.cpu.CpuIdentity;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What can be told about RAPL through MSR without opening anything: whether this source knows the
 * CPU's vendor, and whether the msr driver's files exist. On most machines without RAPL in sysfs
 * (VMs, containers) they do not; asking here first spares the agent's start-up the loading of
 * {@link RaplMsrSource}, which asks the same before it opens a register.
 */
public final class MsrPrecheck {

  private MsrPrecheck() {}

  /**
   * Why RAPL through MSR cannot open here, as far as that can be told without opening a file.
   *
   * @param msrRoot normally {@link RaplMsrSource#DEFAULT_MSR_ROOT}
   * @param cpu the CPU's identity, or null
   * @return the reason, naming the fix; {@code null} when opening is worth trying
   */
  public static String problem(Path msrRoot, CpuIdentity cpu) {
    String vendor = cpu == null ? null : cpu.vendor();
    if (MsrLayout.forVendor(vendor) == null) {
      return "rapl-msr knows the CPU vendors GenuineIntel and"
          + " AuthenticAMD (family 17h and later), not '"
          + vendor
          + "': use the rapl-sysfs source or the estimation model on this machine";
    }
    if (!anyMsrFile(msrRoot)) {
      return "no MSR device files under "
          + msrRoot
          + " (no "
          + msrRoot.resolve("N").resolve("msr")
          + " for any CPU N): load the msr module: sudo modprobe msr";
    }
    return null;
  }

  /** Whether some {@code <msrRoot>/<cpu>/msr} exists. */
  static boolean anyMsrFile(Path msrRoot) {
    if (!Files.isDirectory(msrRoot)) {
      return false;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(msrRoot)) {
      for (Path d : dirs) {
        if (Files.exists(d.resolve("msr"))) {
          return true;
        }
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
    return false;
  }
}

package io.jouletrace.agent;

import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.ConfigLoader;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import io.jouletrace.sources.cpu.OshiCpuTimes;
import io.jouletrace.sources.model.ModelParams;
import io.jouletrace.sources.nvml.GpuInfo;
import io.jouletrace.sources.nvml.NvmlProbe;
import io.jouletrace.sources.nvml.NvmlSource;
import io.jouletrace.sources.rapl.RaplSysfsSource;
import io.jouletrace.sources.rapl.RaplZone;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import oshi.hardware.CentralProcessor;

/**
 * {@code java -jar jouletrace-agent.jar probe [key=value,...]}: what this machine offers, what the
 * agent would use, and for each thing missing the reason and the fix. The keys are the agent's
 * (e.g. {@code powercap.root}, {@code cpu.source}, {@code nvml.library}).
 */
public final class Probe {

  /** Exit status when at least one energy counter can be read. */
  public static final int MEASURED = 0;

  /** Exit status when only the estimation model is possible. */
  public static final int ESTIMATION_ONLY = 3;

  private Probe() {}

  /**
   * Runs the probe.
   *
   * @param args agent-style configuration, may be {@code null}
   * @param out where the report goes
   * @return {@link #MEASURED} or {@link #ESTIMATION_ONLY}
   */
  public static int run(String args, PrintStream out) {
    AgentConfig config = ConfigLoader.load(args);
    config.errors().forEach(out::println);
    List<String> warnings = new ArrayList<>();
    Log log = new Log(warnings::add);

    OshiCpuTimes cpu = new OshiCpuTimes();
    CentralProcessor p = cpu.system().getHardware().getProcessor();
    String model = p.getProcessorIdentifier().getName();
    out.printf(
        Locale.ROOT,
        "CPU: %s (%s), %d package(s), %d logical CPUs, %.1f GB memory%n",
        model,
        p.getProcessorIdentifier().getVendor(),
        p.getPhysicalPackageCount(),
        p.getLogicalProcessorCount(),
        cpu.system().getHardware().getMemory().getTotal() / 1e9);

    out.println();
    out.println("RAPL through powercap sysfs (" + config.powercapRoot() + "):");
    List<RaplZone> zones = RaplSysfsSource.discover(config.powercapRoot());
    if (zones.isEmpty()) {
      out.println(
          "  no zones. Fix: on bare metal, load the driver (sudo modprobe intel_rapl_msr;"
              + " AMD needs Linux 5.8+); VMs and most cloud instances do not expose RAPL");
    }
    for (RaplZone z : zones) {
      boolean readable = Files.isReadable(z.dir().resolve("energy_uj"));
      out.printf(
          Locale.ROOT,
          "  %-22s %-10s %s, max_energy_range_uj=%d%n",
          z.dir().getFileName(),
          z.name(),
          readable ? "readable" : "NOT readable",
          z.maxRangeMicrojoules());
    }

    out.println();
    out.println("RAPL through the MSR driver (" + config.msrRoot() + "): " + msrFiles(config));

    CpuSources.Choice choice =
        CpuSources.open(config, () -> CpuSources.identity(p.getProcessorIdentifier()), log);
    if (!choice.problems().isEmpty()) {
      out.println();
      out.println("CPU energy counters:");
    }
    for (String problem : choice.problems()) {
      out.println("  not used: " + problem);
    }

    out.println();
    out.println(
        "NVIDIA GPUs (NVML"
            + (config.nvmlLibrary() == null ? "" : " " + config.nvmlLibrary())
            + "):");
    NvmlSource gpus = null;
    if ("off".equals(config.gpu())) {
      out.println("  off (gpu=off)");
    } else {
      try {
        gpus = NvmlSource.open(config.nvmlLibrary(), config.gpuDevices(), log);
        NvmlProbe.driverVersion(gpus).ifPresent(v -> out.println("  driver " + v));
        for (GpuInfo g : NvmlProbe.describe(gpus)) {
          out.printf(
              Locale.ROOT,
              "  gpu %d %s %s bus %s: energy counter %s, instant power %s,"
                  + " power limit %.0f W, %.1f GB, read as %s%n",
              g.index(),
              g.name(),
              g.uuid(),
              g.pciBusId(),
              g.energyCounterSupported() ? "yes" : "no",
              g.instantPowerSupported() ? "yes" : "no",
              g.powerLimitWatts(),
              g.memoryTotalBytes() / 1e9,
              g.source());
        }
      } catch (SourceUnavailableException e) {
        out.println("  none: " + e.getMessage());
      } catch (Throwable t) {
        out.println("  none: " + t);
      }
    }

    out.println();
    out.println("The agent would use:");
    boolean measured = false;
    if (choice.source() != null) {
      measured = true;
      describe(out, choice.source());
      choice.source().close();
    } else {
      ModelParams m =
          ModelParams.forCpu(model, p.getPhysicalPackageCount(), p.getLogicalProcessorCount());
      out.printf(
          Locale.ROOT,
          "  CPU and DRAM: ESTIMATED (source=model): %.1f-%.1f W CPU, %.3f" + " W/GB DRAM; %s%n",
          m.cpuIdleWatts(),
          m.cpuMaxWatts(),
          m.dramWattsPerGb(),
          m.origin());
    }
    if (gpus != null) {
      measured = true;
      describe(out, gpus);
      gpus.close();
    } else {
      out.println("  GPU: none");
    }
    warnings.forEach(w -> out.println("  note: " + w));
    out.println();
    out.println(
        measured
            ? "Result: energy counters are readable (exit " + MEASURED + ")."
            : "Result: only estimation is possible here (exit " + ESTIMATION_ONLY + ").");
    return measured ? MEASURED : ESTIMATION_ONLY;
  }

  private static void describe(PrintStream out, EnergySource source) {
    for (Device d : source.devices()) {
      out.printf(
          Locale.ROOT,
          "  %-6s %-12s source=%s, %s%n",
          d.domain().label(),
          d.id(),
          d.source(),
          d.measured() ? "measured" : "estimated");
    }
  }

  /**
   * What the MSR driver offers: its files, one per CPU; a directory of CPUs without them (only
   * {@code cpuid}, say) is not the driver.
   */
  private static String msrFiles(AgentConfig config) {
    Path root = config.msrRoot();
    if (!Files.isDirectory(root)) {
      return "absent";
    }
    int cpus = 0;
    int withMsr = 0;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
      for (Path d : dirs) {
        String n = d.getFileName().toString();
        if (!n.isEmpty() && n.chars().allMatch(Character::isDigit)) {
          cpus++;
          if (Files.exists(d.resolve("msr"))) {
            withMsr++;
          }
        }
      }
    } catch (IOException e) {
      return "cannot be listed (" + e + ")";
    }
    if (withMsr == 0) {
      return "no msr files (" + cpus + " CPU directories); the msr module is not loaded";
    }
    return "msr files for " + withMsr + " of " + cpus + " CPUs";
  }
}

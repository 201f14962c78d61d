package io.jouletrace.agent;

import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import io.jouletrace.sources.cpu.CpuIdentity;
import io.jouletrace.sources.msr.MsrPrecheck;
import io.jouletrace.sources.msr.RaplMsrSource;
import io.jouletrace.sources.rapl.RaplSysfsSource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The one place that decides where CPU and DRAM energy come from, for the sampler and for {@code
 * probe}: {@code cpu.source=auto} tries RAPL through sysfs, then through the MSR driver; a source
 * named in the configuration is the only one tried. When none opens, the caller estimates.
 */
final class CpuSources {

  /**
   * What was tried.
   *
   * @param source the counter source that opened, or {@code null}
   * @param problems one line per source that did not open, with the reason and the fix
   */
  record Choice(EnergySource source, List<String> problems) {}

  private CpuSources() {}

  /**
   * The CPU as OSHI identifies it.
   *
   * @param id OSHI's processor identifier
   * @return vendor, family and model
   */
  static CpuIdentity identity(oshi.hardware.CentralProcessor.ProcessorIdentifier id) {
    return CpuIdentity.parse(id.getVendor(), id.getFamily(), id.getModel());
  }

  /**
   * Opens the best counter source allowed by the configuration.
   *
   * @param config the configuration
   * @param cpu the CPU's vendor, family and model, asked for only when MSR is tried (the model
   *     chooses the DRAM unit on Intel servers)
   * @param diagnostics where the source reports problems while sampling
   * @return the choice
   */
  static Choice open(AgentConfig config, Supplier<CpuIdentity> cpu, Diagnostics diagnostics) {
    return open(config, null, cpu, diagnostics);
  }

  /**
   * As {@link #open(AgentConfig, Supplier, Diagnostics)}, when sysfs was already tried.
   *
   * @param sysfsProblem why RAPL through sysfs did not open, or {@code null} to try it here
   */
  static Choice open(
      AgentConfig config, String sysfsProblem, Supplier<CpuIdentity> cpu, Diagnostics diagnostics) {
    List<String> problems = new ArrayList<>();
    String wanted = config.cpuSource();
    if (wanted.equals("model")) {
      problems.add("cpu.source=model: counters not used");
      return new Choice(null, problems);
    }
    if (sysfsProblem != null) {
      problems.add(sysfsProblem);
    } else if (wanted.equals("auto") || wanted.equals("rapl-sysfs")) {
      try {
        return new Choice(RaplSysfsSource.open(config.powercapRoot(), diagnostics), problems);
      } catch (SourceUnavailableException e) {
        problems.add("rapl-sysfs: " + e.getMessage());
      }
    }
    if (wanted.equals("auto") || wanted.equals("rapl-msr")) {
      CpuIdentity id = cpu.get();
      // Without msr files (most machines that get here) the source's class is not even loaded.
      String unavailable = MsrPrecheck.problem(config.msrRoot(), id);
      if (unavailable != null) {
        problems.add("rapl-msr: " + unavailable);
        return new Choice(null, problems);
      }
      try {
        return new Choice(
            RaplMsrSource.open(config.msrRoot(), RaplMsrSource.DEFAULT_CPU_ROOT, id, diagnostics),
            problems);
      } catch (SourceUnavailableException e) {
        problems.add("rapl-msr: " + e.getMessage());
      }
    }
    return new Choice(null, problems);
  }
}

package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code java -jar jouletrace-agent.jar probe}: what the machine offers and what would be used. */
class ProbeIT {

  @Test
  void countersFoundExitZero(@TempDir Path dir) throws Exception {
    try (FakePowercap rapl =
        new FakePowercap(dir.resolve("powercap"))
            .zone("intel-rapl:0", "package-0", 30, 262_143_328_850L, 0)
            .zone("intel-rapl:0:0", "core", 20, 262_143_328_850L, 0)
            .zone("intel-rapl:0:1", "dram", 4, 262_143_328_850L, 0)) {
      Path msr = dir.resolve("msr");
      Files.createFile(Files.createDirectories(msr.resolve("0")).resolve("msr"));
      Files.createDirectories(msr.resolve("1")); // a CPU whose file the driver has not made
      Path script = dir.resolve("nvml.script");
      Files.writeString(script, "devices 1\nname 0 Fake H100\npower 0 0 300\nlimit 0 700\n");
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .env("FAKE_NVML_SCRIPT", script.toString())
              .unsetEnv("CUDA_VISIBLE_DEVICES")
              .arg(
                  "-jar",
                  ForkedJvm.AGENT_JAR.toString(),
                  "probe",
                  "powercap.root="
                      + rapl.root()
                      + ",msr.root="
                      + msr
                      + ",nvml.library="
                      + ForkedJvm.FAKE_NVML)
              .run(60);
      assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
      assertThat(r.stdout())
          .contains("intel-rapl:0 ", "package-0", "readable", "intel-rapl:0:0", "core")
          .contains("(" + msr + "): msr files for 1 of 2 CPUs")
          .contains("gpu 0 Fake H100", "energy counter yes", "power limit 700 W")
          .contains("cpu    package-0", "dram   dram-0", "source=rapl-sysfs, measured")
          .contains("gpu    gpu-0", "source=nvml-energy")
          .contains("Result: energy counters are readable (exit 0)");
    }
  }

  @Test
  void nothingMeasurableExitThreeWithReasonsAndFixes(@TempDir Path dir) throws Exception {
    // CPU directories with only cpuid, as a VM has them: not the MSR driver.
    for (String cpu : new String[] {"0", "1"}) {
      Files.createFile(Files.createDirectories(dir.resolve("nomsr").resolve(cpu)).resolve("cpuid"));
    }
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .arg(
                "-jar",
                ForkedJvm.AGENT_JAR.toString(),
                "probe",
                "powercap.root="
                    + dir.resolve("none")
                    + ",msr.root="
                    + dir.resolve("nomsr")
                    + ",nvml.library="
                    + dir.resolve("libnvidia-ml.so.1"))
            .run(60);
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isEqualTo(3);
    assertThat(r.stdout())
        .contains("no zones. Fix:")
        .contains("(" + dir.resolve("nomsr") + "): no msr files (2 CPU directories)")
        .doesNotContain("present")
        .contains("CPU energy counters:\n  not used: rapl-sysfs: no RAPL zones")
        .contains("not used: rapl-msr:")
        .contains("modprobe msr")
        .contains(
            "NVIDIA GPUs",
            "none: nvml.library=" + dir.resolve("libnvidia-ml.so.1") + ": no such file")
        .contains("CPU and DRAM: ESTIMATED (source=model)")
        .contains("Result: only estimation is possible here (exit 3)");
  }
}

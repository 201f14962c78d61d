package io.jouletrace.sources.msr;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.sources.cpu.CpuIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MsrPrecheckTest {

  @TempDir Path dev;

  @Test
  void unknownVendorNoFilesAndFilesPresent() throws Exception {
    assertThat(MsrPrecheck.problem(dev, new CpuIdentity("CentaurHauls", 6, 15)))
        .contains("not 'CentaurHauls'");
    assertThat(MsrPrecheck.problem(dev, null)).contains("not 'null'");
    CpuIdentity intel = new CpuIdentity("GenuineIntel", 6, 0x55);
    assertThat(MsrPrecheck.problem(dev.resolve("absent"), intel))
        .contains("no MSR device files under " + dev.resolve("absent"))
        .contains("sudo modprobe msr");
    Files.createDirectories(dev.resolve("0"));
    Files.createDirectories(dev.resolve("1"));
    assertThat(MsrPrecheck.problem(dev, intel)).contains("no MSR device files under " + dev);
    Files.createFile(dev.resolve("1").resolve("msr"));
    assertThat(MsrPrecheck.problem(dev, intel)).isNull();
    assertThat(MsrPrecheck.problem(dev, new CpuIdentity("AuthenticAMD", 0x19, 1))).isNull();
  }
}

package io.jouletrace.sources.msr;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CpuPackagesTest {

  @Test
  void cpuFolderNamesAsThePatternCpuDigitsReadsThem() {
    Pattern cpu = Pattern.compile("cpu(\\d+)");
    String[] parts = {"cpu", "0", "7", "12", "freq", "idle", "a", "", "-1", "cpu"};
    SplittableRandom r = new SplittableRandom(5);
    int differ = 0;
    for (int i = 0; i < 20_000; i++) {
      StringBuilder b = new StringBuilder();
      for (int k = r.nextInt(4); k >= 0; k--) {
        b.append(parts[r.nextInt(parts.length)]);
      }
      String name = b.toString();
      Matcher m = cpu.matcher(name);
      int expected = m.matches() && m.group(1).length() <= 9 ? Integer.parseInt(m.group(1)) : -1;
      if (CpuPackages.cpuNumber(name) != expected) {
        differ++;
      }
    }
    assertThat(differ).isZero();
    assertThat(CpuPackages.cpuNumber("cpu0")).isZero();
    assertThat(CpuPackages.cpuNumber("cpu255")).isEqualTo(255);
    assertThat(CpuPackages.cpuNumber("cpufreq")).isEqualTo(-1);
    assertThat(CpuPackages.cpuNumber("cpu")).isEqualTo(-1);
  }
}

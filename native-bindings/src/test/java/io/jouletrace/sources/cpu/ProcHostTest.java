package io.jouletrace.sources.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host's facts from a /proc tree written here, as Linux writes it. */
class ProcHostTest {

  @TempDir Path proc;

  private void write(String name, String text) throws Exception {
    Path p = proc.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
  }

  @Test
  void readsIdentityTopologyMemoryAndCpuTimes() throws Exception {
    StringBuilder cpuinfo = new StringBuilder();
    for (int cpu = 0; cpu < 4; cpu++) {
      cpuinfo
          .append("processor\t: ")
          .append(cpu)
          .append("\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n")
          .append("model name\t: Intel(R) Xeon(R) Platinum 8480+\nphysical id\t: ")
          .append(cpu / 2)
          .append("\n\n");
    }
    write("cpuinfo", cpuinfo.toString());
    write(
        "stat",
        "cpu  100 20 30 400 50 6 7 8 0 0\n"
            + "cpu0 25 5 7 100 12 1 2 2 0 0\ncpu1 25 5 8 100 13 2 2 2 0 0\n"
            + "cpu2 25 5 7 100 12 1 1 2 0 0\ncpu3 25 5 8 100 13 2 2 2 0 0\n"
            + "intr 12345\nctxt 999\n");
    write("meminfo", "MemTotal:       16384000 kB\nMemFree:         1000 kB\n");
    // pid (comm with a ) and blanks) state ... utime=field 14, stime=field 15
    write(
        "self/stat",
        "4242 (java ) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 125 0 0 20 0 30 0 7 1 1\n");

    ProcHost host = ProcHost.open(proc);
    assertThat(host).isNotNull();
    assertThat(host.modelName()).isEqualTo("Intel(R) Xeon(R) Platinum 8480+");
    assertThat(host.identity()).isEqualTo(new CpuIdentity("GenuineIntel", 6, 143));
    assertThat(host.packages()).isEqualTo(2);
    assertThat(host.logicalCpus()).isEqualTo(4);
    assertThat(host.memoryGb()).isCloseTo(16384000L * 1024 / 1e9, within(1e-9));
    // busy: user+nice+system+irq+softirq+steal = 100+20+30+6+7+8 = 171 ticks; total adds idle
    // 400 and iowait 50 = 621 ticks; 10 ms per tick
    assertThat(host.host()).isEqualTo(new CpuTimes.HostTicks(1710, 6210));
    assertThat(host.processCpuNanos()).isEqualTo((250 + 125) * 10_000_000L);
  }

  @Test
  void aTreeThatIsNotLinuxsGivesNothing() throws Exception {
    assertThat(ProcHost.open(proc)).isNull(); // empty
    write("cpuinfo", "processor : 0\n");
    write("stat", "intr 1\n"); // no cpuN lines
    write("meminfo", "MemTotal: 1000 kB\n");
    assertThat(ProcHost.open(proc)).isNull();
  }

  @Test
  void digitsOfKeepsWhatReplacingEveryNonDigitKept() {
    java.util.Random random = new java.util.Random(7);
    String alphabet = "MemTotal: 0123456789 kB\t\u0660\u00B2";
    for (int i = 0; i < 10_000; i++) {
      StringBuilder b = new StringBuilder();
      for (int k = random.nextInt(30); k > 0; k--) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String line = b.toString();
      assertThat(ProcHost.digitsOf(line)).as(line).isEqualTo(line.replaceAll("[^0-9]", ""));
    }
  }
}

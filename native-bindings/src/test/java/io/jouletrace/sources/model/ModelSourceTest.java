package io.jouletrace.sources.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.sources.cpu.CpuTimes;
import org.junit.jupiter.api.Test;

class ModelSourceTest {

  /** Scripted host: busy and total milliseconds and a clock, all set by the test. */
  static final class FakeCpu implements CpuTimes {
    long busy;
    long total;

    @Override
    public HostTicks host() {
      return new HostTicks(busy, total);
    }

    @Override
    public long processCpuNanos() {
      return 0;
    }

    @Override
    public int logicalCpus() {
      return 4;
    }
  }

  @Test
  void integratesLinearModelOverScriptedLoad() {
    FakeCpu cpu = new FakeCpu();
    long[] clock = {0};
    ModelParams p = new ModelParams(10, 50, 0.5, "test");
    ModelSource s = new ModelSource(cpu, p, 16, () -> clock[0]);
    assertThat(s.devices()).allSatisfy(d -> assertThat(d.measured()).isFalse());

    // 2 s at 25 % load on 4 CPUs: 8000 ms total ticks, 2000 busy
    cpu.total = 8000;
    cpu.busy = 2000;
    clock[0] = 2_000_000_000L;
    double[] j = new double[2];
    s.sample(j);
    assertThat(j[0]).isCloseTo((10 + 40 * 0.25) * 2, within(1e-9)); // 40 J
    assertThat(j[1]).isCloseTo(16 * 0.5 * 2, within(1e-9)); // 16 J

    // 1 s fully busy
    cpu.total += 4000;
    cpu.busy += 4000;
    clock[0] += 1_000_000_000L;
    s.sample(j);
    assertThat(j[0]).isCloseTo(40 + 50, within(1e-9));
    assertThat(j[1]).isCloseTo(16 + 8, within(1e-9));
  }

  @Test
  void defaultsScaleCloudCarbonFootprintCoefficientsByThreads() {
    ModelParams d = ModelParams.defaults(8);
    assertThat(d.cpuIdleWatts()).isCloseTo(0.74 * 8, within(1e-12));
    assertThat(d.cpuMaxWatts()).isCloseTo(3.5 * 8, within(1e-12));
    assertThat(d.dramWattsPerGb()).isEqualTo(0.392);
    assertThatThrownBy(() -> new ModelParams(20, 10, 0, "x"))
        .hasMessageContaining("cpu.idle <= cpu.tdp");
  }

  @Test
  void knownCpuUsesItsRatedPowerPerSocketWithSource() {
    ModelParams p = ModelParams.forCpu("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", 2, 160);
    assertThat(p.cpuMaxWatts()).isEqualTo(540.0); // 270 W per socket (Intel ARK) x 2
    assertThat(p.cpuIdleWatts()).isCloseTo(540.0 * 0.74 / 3.5, within(1e-9));
    assertThat(p.origin()).contains("Xeon Platinum 8380", "270 W x 2 socket(s)", "Intel ARK");
    assertThat(ModelParams.forCpu("AMD EPYC 7763 64-Core Processor", 1, 128).cpuMaxWatts())
        .isEqualTo(280.0);
  }

  @Test
  void unknownCpuFallsBackToPerThreadDefaultsAndSaysSo() {
    ModelParams p = ModelParams.forCpu("AMD EPYC", 1, 2);
    assertThat(p.cpuMaxWatts()).isCloseTo(7.0, within(1e-12));
    assertThat(p.origin()).contains("'AMD EPYC' not in the table", "per-vCPU");
    // whole words only: the 95 W i7-8700K is not the 65 W i7-8700
    assertThat(ModelParams.forCpu("Intel(R) Core(TM) i7-8700K CPU", 1, 12).origin())
        .contains("not in the table");
    assertThat(ModelParams.forCpu("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", 1, 12).cpuMaxWatts())
        .isEqualTo(65.0);
  }

  /**
   * The whole-word scan against the lookaround pattern it replaced, over random strings drawn from
   * letters, digits and separators with the words planted in them at random places.
   */
  @Test
  void wholeWordScanAgreesWithTheLookaroundPattern() {
    java.util.Random random = new java.util.Random(11);
    String alphabet = "ab78 -()@.k";
    String[] words = {"a", "ab", "8", "78", "i7-8", "a-b", "(r)", "k", "b7"};
    int found = 0;
    for (int i = 0; i < 20_000; i++) {
      StringBuilder text = new StringBuilder();
      for (int n = random.nextInt(12); n > 0; n--) {
        text.append(
            random.nextInt(4) == 0
                ? words[random.nextInt(words.length)]
                : String.valueOf(alphabet.charAt(random.nextInt(alphabet.length()))));
      }
      String word = words[random.nextInt(words.length)];
      boolean expected =
          java.util.regex.Pattern.compile(
                  "(?<![a-z0-9])" + java.util.regex.Pattern.quote(word) + "(?![a-z0-9])")
              .matcher(text)
              .find();
      assertThat(ModelParams.containsWord(text.toString(), word))
          .as("'%s' in '%s'", word, text)
          .isEqualTo(expected);
      found += expected ? 1 : 0;
    }
    assertThat(found).isBetween(1_000, 19_000); // both answers were tried often
  }

  @Test
  void everyTableRowHasPowerAndSource() {
    assertThat(ModelParams.table())
        .hasSizeGreaterThan(10)
        .allSatisfy(
            row -> {
              assertThat(Double.parseDouble(row[1])).isBetween(10.0, 1000.0);
              assertThat(row[2]).isNotBlank();
            });
  }
}

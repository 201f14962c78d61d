package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IsoInstantTest {

  @Test
  void writesWhatInstantToStringWrites() {
    SplittableRandom r = new SplittableRandom(20261130);
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    long min = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    int differ = 0;
    for (int i = 0; i < 200_000; i++) {
      long seconds =
          switch (i % 4) {
            case 0 -> r.nextLong(min, max + 1); // any day of the four-digit years
            case 1 -> r.nextLong(0, 4_102_444_800L); // 1970..2100
            case 2 -> r.nextLong(-3, 4) * 86_400 * 365 + r.nextLong(-86_400, 86_400);
            default -> r.nextLong(-200_000_000_000L, 200_000_000_000L); // beyond, both ways
          };
      int nano =
          switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> r.nextInt(1000) * 1_000_000;
            case 2 -> r.nextInt(1_000_000) * 1000;
            default -> r.nextInt(1_000_000_000);
          };
      Instant t = Instant.ofEpochSecond(seconds, nano);
      if (!IsoInstant.format(t).equals(t.toString())) {
        differ++;
      }
    }
    assertThat(differ).isZero();
  }

  @Test
  void leapDaysAndYearEnds() {
    for (String s :
        new String[] {
          "2024-02-29T12:00:00Z",
          "2000-02-29T00:00:00.001Z",
          "1900-03-01T00:00:00.000001Z",
          "1969-12-31T23:59:59.999999999Z",
          "1970-01-01T00:00:00Z",
          "0000-01-01T00:00:00Z",
          "9999-12-31T23:59:59.5Z",
          "2026-11-30T02:39:19.123456Z"
        }) {
      Instant t = Instant.parse(s);
      assertThat(IsoInstant.format(t)).isEqualTo(t.toString());
    }
    assertThat(IsoInstant.format(null)).isEqualTo("null");
  }
}

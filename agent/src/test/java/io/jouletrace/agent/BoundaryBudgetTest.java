package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BoundaryBudgetTest {

  private static final long INTERVAL = 100_000_000L; // 100 ms: 1 % of a core is 1 ms

  @Test
  void startsAtTheMostAndHalvesAfterAnIntervalOverBudget() {
    BoundaryBudget b = new BoundaryBudget(INTERVAL);
    assertThat(b.reads()).isEqualTo(SamplerLimits.MAX_BOUNDARY_READS_PER_TICK);
    b.endInterval(3_000_000L, 20);
    assertThat(b.reads()).isEqualTo(10);
    b.endInterval(3_000_000L, 10);
    b.endInterval(3_000_000L, 5);
    b.endInterval(3_000_000L, 2);
    b.endInterval(3_000_000L, 1);
    assertThat(b.reads()).isEqualTo(1); // never none: a boundary is still read once per interval
  }

  @Test
  void growsByOneUnderBudgetUpToTheMost() {
    BoundaryBudget b = new BoundaryBudget(INTERVAL);
    b.endInterval(5_000_000L, 20);
    assertThat(b.reads()).isEqualTo(10);
    for (int i = 0; i < 5; i++) {
      b.endInterval(400_000L, 10);
    }
    assertThat(b.reads()).isEqualTo(15);
    for (int i = 0; i < 50; i++) {
      b.endInterval(400_000L, 15);
    }
    assertThat(b.reads()).isEqualTo(SamplerLimits.MAX_BOUNDARY_READS_PER_TICK);
  }

  @Test
  void intervalsWithoutBoundaryWorkOrWithoutAClockChangeNothing() {
    BoundaryBudget b = new BoundaryBudget(INTERVAL);
    b.endInterval(9_000_000L, 0); // the tick's own cost, no boundary read
    b.endInterval(-1, 20);
    assertThat(b.reads()).isEqualTo(SamplerLimits.MAX_BOUNDARY_READS_PER_TICK);
  }

  @Test
  void sourcesThatSayTheyAreSlowGetNoMoreReadsThanFitTheAllowance() {
    BoundaryBudget b = new BoundaryBudget(100_000_000L); // 1 % of 100 ms: 1 ms
    b.readCost(200_000L); // 200 us per read: 5 fit
    assertThat(b.reads()).isEqualTo(5);
    b.endInterval(1, 5); // cheap as it went, still no more than fit
    assertThat(b.reads()).isEqualTo(5);
    b.readCost(50_000_000L); // slower than the whole allowance: one read still
    assertThat(b.reads()).isEqualTo(1);
    b.readCost(-1); // unknown: the measured cost decides again
    b.endInterval(1, 1);
    assertThat(b.reads()).isEqualTo(2);
  }
}

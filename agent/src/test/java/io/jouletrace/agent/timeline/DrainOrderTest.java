package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DrainOrderTest {

  private record Change(long time, int slot, int phase) {}

  private static List<Change> handOver(DrainOrder o) {
    int[] byTime = o.sorted();
    List<Change> out = new ArrayList<>();
    for (int k = 0; k < o.size(); k++) {
      int i = byTime == null ? k : byTime[k];
      out.add(new Change(o.time(i), o.slot(i), o.phase(i)));
    }
    o.clear();
    return out;
  }

  /**
   * Runs of each thread's changes, in order within a run, the threads in any order: the result is
   * the changes by time, and those at one instant in the order they came (a stable sort, checked
   * against the JDK's). Drains of a few changes (insertion) and of many (radix passes), over spans
   * that take one radix pass, several, and the most a {@code long} can need.
   */
  @Test
  void changesComeOutByTimeAndThoseAtOneInstantInTheOrderTheyCame() {
    Random r = new Random(7);
    DrainOrder o = new DrainOrder();
    int small = 0;
    int large = 0;
    for (long span : new long[] {1_000L, 1_000_000L, 40_000_000_000_000L, Long.MAX_VALUE / 4}) {
      for (int round = 0; round < 40; round++) {
        List<Change> in = new ArrayList<>();
        int threads = 1 + r.nextInt(round % 2 == 0 ? 8 : 400);
        for (int t = 0; t < threads; t++) {
          long time = (long) (r.nextDouble() * span) - span / 2; // nanoTime may be negative
          for (int k = r.nextInt(20); k > 0; k--) {
            time += r.nextInt(3) == 0 ? 0 : r.nextInt(1000);
            Change c = new Change(time, t, in.size());
            in.add(c);
            o.add(c.time(), c.slot(), c.phase());
          }
        }
        List<Change> expected = new ArrayList<>(in);
        expected.sort(Comparator.comparingLong(Change::time)); // stable
        boolean inOrder = expected.equals(in);
        if (!inOrder && in.size() <= DrainOrder.INSERTION) {
          small++;
        } else if (!inOrder) {
          large++;
        }
        assertThat(handOver(o)).isEqualTo(expected);
      }
    }
    assertThat(small).as("drains sorted by insertion").isGreaterThan(20);
    assertThat(large).as("drains sorted by radix passes").isGreaterThan(20);
  }

  @Test
  void changesThatCameInOrderAreHandedOverWithoutSorting() {
    DrainOrder o = new DrainOrder();
    o.add(5, 0, 1);
    o.add(5, 1, 2);
    o.add(9, 0, 0);
    assertThat(o.sorted()).isNull();
    assertThat(handOver(o))
        .containsExactly(new Change(5, 0, 1), new Change(5, 1, 2), new Change(9, 0, 0));
    assertThat(o.size()).isZero();
  }

  /**
   * After the drain of two hundred thousand changes (a hundred thousand threads that each opened
   * and closed a phase) the arrays are given back, and drains go on as before.
   */
  @Test
  void theArraysOfABurstAreGivenBack() {
    DrainOrder o = new DrainOrder();
    int empty = o.capacity();
    for (int i = 0; i < 200_000; i++) {
      o.add(200_000 - i, i % 1000, 1); // out of order: the sort's arrays are made too
    }
    List<Change> burst = handOver(o);
    assertThat(burst).hasSize(200_000);
    assertThat(burst.get(0).time()).isEqualTo(1);
    assertThat(o.capacity()).isGreaterThanOrEqualTo(400_000);

    o.release();

    assertThat(o.capacity()).isEqualTo(empty);
    o.add(3, 0, 1);
    o.add(1, 1, 2);
    assertThat(handOver(o)).containsExactly(new Change(1, 1, 2), new Change(3, 0, 1));
  }
}

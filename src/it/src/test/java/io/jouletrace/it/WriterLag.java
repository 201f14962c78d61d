package io.jouletrace.it;

import java.util.ArrayList;
import java.util.List;

/**
 * How far a fake counter's published values lag behind real time. A fake's writer thread records
 * each pass: the instant its values stand for and when the last of them was in place. On a loaded
 * machine that thread can be descheduled for tens of milliseconds, and a counter read at a phase
 * boundary is then that much behind; this bounds the error the fake itself puts into a reading,
 * measured by the fake and not by the code under test.
 */
final class WriterLag {

  private final List<long[]> passes = new ArrayList<>();

  /**
   * One completed pass: values for instant {@code valueNanos}, all published by {@code doneNanos}.
   */
  synchronized void pass(long valueNanos, long doneNanos) {
    passes.add(new long[] {valueNanos, doneNanos});
  }

  /**
   * The most the published values lagged at any instant in {@code [from, to]}: a reader at instant
   * t sees values at least as new as the last pass completed before t.
   */
  synchronized long maxLagNanos(long from, long to) {
    long worst = 0;
    for (int i = 0; i < passes.size(); i++) {
      long[] p = passes.get(i);
      long until = i + 1 < passes.size() ? passes.get(i + 1)[1] : Long.MAX_VALUE;
      if (p[1] > to || until < from) {
        continue; // this pass's values were not the newest ones anywhere in [from, to]
      }
      worst = Math.max(worst, Math.min(until, to) - p[0]);
    }
    return worst;
  }
}

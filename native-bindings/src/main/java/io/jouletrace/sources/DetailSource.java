package io.jouletrace.sources;

import java.util.Map;

/**
 * A source that also reads counters it does not count (RAPL {@code core}, {@code uncore}, {@code
 * psys}, mirrors): shown for detail, never added to a total.
 */
public interface DetailSource {

  /**
   * Returns the joules of each detail counter since the source was opened, updated by {@link
   * EnergySource#sample(double[])}; call it from the sampling thread.
   *
   * @return counter name to joules
   */
  Map<String, Double> detailJoules();
}

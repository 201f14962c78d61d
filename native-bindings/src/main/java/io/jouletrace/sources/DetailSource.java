package io.jouletrace.sources;

import java.util.Map;

/**
 * A source that also reads counters it does not count (RAPL {@code core}, {@code uncore}, {@code
 * psys}, mirrors): shown for detail, never added to a total.
 */
public interface DetailSource {

  /**
   * How often the sampler reads the detail counters: they are shown, never attributed, so they are
   * not read with the counted ones at each sample (nor at phase boundaries), where each would cost
   * as much as a counted one. The last sample at exit reads them too.
   */
  long DETAIL_PERIOD_NANOS = 1_000_000_000L;

  /**
   * Reads the detail counters and returns the joules of each since the source was opened; {@link
   * EnergySource#sample(double[])} reads only the counted ones. Call it from the sampling thread,
   * at least as often as {@link EnergySource#maxSafeIntervalNanos()} and {@link
   * #DETAIL_PERIOD_NANOS} say.
   *
   * @return counter name to joules
   */
  Map<String, Double> detailJoules();
}

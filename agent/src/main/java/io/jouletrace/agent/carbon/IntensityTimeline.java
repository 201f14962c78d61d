package io.jouletrace.agent.carbon;

import java.util.List;

/**
 * Intensity points in time order, and the span their data covers. Outside it the edge values hold
 * (and the carbon stage says so once).
 *
 * @param points at least one point, sorted by {@link IntensityPoint#fromMillis()}, strictly
 *     increasing
 * @param coverageStart first instant the data speaks for (epoch ms)
 * @param coverageEnd instant the data stops speaking for (epoch ms)
 * @param name what to call the data in a message, e.g. {@code carbon.series=/data/grid.csv}
 */
public record IntensityTimeline(
    List<IntensityPoint> points, long coverageStart, long coverageEnd, String name) {

  public IntensityTimeline {
    points = List.copyOf(points);
    if (points.isEmpty()) {
      throw new IllegalArgumentException("no intensity point");
    }
  }

  /**
   * A single figure for all time.
   *
   * @param gramsPerKwh gCO2e per kWh
   * @param source where it comes from
   * @param factorType {@code lifecycle} or {@code direct}
   * @return the timeline
   */
  public static IntensityTimeline fixed(double gramsPerKwh, String source, String factorType) {
    return new IntensityTimeline(
        List.of(new IntensityPoint(Long.MIN_VALUE, gramsPerKwh, source, factorType, false)),
        Long.MIN_VALUE,
        Long.MAX_VALUE,
        source);
  }
}

package io.jouletrace.agent.carbon;

import java.util.Objects;

/**
 * A grid intensity in force from an instant until the next point of its timeline.
 *
 * @param fromMillis wall-clock start, milliseconds since the epoch ({@link Long#MIN_VALUE}: since
 *     always)
 * @param gramsPerKwh gCO2e per kWh
 * @param source where the figure comes from, fallbacks named
 * @param factorType {@code lifecycle} or {@code direct}
 * @param estimated whether the provider marked it as estimated
 */
public record IntensityPoint(
    long fromMillis, double gramsPerKwh, String source, String factorType, boolean estimated) {

  // equals and hashCode are written out: a record's generated ones are bootstrapped through
  // method handles, which a short job pays for on the exit path (CarbonStage keys segments by
  // point).

  @Override
  public boolean equals(Object o) {
    return o instanceof IntensityPoint p
        && p.fromMillis == fromMillis
        && Double.compare(p.gramsPerKwh, gramsPerKwh) == 0
        && p.estimated == estimated
        && Objects.equals(p.source, source)
        && Objects.equals(p.factorType, factorType);
  }

  @Override
  public int hashCode() {
    return Objects.hash(fromMillis, gramsPerKwh, source, factorType, estimated);
  }
}

package io.jouletrace.agent.carbon;

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
    long fromMillis, double gramsPerKwh, String source, String factorType, boolean estimated) {}

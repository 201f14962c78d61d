package io.jouletrace.agent.carbon;

/**
 * Where grid intensity comes from: a fixed figure, the bundled zone table, a time series file or
 * the Electricity Maps API. Read on the sampler thread: {@link #timeline()} must not block.
 */
public interface IntensityProvider {

  /**
   * Returns what is known now.
   *
   * @return the timeline, or {@code null} while the provider has not answered yet (energy is then
   *     held back and charged once it has)
   */
  IntensityTimeline timeline();

  /** Returns the grid zone the figures are for, or {@code null}. */
  default String zone() {
    return null;
  }

  /** Stops any background work. */
  default void close() {}

  /**
   * A provider that always answers the same timeline.
   *
   * @param t the timeline
   * @param zone the zone, or {@code null}
   * @return the provider
   */
  static IntensityProvider of(IntensityTimeline t, String zone) {
    return new IntensityProvider() {
      @Override
      public IntensityTimeline timeline() {
        return t;
      }

      @Override
      public String zone() {
        return zone;
      }
    };
  }
}

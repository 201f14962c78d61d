package io.jouletrace.sources;

import java.util.List;

/**
 * A reader of cumulative energy for a fixed list of devices.
 *
 * <p>Implementations hide counter widths, wraparound and resets: {@link #sample(double[])} reports
 * joules consumed since the source was opened, never decreasing. A source is used by one sampling
 * thread at a time.
 */
public interface EnergySource extends AutoCloseable {

  /**
   * Returns the short name of this source, e.g. {@code rapl-sysfs}.
   *
   * @return the name
   */
  String name();

  /**
   * Returns the devices this source reads, in the order {@link #sample(double[])} fills.
   *
   * @return an unmodifiable list, fixed for the life of the source
   */
  List<Device> devices();

  /**
   * Reads every device.
   *
   * @param joules receives, per device, the joules consumed since the source was opened; a device
   *     that cannot be read this time keeps the previous value (its energy is then seen at the next
   *     good read), so values never decrease
   */
  void sample(double[] joules);

  /**
   * Returns the typical time one {@link #sample(double[])} takes, in nanoseconds, so that a caller
   * can budget reads between its regular ones. E.g. about 30 µs for a two-socket powercap tree, 3
   * ms per GPU for NVML's energy counter.
   *
   * @return nanoseconds; {@link #UNKNOWN_COST} when the source cannot tell
   */
  default long readCostNanos() {
    return UNKNOWN_COST;
  }

  /** {@link #readCostNanos()} of a source that cannot tell. */
  long UNKNOWN_COST = -1;

  /**
   * Returns how often this source must be sampled so that no counter wraps twice between two
   * samples (a wrap that cannot be seen loses a whole counter range).
   *
   * @return the longest safe time between two samples, in nanoseconds; {@link Long#MAX_VALUE} when
   *     the source has no counter that wraps
   */
  default long maxSafeIntervalNanos() {
    return Long.MAX_VALUE;
  }

  /**
   * Returns how often the device updates the counters this source reads, in nanoseconds: a value
   * read at time t was last updated some time within the period before t, on average half a period
   * earlier, and stands for that instant rather than for t. RAPL updates about every millisecond:
   * the sampler stamps each reading half a period early, so that the energy of the instants just
   * before a phase boundary, which the counter shows only after its next update, is not handed to
   * the phase after it. A counter that updates 10 ms apart or more (NVML's, about every 100 ms) is
   * instead read just after its updates, whose instants the sampler learns from its reads.
   *
   * @return the update period; 0 when the value is current when read, or the period is unknown
   */
  default long updatePeriodNanos() {
    return 0;
  }

  /**
   * Tells whether this source can be read at phase boundaries: its counters update often (about
   * every millisecond, as RAPL's do) and a read is cheap, so that a reading taken just after a
   * boundary separates the phases on either side. NVML's energy counter (about every 100 ms) and
   * estimates do not qualify.
   *
   * @return {@code true} when reads between regular samples tell phases apart
   */
  default boolean readableAtBoundaries() {
    return false;
  }

  /**
   * Returns the parts a sampler reads each on its own schedule: this source, or one source per
   * device where the devices' counters update at their own instants (NVML's GPUs). The parts share
   * this source's handles and close them with the last part; a caller that reads the parts closes
   * the parts, not this source.
   *
   * @return this source alone, or its parts
   */
  default List<? extends EnergySource> parts() {
    return List.of(this);
  }

  /** Releases files and native handles. Never throws. */
  @Override
  void close();
}

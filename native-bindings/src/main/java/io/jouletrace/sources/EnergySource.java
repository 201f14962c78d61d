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

  /** Releases files and native handles. Never throws. */
  @Override
  void close();
}

package io.jouletrace.sources.model;

import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.cpu.CpuTimes;
import io.jouletrace.sources.cpu.CpuTimes.HostTicks;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Estimated host CPU and DRAM energy for machines without readable counters (VMs, containers, RAPL
 * restricted to root). Every device it reports has {@code measured=false} and source {@code model}.
 *
 * <p>Between two samples the host utilisation u is busy ticks / total ticks; the CPU device gains
 * (idle + (max - idle) x u) x elapsed seconds, the DRAM device memory GB x W/GB x elapsed seconds.
 */
public final class ModelSource implements EnergySource {

  private final CpuTimes cpu;
  private final ModelParams params;
  private final double memoryGb;
  private final LongSupplier nanoClock;
  private final List<Device> devices;

  private HostTicks lastTicks;
  private long lastNanos;
  private double cpuJoules;
  private double dramJoules;

  /**
   * Creates the model source.
   *
   * @param cpu host CPU times
   * @param params the power model
   * @param memoryGb installed memory in GB (10^9 bytes)
   * @param nanoClock monotonic clock, normally {@code System::nanoTime}
   */
  public ModelSource(CpuTimes cpu, ModelParams params, double memoryGb, LongSupplier nanoClock) {
    this.cpu = cpu;
    this.params = params;
    this.memoryGb = memoryGb;
    this.nanoClock = nanoClock;
    Map<String, String> detail = Map.of("model", params.origin());
    this.devices =
        List.of(
            new Device("cpu-model", Domain.CPU, "model", false, detail),
            new Device("dram-model", Domain.DRAM, "model", false, detail));
    this.lastTicks = cpu.host();
    this.lastNanos = nanoClock.getAsLong();
  }

  /**
   * Adds the estimate of a window that ended when this source was opened, for which host ticks were
   * not available (OSHI takes a moment to start): CPU at the given utilisation, DRAM as usual.
   *
   * @param seconds length of that window
   * @param utilisation host CPU utilisation assumed over it, in [0, 1]
   */
  public void seed(double seconds, double utilisation) {
    double u = Math.max(0, Math.min(1, utilisation));
    double s = Math.max(0, seconds);
    cpuJoules += (params.cpuIdleWatts() + (params.cpuMaxWatts() - params.cpuIdleWatts()) * u) * s;
    dramJoules += memoryGb * params.dramWattsPerGb() * s;
  }

  @Override
  public String name() {
    return "model";
  }

  @Override
  public List<Device> devices() {
    return devices;
  }

  /** Returns the power model in use. */
  public ModelParams params() {
    return params;
  }

  @Override
  public void sample(double[] joules) {
    HostTicks ticks = cpu.host();
    long now = nanoClock.getAsLong();
    double seconds = Math.max(0, now - lastNanos) * 1e-9;
    long total = ticks.totalMillis() - lastTicks.totalMillis();
    long busy = ticks.busyMillis() - lastTicks.busyMillis();
    double utilisation = total > 0 ? Math.min(1.0, Math.max(0.0, (double) busy / total)) : 0.0;
    cpuJoules +=
        (params.cpuIdleWatts() + (params.cpuMaxWatts() - params.cpuIdleWatts()) * utilisation)
            * seconds;
    dramJoules += memoryGb * params.dramWattsPerGb() * seconds;
    lastTicks = ticks;
    lastNanos = now;
    joules[0] = cpuJoules;
    joules[1] = dramJoules;
  }

  @Override
  public void close() {}
}

package io.jouletrace.agent.timeline;

import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import java.util.List;

/**
 * Receives the ledger's attribution as it is made, window by window: the stages after attribution
 * (carbon) are fed from here, so that they see exactly the joules and seconds the phases got, and
 * when. Called on the sampler thread with the ledger's lock held: implementations must be quick,
 * must not block and must not call back into the ledger.
 */
public interface AttributionListener {

  /**
   * Energy of one domain handed to one phase for a window.
   *
   * @param phase phase id
   * @param domain the devices' domain
   * @param joules energy charged to the job in that phase
   * @param from start of the window ({@link System#nanoTime()})
   * @param to end of the window
   */
  void energy(int phase, Domain domain, double joules, long from, long to);

  /**
   * Wall time of one phase over a tick window.
   *
   * @param phase phase id
   * @param seconds the phase's seconds in the window
   * @param from start of the window ({@link System#nanoTime()})
   * @param to end of the window
   * @param machineShare the job's share of the machine over the window, in [0, 1]
   * @param gpuShares the sum over the GPUs in use of the job's share of each
   */
  void time(int phase, double seconds, long from, long to, double machineShare, double gpuShares);

  /**
   * Wall time of one phase over a tick window, with the job's share of each GPU (for per-model
   * embodied carbon). By default the shares are summed and passed to {@link #time(int, double,
   * long, long, double, double)}.
   *
   * @param phase phase id
   * @param seconds the phase's seconds in the window
   * @param from start of the window ({@link System#nanoTime()})
   * @param to end of the window
   * @param machineShare the job's share of the machine over the window, in [0, 1]
   * @param gpus the GPUs measured
   * @param gpuShares the job's share of each, in the order of {@code gpus}
   */
  default void time(
      int phase,
      double seconds,
      long from,
      long to,
      double machineShare,
      List<Device> gpus,
      double[] gpuShares) {
    double sum = 0;
    for (double s : gpuShares) {
      sum += s;
    }
    time(phase, seconds, from, to, machineShare, sum);
  }

  /**
   * A change of a thread's innermost phase, as the ledger takes it in (stages that need to know
   * which thread was in which phase: the profiler).
   *
   * @param time {@link System#nanoTime()} of the change
   * @param slot the thread's slot in the phase recorder
   * @param phase the thread's innermost phase id from then on
   */
  default void phaseChange(long time, int slot, int phase) {}

  /**
   * Raw energy of one device over a window, before any share is applied (the agent's JFR power
   * events).
   *
   * @param device the device
   * @param joules its energy in the window
   * @param from start of the window ({@link System#nanoTime()})
   * @param to end of the window
   */
  default void device(Device device, double joules, long from, long to) {}

  /** A listener that ignores everything. */
  AttributionListener NONE =
      new AttributionListener() {
        @Override
        public void energy(int phase, Domain domain, double joules, long from, long to) {}

        @Override
        public void time(
            int phase, double seconds, long from, long to, double machineShare, double gpuShares) {}
      };

  /**
   * Returns a listener that hands every call to each of {@code listeners}, in order.
   *
   * @param listeners the stages after attribution (carbon, the profiler, ...)
   * @return one listener
   */
  static AttributionListener all(AttributionListener... listeners) {
    AttributionListener[] ls = listeners.clone();
    return new AttributionListener() {
      @Override
      public void energy(int phase, Domain domain, double joules, long from, long to) {
        for (AttributionListener l : ls) {
          l.energy(phase, domain, joules, from, to);
        }
      }

      @Override
      public void time(
          int phase, double seconds, long from, long to, double machineShare, double gpuShares) {
        for (AttributionListener l : ls) {
          l.time(phase, seconds, from, to, machineShare, gpuShares);
        }
      }

      @Override
      public void time(
          int phase,
          double seconds,
          long from,
          long to,
          double machineShare,
          List<Device> gpus,
          double[] gpuShares) {
        for (AttributionListener l : ls) {
          l.time(phase, seconds, from, to, machineShare, gpus, gpuShares);
        }
      }

      @Override
      public void phaseChange(long time, int slot, int phase) {
        for (AttributionListener l : ls) {
          l.phaseChange(time, slot, phase);
        }
      }

      @Override
      public void device(Device device, double joules, long from, long to) {
        for (AttributionListener l : ls) {
          l.device(device, joules, from, to);
        }
      }
    };
  }
}

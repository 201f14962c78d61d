package io.jouletrace.agent;

import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.ConfigLoader;
import io.jouletrace.agent.phase.PhaseChanges;
import io.jouletrace.agent.phase.PhaseEvents;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.timeline.AttributionListener;
import io.jouletrace.agent.timeline.EnergyLedger;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.LongToDoubleFunction;

/** Fakes for running the {@link Sampler} in virtual time. */
final class SamplerFakes {

  static final long MS = 1_000_000L;

  private SamplerFakes() {}

  /** Configuration from agent arguments alone (no system properties, no environment). */
  static AgentConfig config(String args) {
    AgentConfig config = ConfigLoader.load(args, new Properties(), Map.of());
    if (!config.errors().isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", config.errors()));
    }
    return config;
  }

  static EnergyLedger ledger(PhaseRegistry registry) {
    return new EnergyLedger(registry, 16, AttributionListener.NONE, 0);
  }

  /**
   * A clock whose time moves only when the loop waits: each wait advances it by the time asked for.
   * The loop is stopped once the time passes {@code end}.
   */
  static final class VirtualClock implements Sampler.Clock {
    long now;
    long end = Long.MAX_VALUE;
    Sampler sampler;
    final List<Long> waits = new ArrayList<>();
    long cpuPerWait = 1000; // the sampler thread's CPU time grows a little with each wake-up
    private long cpu;

    /** Phases that wake a parked loop at their next change, when it asked them to. */
    ScriptedPhases waker;

    /** Called with the new time after each wait. */
    java.util.function.LongConsumer onPark = t -> {};

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void park(Object blocker, long nanos) {
      waits.add(nanos);
      long woken = waker == null ? Long.MAX_VALUE : waker.wakeAfter(now);
      now = woken <= now + nanos ? woken : now + nanos;
      onPark.accept(now);
      cpu += cpuPerWait;
      if (now > end) {
        sampler.stop(Thread.currentThread());
      }
    }

    @Override
    public long threadCpuNanos() {
      return cpu;
    }
  }

  /** A counter of one device whose cumulative joules are a function of the virtual time. */
  static class Counter implements EnergySource {
    final Sampler.Clock clock;
    final LongToDoubleFunction joulesAt;
    final boolean boundaries;
    final long safeNanos;
    final Domain domain;
    final List<Long> reads = new ArrayList<>();
    volatile boolean closed;

    Counter(
        Sampler.Clock clock,
        Domain domain,
        boolean boundaries,
        long safeNanos,
        LongToDoubleFunction joulesAt) {
      this.clock = clock;
      this.domain = domain;
      this.boundaries = boundaries;
      this.safeNanos = safeNanos;
      this.joulesAt = joulesAt;
    }

    @Override
    public String name() {
      return "fake-" + domain.label();
    }

    @Override
    public List<Device> devices() {
      return List.of(
          new Device(
              domain == Domain.GPU ? "gpu-0" : "package-0",
              domain,
              "fake",
              true,
              domain == Domain.GPU ? Map.of("gpu", "0") : Map.of()));
    }

    @Override
    public void sample(double[] joules) {
      long t = clock.nanoTime();
      reads.add(t);
      joules[0] = joulesAt.applyAsDouble(t);
    }

    @Override
    public long readCostNanos() {
      return boundaries ? 5_000 : 3_000_000;
    }

    @Override
    public long maxSafeIntervalNanos() {
      return safeNanos;
    }

    @Override
    public boolean readableAtBoundaries() {
      return boundaries;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** Phase changes at scripted times, published when the virtual clock reaches them. */
  static final class ScriptedPhases implements PhaseChanges {
    final Sampler.Clock clock;
    final List<long[]> events = new ArrayList<>(); // time, slot, phase
    int next;

    /** Whether a change wakes the loop ({@link #wakeOnChange}); by default it cannot. */
    boolean wakeable;

    private boolean waiting;

    ScriptedPhases(Sampler.Clock clock) {
      this.clock = clock;
    }

    @Override
    public boolean wakeOnChange(Thread waiter) {
      waiting = wakeable;
      return wakeable;
    }

    /**
     * The time of the first change after {@code now} when a waiter asked to be woken (it is then
     * woken once); otherwise {@link Long#MAX_VALUE}.
     */
    long wakeAfter(long now) {
      long fill = Long.MAX_VALUE;
      if (fillWaiter) {
        for (long r : fillRequests) {
          if (r > now) {
            fill = Math.min(fill, r);
          }
        }
      }
      if (!waiting) {
        return fill;
      }
      for (int i = next; i < events.size(); i++) {
        if (events.get(i)[0] > now) {
          if (events.get(i)[0] < fill) {
            waiting = false;
            return events.get(i)[0];
          }
          break;
        }
      }
      return fill;
    }

    /** When a publisher asks for a drain before the next tick ({@link #drainWanted}). */
    final List<Long> fillRequests = new ArrayList<>();

    /** When the loop drained. */
    final List<Long> drains = new ArrayList<>();

    private boolean fillWaiter;

    ScriptedPhases fillingAt(long time) {
      fillRequests.add(time);
      return this;
    }

    @Override
    public void wakeWhenFilling(Thread waiter) {
      fillWaiter = true;
    }

    @Override
    public boolean drainWanted() {
      long now = clock.nanoTime();
      long last = drains.isEmpty() ? Long.MIN_VALUE : drains.get(drains.size() - 1);
      return fillRequests.stream().anyMatch(r -> r <= now && r > last);
    }

    /** What {@link #threadsAtOnceHighWater()} tells. */
    long highWater;

    @Override
    public long threadsAtOnceHighWater() {
      return highWater;
    }

    ScriptedPhases at(long time, int slot, int phase) {
      events.add(new long[] {time, slot, phase});
      return this;
    }

    @Override
    public boolean pending() {
      return next < events.size() && events.get(next)[0] <= clock.nanoTime();
    }

    /** Slots that had changes, counted once per drain ({@link #sourcesTaken()}). */
    long taken;

    @Override
    public long sourcesTaken() {
      return taken;
    }

    @Override
    public void drain(PhaseEvents sink, long now) {
      drains.add(now);
      Set<Integer> slots = new HashSet<>();
      while (next < events.size() && events.get(next)[0] <= now) {
        long[] e = events.get(next++);
        sink.accept(e[0], (int) e[1], (int) e[2]);
        slots.add((int) e[1]);
      }
      taken += slots.size();
    }
  }
}

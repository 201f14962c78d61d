package io.jouletrace.agent.profile;

import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.timeline.AttributionListener;
import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Emits the agent's own JFR events ({@code jfr=true}) into whatever recordings are running, so that
 * JDK Mission Control shows energy beside CPU and allocation: one {@link PhaseEvent} per phase and
 * one {@link PowerEvent} per device for each sampling tick, each spanning that tick. With no
 * recording running, or these events disabled in it, it does nothing beyond a check per tick.
 *
 * <p>Fed by the ledger on the sampler thread. A phase event is committed one tick late, once all of
 * its seconds are known.
 */
public final class JfrEmitter implements AttributionListener {

  private final PhaseRegistry registry;
  private final CarbonFactors factors;
  private final int maxPhases;
  private final double[][] joules;
  private PhaseEvent[] open;
  private PhaseEvent[] ended;
  private final boolean[] seen;
  private final Map<String, Power> power = new LinkedHashMap<>();
  private long tick = Long.MIN_VALUE;
  private long previousTick = Long.MIN_VALUE;
  private boolean enabled;

  /**
   * Creates an emitter.
   *
   * @param registry phase names
   * @param maxPhases capacity of {@code registry}
   * @param factors carbon factors for the grams
   */
  public JfrEmitter(PhaseRegistry registry, int maxPhases, CarbonFactors factors) {
    this.registry = registry;
    this.factors = factors;
    this.maxPhases = Math.max(2, maxPhases);
    this.joules = new double[Domain.values().length][this.maxPhases];
    this.open = new PhaseEvent[this.maxPhases];
    this.ended = new PhaseEvent[this.maxPhases];
    this.seen = new boolean[this.maxPhases];
  }

  @Override
  public synchronized void energy(int phase, Domain domain, double j, long from, long to) {
    if (phase >= 0 && phase < maxPhases) {
      joules[domain.ordinal()][phase] += j;
      seen[phase] = true;
    }
  }

  @Override
  public synchronized void device(Device device, double j, long from, long to) {
    power.computeIfAbsent(device.id(), k -> new Power(device)).joules += j;
  }

  @Override
  public synchronized void time(
      int phase, double seconds, long from, long to, double machineShare, double gpuShares) {
    if (phase < 0 || phase >= maxPhases) {
      return;
    }
    if (to != tick) {
      newTick(to);
    }
    seen[phase] = true;
    PhaseEvent e = ended[phase];
    if (e == null && enabled) {
      e = new PhaseEvent();
      e.begin();
      e.end();
      e.phase = registry.name(phase);
      ended[phase] = e;
    }
    if (e != null) {
      e.phaseTime += (long) (seconds * 1e9);
      e.grams += seconds * factors.embodiedGramsPerSecond(machineShare, gpuShares);
    }
  }

  /** The first call of a new tick: ends this tick's events, commits the last tick's. */
  private void newTick(long to) {
    flush();
    enabled = new PhaseEvent().isEnabled() || new PowerEvent().isEnabled();
    long seconds = previousTick == Long.MIN_VALUE ? 0 : to - tick;
    for (Power p : power.values()) {
      if (p.event != null && seconds > 0) {
        p.event.end();
        p.event.device = p.device.id();
        p.event.domain = p.device.domain().label();
        p.event.source = p.device.source();
        p.event.joules = p.joules;
        p.event.watts = p.joules / (seconds * 1e-9);
        p.event.commit();
      }
      p.joules = 0;
      p.event = null;
      if (enabled) {
        p.event = new PowerEvent();
        p.event.begin();
      }
    }
    for (int p = 0; p < maxPhases; p++) {
      PhaseEvent e = open[p];
      if (e != null) {
        e.end();
        e.phase = registry.name(p);
        ended[p] = e;
      } else if (enabled
          && (joules[Domain.CPU.ordinal()][p] > 0
              || joules[Domain.DRAM.ordinal()][p] > 0
              || joules[Domain.GPU.ordinal()][p] > 0)) {
        PhaseEvent x = new PhaseEvent(); // first seen in this tick: no event was open for it
        x.begin();
        x.end();
        x.phase = registry.name(p);
        ended[p] = x;
      }
      if (ended[p] != null) {
        PhaseEvent x = ended[p];
        x.cpuJoules = joules[Domain.CPU.ordinal()][p];
        x.dramJoules = joules[Domain.DRAM.ordinal()][p];
        x.gpuJoules = joules[Domain.GPU.ordinal()][p];
        x.joules = x.cpuJoules + x.dramJoules + x.gpuJoules;
        x.grams += x.joules * factors.gramsPerJoule();
      }
      for (double[] d : joules) {
        d[p] = 0;
      }
      open[p] = null;
      if (enabled && seen[p]) {
        open[p] = new PhaseEvent();
        open[p].begin();
      }
    }
    previousTick = tick;
    tick = to;
  }

  /** Commits the phase events of the tick that ended last. */
  private void flush() {
    for (int p = 0; p < maxPhases; p++) {
      PhaseEvent e = ended[p];
      if (e != null) {
        if (e.joules > 0 || e.phaseTime > 0) {
          e.commit();
        }
        ended[p] = null;
      }
    }
  }

  /** Commits what the last tick left pending (at exit). */
  public synchronized void close() {
    flush();
  }

  private static final class Power {
    final Device device;
    double joules;
    PowerEvent event;

    Power(Device device) {
      this.device = device;
    }
  }
}

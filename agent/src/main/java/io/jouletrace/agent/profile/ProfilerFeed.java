package io.jouletrace.agent.profile;

import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.timeline.AttributionListener;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import java.util.Arrays;

/**
 * The ledger's listener for the profiler and the JFR events, wired in before either exists: both
 * start off the application's start-up path, and until the profiler is attached this keeps the
 * energy per phase and domain and the phase changes, which it then hands over, so that the profile
 * still adds up to the job's energy. The JFR emitter gets the windows from its attachment on.
 */
public final class ProfilerFeed implements AttributionListener {

  /** Phase changes kept before the profiler is attached; later ones are not kept. */
  static final int MAX_EARLY_CHANGES = 1 << 16;

  private final PhaseRecorder recorder;
  private final double[][] early;
  private long earlyFrom = Long.MAX_VALUE;
  private long earlyTo = Long.MIN_VALUE;
  private long[] changes = new long[3 * 64];
  private int changeCount;
  private volatile EnergyProfiler profiler;
  private volatile JfrEmitter emitter;
  private boolean detached;

  /**
   * Creates a feed.
   *
   * @param recorder the phase recorder, whose slots name threads
   * @param maxPhases capacity of the phase registry
   */
  public ProfilerFeed(PhaseRecorder recorder, int maxPhases) {
    this.recorder = recorder;
    this.early = new double[Domain.values().length][Math.max(2, maxPhases)];
  }

  @Override
  public void energy(int phase, Domain domain, double joules, long from, long to) {
    JfrEmitter e = emitter;
    if (e != null) {
      e.energy(phase, domain, joules, from, to);
    }
    EnergyProfiler p = profiler;
    if (p != null) {
      p.energy(phase, domain, joules, from, to);
      return;
    }
    synchronized (this) {
      if (profiler != null) {
        profiler.energy(phase, domain, joules, from, to);
      } else if (!detached && phase >= 0 && phase < early[0].length) {
        early[domain.ordinal()][phase] += joules;
        earlyFrom = Math.min(earlyFrom, from);
        earlyTo = Math.max(earlyTo, to);
      }
    }
  }

  @Override
  public void time(
      int phase, double seconds, long from, long to, double machineShare, double gpuShares) {
    JfrEmitter e = emitter;
    if (e != null) {
      e.time(phase, seconds, from, to, machineShare, gpuShares);
    }
  }

  @Override
  public void device(Device device, double joules, long from, long to) {
    JfrEmitter e = emitter;
    if (e != null) {
      e.device(device, joules, from, to);
    }
  }

  @Override
  public void phaseChange(long time, int slot, int phase) {
    long thread = recorder.threadId(slot);
    EnergyProfiler p = profiler;
    if (p != null) {
      p.threadPhase(time, thread, phase);
      return;
    }
    synchronized (this) {
      if (profiler != null) {
        profiler.threadPhase(time, thread, phase);
      } else if (!detached && changeCount < MAX_EARLY_CHANGES) {
        if (3 * changeCount + 3 > changes.length) {
          changes = Arrays.copyOf(changes, changes.length * 2);
        }
        changes[3 * changeCount] = time;
        changes[3 * changeCount + 1] = thread;
        changes[3 * changeCount + 2] = phase;
        changeCount++;
      }
    }
  }

  /**
   * Hands what was kept to the profiler, then feeds it directly.
   *
   * @param p the profiler
   */
  public synchronized void attach(EnergyProfiler p) {
    for (int i = 0; i < changeCount; i++) {
      p.threadPhase(changes[3 * i], changes[3 * i + 1], (int) changes[3 * i + 2]);
    }
    for (Domain d : Domain.values()) {
      double[] byPhase = early[d.ordinal()];
      for (int ph = 0; ph < byPhase.length; ph++) {
        if (byPhase[ph] > 0) {
          p.energy(ph, d, byPhase[ph], earlyFrom, earlyTo);
        }
      }
    }
    changes = new long[0];
    changeCount = 0;
    profiler = p;
  }

  /** Keeps nothing more for a profiler (it could not start). */
  public synchronized void detach() {
    detached = true;
    changes = new long[0];
    changeCount = 0;
  }

  /**
   * Feeds the JFR emitter from now on.
   *
   * @param e the emitter
   */
  public void emitter(JfrEmitter e) {
    emitter = e;
  }
}

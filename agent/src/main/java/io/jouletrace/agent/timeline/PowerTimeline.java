package io.jouletrace.agent.timeline;

import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.PhaseBand;
import io.jouletrace.exporter.EnergySnapshot.PowerPoint;
import io.jouletrace.exporter.EnergySnapshot.PowerSeries;
import io.jouletrace.sources.Device;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A bounded record of each device's power over time and of the phase that held each stretch of
 * time, for the HTML report. Memory does not grow with the run: each device keeps at most {@code
 * maxPoints} points and the phases at most {@code maxBands} bands. When a device's points are full,
 * neighbouring pairs are merged into one (their joules added, so no energy is lost) and the
 * shortest point that may be added doubles; bands are merged the same way, each merged band taking
 * the phase of the longer of the two.
 *
 * <p>Fed by {@link EnergyLedger} at every tick, under the ledger's lock; {@link #freeze} may be
 * called from another thread.
 */
public final class PowerTimeline {

  /** Points kept per device by default: a one-hour run keeps between this and half as many. */
  public static final int DEFAULT_POINTS = 600;

  /** Phase bands kept by default. */
  public static final int DEFAULT_BANDS = 600;

  private final int maxPoints;
  private final int maxBands;
  private final long startNanos;
  private long lastTime;

  private int known;
  private String[] ids = new String[0];
  private String[] domains = new String[0];
  private boolean[] measured = new boolean[0];
  private long[][] starts = new long[0][];
  private long[][] ends = new long[0][];
  private double[][] joules = new double[0][];
  private int[] counts = new int[0];
  private long[] widths = new long[0];
  private long[] openStart = new long[0];
  private double[] openRef = new double[0];
  private double[] lastCumulative = new double[0];

  private final int[] bandPhase;
  private final long[] bandStart;
  private final long[] bandEnd;
  private int bands;

  /**
   * Creates an empty timeline.
   *
   * @param startNanos {@link System#nanoTime()} at which measurement starts (time zero)
   * @param maxPoints points kept per device, at least 2 and even
   * @param maxBands phase bands kept, at least 2 and even
   */
  public PowerTimeline(long startNanos, int maxPoints, int maxBands) {
    this.startNanos = startNanos;
    this.lastTime = startNanos;
    this.maxPoints = Math.max(2, maxPoints & ~1);
    this.maxBands = Math.max(2, maxBands & ~1);
    this.bandPhase = new int[this.maxBands];
    this.bandStart = new long[this.maxBands];
    this.bandEnd = new long[this.maxBands];
  }

  /**
   * Records one tick.
   *
   * @param time the tick's {@link System#nanoTime()}
   * @param devices every device so far, in the order of {@code cumulative}
   * @param cumulative joules per device since it was opened
   * @param phaseSeconds per phase id, seconds of wall time in the window since the previous tick
   */
  public synchronized void record(
      long time, List<Device> devices, double[] cumulative, WindowSeconds phaseSeconds) {
    if (time <= lastTime) {
      return;
    }
    int n = Math.min(devices.size(), cumulative.length);
    if (n > known) {
      grow(devices, n);
    }
    for (int d = 0; d < n; d++) {
      lastCumulative[d] = cumulative[d];
      if (time - openStart[d] >= widths[d]) {
        if (counts[d] == maxPoints) {
          mergePoints(d);
        }
        int i = counts[d]++;
        starts[d][i] = openStart[d];
        ends[d][i] = time;
        joules[d][i] = Math.max(0, cumulative[d] - openRef[d]);
        openStart[d] = time;
        openRef[d] = cumulative[d];
      }
    }
    band(time, phaseSeconds);
    lastTime = time;
  }

  private void grow(List<Device> devices, int n) {
    ids = Arrays.copyOf(ids, n);
    domains = Arrays.copyOf(domains, n);
    measured = Arrays.copyOf(measured, n);
    starts = Arrays.copyOf(starts, n);
    ends = Arrays.copyOf(ends, n);
    joules = Arrays.copyOf(joules, n);
    counts = Arrays.copyOf(counts, n);
    widths = Arrays.copyOf(widths, n);
    openStart = Arrays.copyOf(openStart, n);
    openRef = Arrays.copyOf(openRef, n);
    lastCumulative = Arrays.copyOf(lastCumulative, n);
    for (int d = known; d < n; d++) {
      Device dev = devices.get(d);
      ids[d] = dev.id();
      domains[d] = dev.domain().label();
      measured[d] = dev.measured();
      starts[d] = new long[maxPoints];
      ends[d] = new long[maxPoints];
      joules[d] = new double[maxPoints];
      // Its first point starts at time zero: a source may count from the agent's start although
      // it joined the ledger later (the estimation model does), and its first joules spread
      // over that span rather than show as one spike in the tick it joined.
      openStart[d] = startNanos;
    }
    known = n;
  }

  private void mergePoints(int d) {
    long[] s = starts[d];
    long[] e = ends[d];
    double[] j = joules[d];
    int half = counts[d] / 2;
    for (int i = 0; i < half; i++) {
      s[i] = s[2 * i];
      e[i] = e[2 * i + 1];
      j[i] = j[2 * i] + j[2 * i + 1];
    }
    counts[d] = half;
    widths[d] = Math.max(2 * widths[d], e[0] - s[0]);
  }

  private void band(long time, WindowSeconds phaseSeconds) {
    int dominant = -1;
    double most = 0;
    for (int i = 0, n = phaseSeconds.count(); i < n; i++) {
      int p = phaseSeconds.phase(i);
      if (phaseSeconds.of(p) > most) {
        most = phaseSeconds.of(p);
        dominant = p;
      }
    }
    if (dominant < 0) {
      return;
    }
    if (bands > 0 && bandPhase[bands - 1] == dominant && bandEnd[bands - 1] == lastTime) {
      bandEnd[bands - 1] = time;
      return;
    }
    if (bands == maxBands) {
      mergeBands();
    }
    bandPhase[bands] = dominant;
    bandStart[bands] = lastTime;
    bandEnd[bands] = time;
    bands++;
  }

  private void mergeBands() {
    int out = 0;
    for (int i = 0; i + 1 < bands; i += 2) {
      long a = bandEnd[i] - bandStart[i];
      long b = bandEnd[i + 1] - bandStart[i + 1];
      int phase = a >= b ? bandPhase[i] : bandPhase[i + 1];
      long start = bandStart[i];
      long end = bandEnd[i + 1];
      if (out > 0 && bandPhase[out - 1] == phase && bandEnd[out - 1] == start) {
        bandEnd[out - 1] = end;
      } else {
        bandPhase[out] = phase;
        bandStart[out] = start;
        bandEnd[out] = end;
        out++;
      }
    }
    bands = out;
  }

  /**
   * Copies the timeline out.
   *
   * @param phaseNames phase id to name
   * @return the timeline; the open stretch of each device up to its latest tick is included
   */
  public synchronized EnergySnapshot.Timeline freeze(IntFunction<String> phaseNames) {
    List<PowerSeries> series = new ArrayList<>(known);
    for (int d = 0; d < known; d++) {
      List<PowerPoint> pts = new ArrayList<>(counts[d] + 1);
      for (int i = 0; i < counts[d]; i++) {
        pts.add(point(starts[d][i], ends[d][i], joules[d][i]));
      }
      if (lastTime > openStart[d]) {
        pts.add(point(openStart[d], lastTime, Math.max(0, lastCumulative[d] - openRef[d])));
      }
      series.add(new PowerSeries(ids[d], domains[d], measured[d], pts));
    }
    List<PhaseBand> out = new ArrayList<>(bands);
    for (int i = 0; i < bands; i++) {
      out.add(
          new PhaseBand(
              phaseNames.apply(bandPhase[i]), seconds(bandStart[i]), seconds(bandEnd[i])));
    }
    return new EnergySnapshot.Timeline(series, out);
  }

  private PowerPoint point(long start, long end, double j) {
    double len = (end - start) * 1e-9;
    return new PowerPoint(seconds(start), seconds(end), len > 0 ? j / len : 0);
  }

  private double seconds(long t) {
    return (t - startNanos) * 1e-9;
  }
}

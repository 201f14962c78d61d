package io.jouletrace.agent.carbon;

import io.jouletrace.agent.Log;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.Key;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.agent.timeline.AttributionListener;
import io.jouletrace.agent.timeline.HeldWindows;
import io.jouletrace.exporter.CarbonDetail;
import io.jouletrace.exporter.CarbonDetail.GpuEmbodied;
import io.jouletrace.exporter.CarbonDetail.Hardware;
import io.jouletrace.exporter.CarbonDetail.IntensitySegment;
import io.jouletrace.exporter.CarbonDetail.PhaseExtra;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The carbon stage, after attribution: turns the joules and seconds the ledger hands each phase
 * into grams CO2e, window by window.
 *
 * <ul>
 *   <li>Operational, location-based: kWh x PUE x grid intensity. A window's energy is charged at
 *       the intensity in force during it, split where the intensity changes (energy is taken as
 *       spread evenly over the window). The ledger's {@link System#nanoTime()} windows are mapped
 *       to wall-clock time with one offset taken at start.
 *   <li>Operational, market-based (when configured): the same kWh x PUE at the market factor (or
 *       the location-based intensity), times one minus the renewable share. Reported beside the
 *       location-based figure, never added to it.
 *   <li>Embodied: SCI's {@code M = TE x (TiR / EL) x (RR / ToR)}, per second of each phase: the
 *       server's TE weighted by the job's CPU share, each GPU's TE (its model's figure) by the
 *       job's share of that GPU, over the lifetime times its utilisation.
 * </ul>
 *
 * <p>Fed on the sampler thread through {@link AttributionListener}; read by scrapes and at exit.
 * Until an intensity provider has answered (it opens on the {@code jouletrace-init} thread, the
 * API's first answer may take a moment), energy is held back and charged when it does: no joule is
 * lost and none is charged at a figure that was not in force.
 */
public final class CarbonStage implements AttributionListener {

  private static final double JOULES_PER_KWH = 3.6e6;
  private static final double SECONDS_PER_YEAR = 365 * 86400.0;
  private static final int PENDING_MAX = 1 << 18;

  /**
   * What the stage needs besides intensity.
   *
   * @param pue power usage effectiveness
   * @param marketIntensity market-based factor gCO2e/kWh, NaN when not set
   * @param renewableShare renewable share 0-1, NaN when not set
   * @param serverKg the server's TE, kg
   * @param serverSource its source
   * @param gpuKgOverride a TE for every GPU, NaN to look each model up in {@code table}
   * @param table the embodied table
   * @param lifetimeYears EL
   * @param utilization share of EL the hardware is busy
   * @param warmupSeconds start of the run left out of the per-unit figures
   * @param trainingType Hugging Face training type
   */
  public record Settings(
      double pue,
      double marketIntensity,
      double renewableShare,
      double serverKg,
      String serverSource,
      double gpuKgOverride,
      EmbodiedTable table,
      double lifetimeYears,
      double utilization,
      double warmupSeconds,
      String trainingType) {

    /** Returns {@code true} when a market-based figure is reported. */
    boolean market() {
      return !Double.isNaN(marketIntensity) || !Double.isNaN(renewableShare);
    }

    /**
     * The settings of a configuration.
     *
     * @param c the configuration
     * @param table the embodied table, or {@code null} for the configuration's values alone
     * @return the settings
     */
    public static Settings of(AgentConfig c, EmbodiedTable table) {
      EmbodiedTable.Row server = table == null ? null : table.find("server", null);
      boolean kgSet = c.isSet(Key.EMBODIED_KG) || server == null;
      EmbodiedTable.Row life = table == null ? null : table.find("lifetime", null);
      boolean lifeSet = c.isSet(Key.EMBODIED_LIFETIME) || life == null;
      java.time.Duration warm = c.get(Key.EFFICIENCY_WARMUP);
      return new Settings(
          c.pue(),
          c.<Double>get(Key.CARBON_MARKET_INTENSITY),
          c.<Double>get(Key.CARBON_MARKET_RENEWABLE_SHARE),
          kgSet ? c.embodiedKg() : server.value(),
          kgSet ? "embodied.kg" : server.source(),
          c.isSet(Key.EMBODIED_GPU_KG) ? c.embodiedGpuKg() : Double.NaN,
          table,
          lifeSet ? c.embodiedLifetime().toSeconds() / SECONDS_PER_YEAR : life.value(),
          c.embodiedUtilization(),
          warm.toNanos() * 1e-9,
          c.get(Key.CARBON_TRAINING_TYPE));
    }
  }

  private Settings settings;
  private final PhaseRegistry registry;
  private final int maxPhases;
  private final long startNanos;
  private final long startEpochMillis;
  private final double warmupEndMillis;
  private final Consumer<String> warn;
  private volatile IntensityProvider provider;
  private WorkUnits units;
  private Hardware hardware;

  private final double[] operational;
  private final double[] market;
  private final double[] embodied;
  private final double[] steadyJoules;
  private final double[] steadyGrams;
  private final double[] steadySeconds;
  private final Map<Object, double[]> segments = new LinkedHashMap<>();
  private final Map<String, GpuUse> gpus = new LinkedHashMap<>();
  private double secondsSeen;
  private boolean edgeReported;

  private final HeldWindows pending = new HeldWindows(PENDING_MAX);

  /**
   * A segment of the intensity timeline that energy fell into. Its {@code equals} and {@code
   * hashCode} are written out: a record's generated ones are bootstrapped through method handles,
   * which costs a short job about 0.1 s of interpreted code on the exit path.
   */
  private record SegmentKey(IntensityPoint point, boolean edge) {
    @Override
    public boolean equals(Object o) {
      return o instanceof SegmentKey k && k.edge == edge && k.point.equals(point);
    }

    @Override
    public int hashCode() {
      return 31 * point.hashCode() + Boolean.hashCode(edge);
    }
  }

  private static final class GpuUse {
    final String model;
    final double kg;
    final String source;
    double shareSeconds;

    GpuUse(String model, double kg, String source) {
      this.model = model;
      this.kg = kg;
      this.source = source;
    }
  }

  /**
   * Creates the stage.
   *
   * @param settings PUE, market basis, embodied terms, warm-up
   * @param registry phase names
   * @param maxPhases capacity of {@code registry}
   * @param startNanos {@link System#nanoTime()} at start
   * @param startEpochMillis the wall clock at the same instant
   * @param warn one-line warnings
   */
  public CarbonStage(
      Settings settings,
      PhaseRegistry registry,
      int maxPhases,
      long startNanos,
      long startEpochMillis,
      Consumer<String> warn) {
    this.settings = settings;
    this.registry = registry;
    this.maxPhases = Math.max(2, maxPhases);
    this.startNanos = startNanos;
    this.startEpochMillis = startEpochMillis;
    this.warmupEndMillis = startEpochMillis + settings.warmupSeconds() * 1e3;
    this.warn = warn;
    this.operational = new double[this.maxPhases];
    this.market = new double[this.maxPhases];
    this.embodied = new double[this.maxPhases];
    this.steadyJoules = new double[this.maxPhases];
    this.steadyGrams = new double[this.maxPhases];
    this.steadySeconds = new double[this.maxPhases];
  }

  /**
   * A stage with one fixed intensity and the factors' embodied terms (no market basis, no warm-up).
   *
   * @param factors the factors used for every window
   * @param registry phase names
   * @param maxPhases capacity of {@code registry}
   */
  public CarbonStage(CarbonFactors factors, PhaseRegistry registry, int maxPhases) {
    this(
        new Settings(
            factors.pue(),
            Double.NaN,
            Double.NaN,
            factors.embodiedKg(),
            "embodied.kg",
            factors.embodiedGpuKg(),
            null,
            factors.lifetimeYears(),
            factors.utilization(),
            0,
            "pre-training"),
        registry,
        maxPhases,
        0,
        0,
        Log.nowhere());
    this.provider =
        IntensityProvider.of(
            IntensityTimeline.fixed(
                factors.intensityGramsPerKwh(), factors.intensitySource(), "lifecycle"),
            null);
  }

  /**
   * The factors of a configuration with its static intensity, for callers that need one record.
   *
   * @param config the configuration
   * @return the factors
   */
  public static CarbonFactors factors(AgentConfig config) {
    return new CarbonFactors(
        config.carbonIntensity(),
        Intensities.staticDefault(config).name(),
        config.pue(),
        config.embodiedKg(),
        config.embodiedGpuKg(),
        config.embodiedLifetime().toSeconds() / SECONDS_PER_YEAR,
        config.embodiedUtilization());
  }

  /**
   * Replaces the settings: the agent starts with the configuration's values and reads the bundled
   * embodied table off {@code premain}. The PUE, market basis and warm-up do not change.
   *
   * @param s the settings with the table
   */
  public synchronized void settings(Settings s) {
    this.settings = s;
  }

  /**
   * Sets where intensity comes from; energy held back until now is charged.
   *
   * @param p the provider
   */
  public void provider(IntensityProvider p) {
    this.provider = p;
  }

  /** Returns the provider, or {@code null} before one was set. */
  public IntensityProvider provider() {
    return provider;
  }

  /**
   * Sets the work-unit counters read by {@link #apply}.
   *
   * @param u the counters
   */
  public synchronized void units(WorkUnits u) {
    this.units = u;
  }

  /**
   * Sets the hardware named in the statement.
   *
   * @param h CPU model and sockets
   */
  public synchronized void hardware(Hardware h) {
    this.hardware = h;
  }

  /** Returns {@code true} once the hardware is known. */
  public synchronized boolean hasHardware() {
    return hardware != null;
  }

  private double epochMillis(long nanos) {
    return startEpochMillis + (nanos - startNanos) / 1e6;
  }

  @Override
  public synchronized void energy(int phase, Domain domain, double joules, long from, long to) {
    if (joules == 0 || phase < 0 || phase >= maxPhases) {
      return;
    }
    IntensityProvider p = provider;
    IntensityTimeline t = p == null ? null : p.timeline();
    if (t == null) {
      hold(phase, joules, from, to);
      return;
    }
    flush(t);
    charge(t, phase, joules, epochMillis(from), epochMillis(to));
  }

  private void hold(int phase, double joules, long from, long to) {
    if (pending.full()) {
      warn.accept(
          "jouletrace: no grid intensity yet after "
              + PENDING_MAX
              + " windows; energy so far is charged at the static default");
      flush(IntensityTimeline.fixed(475, "default 475 g/kWh (no intensity yet)", "lifecycle"));
    }
    pending.add(phase, joules, from, to);
  }

  private void flush(IntensityTimeline t) {
    for (int i = 0; i < pending.size(); i++) {
      charge(
          t,
          pending.phase(i),
          pending.joules(i),
          epochMillis(pending.from(i)),
          epochMillis(pending.to(i)));
    }
    pending.clear();
  }

  /**
   * Charges energy still held back (no provider answered) at {@code fallback}; called at exit.
   *
   * @param fallback the timeline to use when the provider has none
   */
  public synchronized void finish(IntensityTimeline fallback) {
    IntensityProvider p = provider;
    IntensityTimeline t = p == null ? null : p.timeline();
    flush(t != null ? t : fallback);
    if (t == null) {
      provider = IntensityProvider.of(fallback, p == null ? null : p.zone());
    }
  }

  /** Splits {@code [a, b]} (epoch ms) at every change of intensity and charges each piece. */
  private void charge(IntensityTimeline t, int phase, double joules, double a, double b) {
    List<IntensityPoint> pts = t.points();
    int n = pts.size();
    int i = 0;
    while (i + 1 < n && pts.get(i + 1).fromMillis() <= a) {
      i++;
    }
    double lo = t.coverageStart();
    double hi = t.coverageEnd();
    double span = b - a;
    if (span <= 0) {
      piece(t, pts.get(i), a < lo || a > hi, phase, joules, a, a, 0);
      return;
    }
    double pos = a;
    while (pos < b && i < n) {
      IntensityPoint p = pts.get(i);
      double end = i + 1 < n ? Math.min(b, pts.get(i + 1).fromMillis()) : b;
      // Outside the data's span its edge value holds: a piece of its own, labelled.
      double[] cuts = {
        pos, Math.max(pos, Math.min(end, lo)), Math.max(pos, Math.min(end, hi)), end
      };
      for (int k = 0; k < 3; k++) {
        double x = Math.max(cuts[k], k == 0 ? pos : cuts[k]);
        double y = Math.max(x, cuts[k + 1]);
        if (y > x) {
          piece(t, p, k != 1, phase, joules, x, y, span);
        }
      }
      pos = end;
      i++;
    }
  }

  private void piece(
      IntensityTimeline t,
      IntensityPoint p,
      boolean edge,
      int phase,
      double joules,
      double from,
      double to,
      double span) {
    double j = span > 0 ? joules * (to - from) / span : joules;
    double kwh = j * settings.pue() / JOULES_PER_KWH;
    double g = kwh * p.gramsPerKwh();
    operational[phase] += g;
    if (settings.market()) {
      double factor =
          Double.isNaN(settings.marketIntensity()) ? p.gramsPerKwh() : settings.marketIntensity();
      double share = Double.isNaN(settings.renewableShare()) ? 0 : settings.renewableShare();
      market[phase] += kwh * factor * (1 - share);
    }
    double steady = steadyFraction(from, to);
    steadyJoules[phase] += j * steady;
    steadyGrams[phase] += g * steady;
    SegmentKey key = new SegmentKey(p, edge);
    double[] seg = segments.get(key);
    if (seg == null) {
      seg = new double[] {from, to, 0};
      segments.put(key, seg);
    }
    seg[0] = Math.min(seg[0], from);
    seg[1] = Math.max(seg[1], to);
    seg[2] += j;
    if (edge && !edgeReported) {
      edgeReported = true;
      warn.accept(
          "jouletrace: "
              + t.name()
              + " covers "
              + Instant.ofEpochMilli(t.coverageStart())
              + " to "
              + Instant.ofEpochMilli(t.coverageEnd())
              + ", not the whole run: its edge value is held beyond it");
    }
  }

  private double steadyFraction(double from, double to) {
    if (to <= warmupEndMillis) {
      return to == from && from >= warmupEndMillis ? 1 : 0;
    }
    if (from >= warmupEndMillis) {
      return 1;
    }
    return (to - warmupEndMillis) / (to - from);
  }

  @Override
  public synchronized void time(
      int phase, double seconds, long from, long to, double machineShare, double gpuShares) {
    double kg = settings.serverKg() * machineShare + defaultGpuKg() * gpuShares;
    embodied(phase, seconds, from, to, kg);
  }

  @Override
  public synchronized void time(
      int phase,
      double seconds,
      long from,
      long to,
      double machineShare,
      List<Device> devices,
      double[] shares) {
    double kg = settings.serverKg() * machineShare;
    for (int i = 0; i < devices.size(); i++) {
      GpuUse use = gpu(devices.get(i));
      kg += use.kg * shares[i];
      use.shareSeconds += shares[i] * seconds;
    }
    embodied(phase, seconds, from, to, kg);
  }

  private void embodied(int phase, double seconds, long from, long to, double kg) {
    if (phase < 0 || phase >= maxPhases) {
      return;
    }
    double grams =
        seconds
            * kg
            * 1000
            / (settings.lifetimeYears() * SECONDS_PER_YEAR * settings.utilization());
    embodied[phase] += grams;
    double steady = steadyFraction(epochMillis(from), epochMillis(to));
    steadySeconds[phase] += seconds * steady;
    steadyGrams[phase] += grams * steady;
    secondsSeen += seconds;
  }

  private double defaultGpuKg() {
    if (!Double.isNaN(settings.gpuKgOverride())) {
      return settings.gpuKgOverride();
    }
    EmbodiedTable.Row row = settings.table() == null ? null : settings.table().find("gpu", null);
    return row == null ? 150 : row.value();
  }

  private GpuUse gpu(Device d) {
    GpuUse use = gpus.get(d.id());
    if (use == null) {
      String model = d.detail().getOrDefault("modelName", "GPU");
      EmbodiedTable.Row row = settings.table() == null ? null : settings.table().find("gpu", model);
      if (!Double.isNaN(settings.gpuKgOverride()) || row == null) {
        use = new GpuUse(model, defaultGpuKg(), "embodied.gpu-kg");
      } else {
        use = new GpuUse(model, row.value(), row.source());
      }
      gpus.put(d.id(), use);
    }
    return use;
  }

  /**
   * Fills in the grams of every phase of a snapshot, and the carbon detail.
   *
   * @param s a snapshot from the ledger
   * @return the snapshot with carbon
   */
  public synchronized EnergySnapshot apply(EnergySnapshot s) {
    IntensityProvider p = provider;
    IntensityTimeline t = p == null ? null : p.timeline();
    if (t != null) {
      flush(t);
    }
    List<PhaseEnergy> out = new ArrayList<>(s.phases().size());
    Map<String, PhaseExtra> extras = new LinkedHashMap<>();
    int n = Math.min(registry.size(), maxPhases);
    for (PhaseEnergy ph : s.phases()) {
      int id = -1;
      for (int k = 0; k < n; k++) {
        if (registry.name(k).equals(ph.name())) {
          id = k;
          break;
        }
      }
      if (id < 0) {
        out.add(ph.withGrams(0, 0));
        continue;
      }
      out.add(ph.withGrams(operational[id], embodied[id]));
      WorkUnits u = units;
      extras.put(
          ph.name(),
          new PhaseExtra(
              market[id],
              u == null ? Map.of() : u.units(id, false),
              u == null ? Map.of() : u.units(id, true),
              steadySeconds[id],
              steadyJoules[id],
              steadyGrams[id]));
    }
    List<IntensitySegment> segs = new ArrayList<>();
    double weighted = 0;
    double spans = 0;
    double joules = 0;
    double joulesWeighted = 0;
    Set<String> sources = new LinkedHashSet<>();
    for (Map.Entry<Object, double[]> e : segments.entrySet()) {
      SegmentKey k = (SegmentKey) e.getKey();
      double[] v = e.getValue();
      IntensityPoint pt = k.point();
      String source = k.edge() ? pt.source() + " (edge value held)" : pt.source();
      sources.add(pt.source());
      segs.add(
          new IntensitySegment(
              Instant.ofEpochMilli((long) Math.floor(v[0])),
              Instant.ofEpochMilli((long) Math.ceil(v[1])),
              pt.gramsPerKwh(),
              source,
              pt.factorType(),
              pt.estimated(),
              v[2]));
      weighted += pt.gramsPerKwh() * (v[1] - v[0]);
      spans += v[1] - v[0];
      joules += v[2];
      joulesWeighted += pt.gramsPerKwh() * v[2];
    }
    segs.sort(BY_START);
    double fallback = t != null ? t.points().get(t.points().size() - 1).gramsPerKwh() : Double.NaN;
    double average = spans > 0 ? weighted / spans : joules > 0 ? joulesWeighted / joules : fallback;
    Set<String> types = new LinkedHashSet<>();
    for (IntensitySegment x : segs) {
      types.add(x.factorType());
    }
    if (types.isEmpty() && t != null) {
      types.add(t.points().get(0).factorType());
    }
    String source =
        sources.isEmpty() ? (t == null ? "not known yet" : t.name()) : String.join("; ", sources);
    CarbonDetail.Market m = null;
    if (settings.market()) {
      double share = Double.isNaN(settings.renewableShare()) ? 0 : settings.renewableShare();
      m =
          new CarbonDetail.Market(
              settings.marketIntensity(),
              share,
              (Double.isNaN(settings.marketIntensity())
                      ? "kWh x PUE x the location-based intensity"
                      : "kWh x PUE x carbon.market.intensity "
                          + settings.marketIntensity()
                          + " g/kWh")
                  + " x (1 - renewable share "
                  + share
                  + ")");
    }
    List<GpuEmbodied> gpuList = new ArrayList<>();
    for (Map.Entry<String, GpuUse> e : gpus.entrySet()) {
      GpuUse g = e.getValue();
      gpuList.add(
          new GpuEmbodied(
              e.getKey(),
              g.model,
              g.kg,
              g.source,
              secondsSeen > 0 ? g.shareSeconds / secondsSeen : 0));
    }
    CarbonDetail detail =
        new CarbonDetail(
            segs,
            p == null ? null : p.zone(),
            String.join("/", types),
            average,
            m,
            new CarbonDetail.Embodied(
                settings.serverKg(),
                settings.serverSource(),
                gpuList,
                settings.lifetimeYears(),
                settings.utilization()),
            extras,
            settings.warmupSeconds(),
            hardware,
            settings.trainingType());
    CarbonFactors f =
        new CarbonFactors(
            average,
            source,
            settings.pue(),
            settings.serverKg(),
            defaultGpuKg(),
            settings.lifetimeYears(),
            settings.utilization());
    return s.withCarbon(f, out, detail);
  }

  // Classes rather than lambdas: the JVM spins a class for each lambda at its first use, which a
  // short job pays at start-up and exit.

  private static final Comparator<IntensitySegment> BY_START = new ByStart();

  private static final class ByStart implements Comparator<IntensitySegment> {
    @Override
    public int compare(IntensitySegment x, IntensitySegment y) {
      return x.from().compareTo(y.from());
    }
  }
}

package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.agent.Log;
import io.jouletrace.agent.carbon.CarbonStage;
import io.jouletrace.agent.carbon.EmbodiedTable;
import io.jouletrace.agent.carbon.Intensities;
import io.jouletrace.agent.carbon.IntensityProvider;
import io.jouletrace.agent.carbon.WorkUnits;
import io.jouletrace.agent.carbon.ZoneTable;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.ConfigLoader;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.exporter.CarbonDetail;
import io.jouletrace.exporter.CarbonDetail.IntensitySegment;
import io.jouletrace.exporter.CarbonStatement;
import io.jouletrace.exporter.EnergyMetrics;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.exporter.JsonReport;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The carbon stage fed by the ledger. Worked examples: every expected gram is computed here from
 * the inputs, by hand.
 */
class CarbonStageTest {

  private static final long MS = 1_000_000L;
  private static final double J_PER_KWH = 3.6e6;
  private static final long T0 = Instant.parse("2026-11-29T10:00:00Z").toEpochMilli();
  private static final double YEAR_S = 365 * 86400.0;

  private final PhaseRegistry registry = new PhaseRegistry(64, w -> {});
  private final List<String> lines = new ArrayList<>();
  private final Log log = new Log(lines::add);

  private static AgentConfig config(String args) {
    AgentConfig c = ConfigLoader.load(args, new Properties(), Map.of());
    assertThat(c.errors()).isEmpty();
    return c;
  }

  private CarbonStage stage(AgentConfig c) {
    return new CarbonStage(
        CarbonStage.Settings.of(c, EmbodiedTable.bundled()), registry, 64, 0, T0, lines::add);
  }

  private static Map<String, PhaseEnergy> byName(EnergySnapshot s) {
    Map<String, PhaseEnergy> m = new HashMap<>();
    s.phases().forEach(p -> m.put(p.name(), p));
    return m;
  }

  private EnergySnapshot snapshot(EnergyLedger ledger, CarbonStage carbon) {
    return carbon.apply(
        ledger.snapshot(Instant.ofEpochMilli(T0), null, "training", Map.of(), "host"));
  }

  @Test
  void twoSegmentSeriesCrossingAPhaseBoundaryIsChargedPieceByPiece(@TempDir Path dir)
      throws IOException {
    // Intensity 300 g/kWh from T0, 100 g/kWh from T0 + 0.4 s (inside the 250-500 ms window).
    Path series = dir.resolve("grid.csv");
    Files.writeString(
        series,
        "timestamp,gco2e_per_kwh\n"
            + "2026-11-29T11:00:00+01:00,300\n"
            + "2026-11-29T10:00:00.400Z,100\n"
            + "2026-11-29T10:00:01Z,100\n");
    AgentConfig c = config("pue=1.5,carbon.series=" + series);
    CarbonStage carbon = stage(c);
    carbon.provider(Intensities.open(c, Map.of(), log, () -> T0, false));
    EnergyLedger ledger = new EnergyLedger(registry, 64, carbon, 0);
    int src =
        ledger.addSource(List.of(new Device("package-0", Domain.CPU, "test", true, Map.of())), 0);
    int a = registry.idOf("a");
    int b = registry.idOf("b");
    ledger.event(0, 0, a);
    ledger.event(700 * MS, 0, b); // phase boundary inside the 500-750 ms window
    for (long t = 250 * MS; t <= 1000 * MS; t += 250 * MS) {
      ledger.sample(src, t, new double[] {50 * t * 1e-9}, new double[] {1}); // 50 W
      ledger.tick(t, 1);
    }
    Map<String, PhaseEnergy> p = byName(snapshot(ledger, carbon));

    // a: 0-400 ms at 300 g (20 J), 400-700 ms at 100 g (15 J); b: 700-1000 ms at 100 g (15 J)
    double expectedA = (50 * 0.4 * 300 + 50 * 0.3 * 100) * 1.5 / J_PER_KWH;
    double expectedB = 50 * 0.3 * 100 * 1.5 / J_PER_KWH;
    assertThat(p.get("a").joules(Domain.CPU)).isCloseTo(35, within(1e-9));
    assertThat(p.get("a").operationalGrams()).isCloseTo(expectedA, within(1e-15));
    assertThat(p.get("b").operationalGrams()).isCloseTo(expectedB, within(1e-15));

    CarbonDetail d = snapshot(ledger, carbon).detail();
    assertThat(d.segments()).hasSize(2);
    IntensitySegment first = d.segments().get(0);
    IntensitySegment second = d.segments().get(1);
    assertThat(first.gramsPerKwh()).isEqualTo(300);
    assertThat(first.from()).isEqualTo(Instant.ofEpochMilli(T0));
    assertThat(first.to()).isEqualTo(Instant.ofEpochMilli(T0 + 400));
    assertThat(first.joules()).isCloseTo(20, within(1e-9));
    assertThat(second.gramsPerKwh()).isEqualTo(100);
    assertThat(second.to()).isEqualTo(Instant.ofEpochMilli(T0 + 1000));
    assertThat(second.joules()).isCloseTo(30, within(1e-9));
    assertThat(first.source()).contains("grid.csv");
    // time-weighted: 0.4 s at 300, 0.6 s at 100
    assertThat(d.timeWeightedIntensity()).isCloseTo((0.4 * 300 + 0.6 * 100) / 1.0, within(1e-9));
    assertThat(lines).isEmpty(); // the series covers the run: no edge held
  }

  @Test
  void aSeriesThatStartsLateHoldsItsFirstValueAndSaysSoOnce(@TempDir Path dir) throws IOException {
    Path series = dir.resolve("late.csv");
    Files.writeString(series, "2026-11-29T10:00:00.500Z,200\n2026-11-29T10:00:01Z,400\n");
    AgentConfig c = config("carbon.series=" + series);
    CarbonStage carbon = stage(c);
    carbon.provider(Intensities.open(c, Map.of(), log, () -> T0, false));
    int a = registry.idOf("a");
    carbon.energy(a, Domain.CPU, 1000, 0, 1000 * MS); // 0-1 s: 500 J before the data, 500 J in it
    carbon.energy(a, Domain.CPU, 1000, 1000 * MS, 2000 * MS); // 1-2 s: inside (to 1.5 s), then held

    double expected = (500 * 200 + 500 * 200 + 500 * 400 + 500 * 400) / J_PER_KWH;
    PhaseEnergy p = byName(carbon.apply(empty("a"))).get("a");
    assertThat(p.operationalGrams()).isCloseTo(expected, within(1e-12));
    assertThat(lines).singleElement().asString().contains("late.csv", "not the whole run");
    CarbonDetail d = carbon.apply(empty("a")).detail();
    assertThat(d.segments())
        .extracting(IntensitySegment::source)
        .anyMatch(s -> s.endsWith("(edge value held)"));
  }

  @Test
  void zoneLookupUsesTheBundledRowAndAnUnknownZoneIsNamedOnce() {
    AgentConfig c = config("carbon.zone=de");
    CarbonStage carbon = stage(c);
    carbon.provider(Intensities.open(c, Map.of(), log, () -> T0, true));
    int a = registry.idOf("a");
    carbon.energy(a, Domain.CPU, 36_000, 0, 1000 * MS); // 0.01 kWh
    EnergySnapshot s = carbon.apply(empty("a"));
    // Germany, Our World in Data 2023: 380.95 g/kWh (zones.csv)
    assertThat(byName(s).get("a").operationalGrams()).isCloseTo(0.01 * 380.95, within(1e-12));
    assertThat(s.detail().zone()).isEqualTo("de");
    assertThat(s.carbon().intensitySource()).contains("DE", "owid", "2023");
    assertThat(lines).isEmpty();

    AgentConfig unknown = config("carbon.zone=XX-NOPE");
    IntensityProvider p = Intensities.open(unknown, Map.of(), log, () -> T0, true);
    assertThat(p.timeline().points().get(0).gramsPerKwh()).isEqualTo(475);
    assertThat(lines).singleElement().asString().contains("carbon.zone=XX-NOPE");
  }

  @Test
  void bundledZoneTableCoversTheLargestConsumersWithYearAndSource() {
    ZoneTable t = ZoneTable.bundled();
    for (String z :
        "CN US IN RU JP BR CA KR DE FR SA IR MX ID GB IT ES TR AU TW VN ZA TH EG PL SE NO FI"
            .split(" ")) {
      assertThat(t.find(z)).as(z).isNotNull();
      assertThat(t.find(z).year()).as(z).isBetween(2016, 2025);
    }
    assertThat(t.find("US-CA").source()).isEqualTo("egrid2016");
    assertThat(t.find("SE-SE3")).isNotNull();
    assertThat(t.size()).isGreaterThan(200);
  }

  @Test
  void marketBasedFigureIsReportedBesideAndNeverInsideTheLocationBasedOne() throws IOException {
    AgentConfig c = config("carbon.intensity=400,pue=1.2,carbon.market.renewable-share=0.25");
    CarbonStage carbon = stage(c);
    carbon.provider(Intensities.open(c, Map.of(), log, () -> T0, true));
    int a = registry.idOf("a");
    carbon.energy(a, Domain.CPU, 7.2e6, 0, 1000 * MS); // 2 kWh
    EnergySnapshot s = carbon.apply(empty("a"));
    double location = 2 * 1.2 * 400;
    double market = 2 * 1.2 * 400 * (1 - 0.25);
    assertThat(byName(s).get("a").operationalGrams()).isCloseTo(location, within(1e-9));
    assertThat(CarbonStatement.marketGrams(s)).isCloseTo(market, within(1e-9));

    String metrics = scrape(s);
    assertThat(metrics)
        .contains("jouletrace_market_co2e_grams_total{phase=\"a\",stage=\"training\"} 720.0");
    // Summing jouletrace_co2e_grams_total over kind gives location-based + embodied only.
    double sum = 0;
    for (String line : metrics.split("\n")) {
      if (line.startsWith("jouletrace_co2e_grams_total{") && line.contains("phase=\"a\"")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    assertThat(sum).isCloseTo(location + byName(s).get("a").embodiedGrams(), within(1e-9));

    AgentConfig supplier =
        config(
            "carbon.intensity=400,pue=1.2,carbon.market.intensity=600,carbon.market.renewable-share=0.1");
    CarbonStage other = stage(supplier);
    other.provider(Intensities.open(supplier, Map.of(), log, () -> T0, true));
    other.energy(a, Domain.CPU, 7.2e6, 0, 1000 * MS);
    assertThat(CarbonStatement.marketGrams(other.apply(empty("a"))))
        .isCloseTo(2 * 1.2 * 600 * (1 - 0.1), within(1e-9));
  }

  @Test
  void embodiedForTwoGpusAtDifferentSharesUsesEachModelsFigure() throws IOException {
    EmbodiedTable table =
        EmbodiedTable.parse(
            new StringReader(
                "server,*,1000,test server\n"
                    + "gpu,*,150,test default\n"
                    + "gpu,A100,300,test A100\n"
                    + "lifetime,*,4,test life\n"));
    AgentConfig c = config("carbon.intensity=0,embodied.utilization=0.5");
    CarbonStage carbon =
        new CarbonStage(CarbonStage.Settings.of(c, table), registry, 64, 0, T0, lines::add);
    carbon.provider(Intensities.open(c, Map.of(), log, () -> T0, true));
    EnergyLedger ledger = new EnergyLedger(registry, 64, carbon, 0);
    List<Device> gpus =
        List.of(
            new Device(
                "gpu-0", Domain.GPU, "test", true, Map.of("modelName", "NVIDIA A100-SXM4-80GB")),
            new Device(
                "gpu-1", Domain.GPU, "test", true, Map.of("modelName", "NVIDIA H100 80GB HBM3")));
    int src = ledger.addSource(gpus, 0);
    int a = registry.idOf("train");
    ledger.event(0, 0, a);
    long hour = 3600_000 * MS;
    ledger.sample(src, hour, new double[] {1, 1}, new double[] {0.5, 0.25});
    ledger.tick(hour, 0.4, 0.5 + 0.25);

    EnergySnapshot s = snapshot(ledger, carbon);
    // M = TE x (TiR / EL) x (RR / ToR): one hour over 4 years at 50 % use
    double tiRoverEl = 3600 / (4 * YEAR_S * 0.5);
    double expected = (1000 * 0.4 + 300 * 0.5 + 150 * 0.25) * 1000 * tiRoverEl;
    assertThat(byName(s).get("train").embodiedGrams()).isCloseTo(expected, within(1e-9));
    CarbonDetail.Embodied e = s.detail().embodied();
    assertThat(e.gpus()).hasSize(2);
    assertThat(e.gpus().get(0).kg()).isEqualTo(300);
    assertThat(e.gpus().get(0).meanShare()).isCloseTo(0.5, within(1e-12));
    assertThat(e.gpus().get(1).kg()).isEqualTo(150);
    assertThat(e.gpus().get(1).source()).isEqualTo("test default");
    assertThat(e.gpus().get(1).meanShare()).isCloseTo(0.25, within(1e-12));
    assertThat(CarbonStatement.markdown(s)).contains("M = TE x (TiR / EL) x (RR / ToR)");

    // embodied.gpu-kg set: every GPU takes it
    AgentConfig forced = config("carbon.intensity=0,embodied.utilization=0.5,embodied.gpu-kg=200");
    CarbonStage f =
        new CarbonStage(CarbonStage.Settings.of(forced, table), registry, 64, 0, T0, lines::add);
    f.time(a, 3600, 0, hour, 0.4, gpus, new double[] {0.5, 0.25});
    assertThat(byName(f.apply(empty("train"))).get("train").embodiedGrams())
        .isCloseTo((1000 * 0.4 + 200 * 0.5 + 200 * 0.25) * 1000 * tiRoverEl, within(1e-9));
  }

  @Test
  void energyBeforeAnyProviderIsHeldAndChargedOnceItAnswers() {
    AgentConfig c = config("carbon.intensity=250");
    CarbonStage carbon = stage(c);
    int a = registry.idOf("a");
    carbon.energy(a, Domain.CPU, 3.6e6, 0, 1000 * MS);
    assertThat(byName(carbon.apply(empty("a"))).get("a").operationalGrams()).isZero();
    carbon.provider(Intensities.open(c, Map.of(), log, () -> T0, true));
    carbon.energy(a, Domain.CPU, 3.6e6, 1000 * MS, 2000 * MS);
    assertThat(byName(carbon.apply(empty("a"))).get("a").operationalGrams())
        .isCloseTo(2 * 250, within(1e-9));
  }

  @Test
  void energyHeldWhenTheRunEndsBeforeAnyProviderIsChargedAtTheFallback() {
    AgentConfig c = config("carbon.zone=FR");
    CarbonStage carbon = stage(c);
    int a = registry.idOf("a");
    carbon.energy(a, Domain.CPU, 7.2e6, 0, 1000 * MS); // 2 kWh, no provider yet
    // At exit: the chain without the network (here the zone table's FR row, 56.039 g/kWh)
    carbon.finish(Intensities.open(c, Map.of(), log, () -> T0, false).timeline());
    EnergySnapshot s = carbon.apply(empty("a"));
    assertThat(byName(s).get("a").operationalGrams()).isCloseTo(2 * 56.039, within(1e-9));
    assertThat(s.detail().segments())
        .singleElement()
        .extracting(IntensitySegment::joules)
        .isEqualTo(7.2e6);
  }

  @Test
  void warmUpIsLeftOutOfPerUnitFiguresButNotOutOfTotals() throws IOException {
    AgentConfig c =
        config("carbon.intensity=360,efficiency.warmup=500ms,embodied.kg=0,embodied.gpu-kg=0");
    CarbonStage carbon = stage(c);
    carbon.provider(Intensities.open(c, Map.of(), log, () -> T0, true));
    long[] now = {0};
    WorkUnits units = new WorkUnits(registry, null, 64, 500 * MS, () -> now[0], lines::add);
    carbon.units(units);
    int a = registry.idOf("train-step");
    now[0] = 200 * MS;
    units.countIn("train-step", "samples", 10); // warm-up
    now[0] = 700 * MS;
    units.countIn("train-step", "samples", 30);
    carbon.energy(a, Domain.CPU, 100, 0, 1000 * MS); // 100 J over 1 s: 50 J after warm-up
    carbon.time(a, 1.0, 0, 1000 * MS, 1, 0);

    EnergySnapshot s = carbon.apply(empty("train-step"));
    assertThat(byName(s).get("train-step").operationalGrams())
        .isCloseTo(100 * 360 / J_PER_KWH, within(1e-15)); // totals unchanged
    List<CarbonStatement.Efficiency> eff = CarbonStatement.efficiency(s);
    CarbonStatement.Efficiency line = eff.get(0);
    assertThat(line.units()).isEqualTo(40);
    assertThat(line.steadyUnits()).isEqualTo(30);
    assertThat(line.joulesPerUnit()).isCloseTo(50.0 / 30, within(1e-12));
    assertThat(line.gramsPerUnit()).isCloseTo(50 * 360 / J_PER_KWH / 30, within(1e-15));
    assertThat(line.unitsPerSecond()).isCloseTo(30 / 0.5, within(1e-9));
    assertThat(eff.get(1).phase()).isEqualTo("total");
    assertThat(scrape(s))
        .contains(
            "jouletrace_work_units_total{phase=\"train-step\",stage=\"training\",unit=\"samples\"} 40.0");
    assertThat(JsonReport.render(s)).contains("\"warmupSeconds\" : 0.5");
  }

  /** A ledger-free snapshot with one phase of no energy, for the stage to fill. */
  private EnergySnapshot empty(String phase) {
    return new EnergySnapshot(
        Instant.ofEpochMilli(T0),
        null,
        1,
        "training",
        Map.of(),
        "process",
        Map.of(Domain.CPU, "measured"),
        List.of(),
        List.of(new PhaseEnergy(phase, 1, Map.of(Domain.CPU, 1.0), 0, 0)),
        null,
        List.of(),
        List.of(),
        null);
  }

  static String scrape(EnergySnapshot s) throws IOException {
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(() -> s));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    return out.toString(StandardCharsets.UTF_8);
  }
}

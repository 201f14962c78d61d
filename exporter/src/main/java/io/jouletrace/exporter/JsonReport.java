package io.jouletrace.exporter;

import com.fasterxml.jackson.core.JsonGenerator;
import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.exporter.EnergySnapshot.ZoneEnergy;
import io.jouletrace.sources.Domain;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON report, schema {@value #SCHEMA}. Its {@code totals} are the sum of its {@code phases}.
 *
 * <p>Written with Jackson's streaming generator: it needs a fraction of the classes (and of the
 * start-up time) of an object mapper, which matters on the exit path.
 */
public final class JsonReport {

  /** Schema identifier written in every report. */
  public static final String SCHEMA = "jouletrace-report/1";

  private JsonReport() {}

  /**
   * Renders a snapshot.
   *
   * @param s the snapshot
   * @return the report, indented, ending with a newline
   */
  public static String render(EnergySnapshot s) {
    StringWriter out = new StringWriter(4096);
    try {
      write(s, out);
    } catch (IOException e) {
      throw new IllegalStateException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  private static void write(EnergySnapshot s, Writer out) throws IOException {
    try (JsonGenerator g = JsonOutput.generator(out)) {
      write(s, g);
    }
    out.write('\n');
  }

  /**
   * Writes a snapshot's report with a generator.
   *
   * @param s the snapshot
   * @param g the generator; left open
   * @throws IOException when the generator's target fails
   */
  static void write(EnergySnapshot s, JsonGenerator g) throws IOException {
    g.useDefaultPrettyPrinter();
    g.writeStartObject();
    g.writeStringField("schema", SCHEMA);
    g.writeObjectFieldStart("run");
    g.writeStringField("startedAt", IsoInstant.format(s.startedAt()));
    g.writeStringField("endedAt", s.endedAt() == null ? null : IsoInstant.format(s.endedAt()));
    g.writeNumberField("wallSeconds", s.wallSeconds());
    g.writeStringField("stage", s.stage());
    if (s.runId() != null) {
      g.writeStringField("runId", s.runId());
    }
    g.writeObjectFieldStart("labels");
    sorted(g, s.labels());
    g.writeEndObject();
    g.writeEndObject();
    g.writeStringField("attribution", s.attribution());
    g.writeObjectFieldStart("methods");
    for (Domain d : Domain.values()) {
      if (s.methods().containsKey(d)) {
        g.writeStringField(d.label(), s.methods().get(d));
      }
    }
    g.writeEndObject();
    g.writeArrayFieldStart("devices");
    for (DeviceEnergy d : s.devices()) {
      g.writeStartObject();
      g.writeStringField("id", d.id());
      g.writeStringField("domain", d.domain().label());
      g.writeStringField("source", d.source());
      g.writeBooleanField("measured", d.measured());
      g.writeNumberField("joules", d.joules());
      g.writeNumberField("watts", d.watts());
      g.writeNumberField("seconds", d.seconds());
      if (!d.detail().isEmpty()) {
        g.writeObjectFieldStart("detail");
        sorted(g, d.detail());
        g.writeEndObject();
      }
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeArrayFieldStart("phases");
    for (PhaseEnergy p : s.phases()) {
      g.writeStartObject();
      g.writeStringField("name", p.name());
      g.writeNumberField("wallSeconds", p.wallSeconds());
      energy(g, p);
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeObjectFieldStart("totals");
    energy(g, s.totals());
    g.writeEndObject();
    CarbonFactors c = s.carbon();
    g.writeObjectFieldStart("carbon");
    g.writeNumberField("intensityGramsPerKwh", c.intensityGramsPerKwh());
    g.writeStringField("intensitySource", c.intensitySource());
    g.writeNumberField("pue", c.pue());
    g.writeNumberField("embodiedKg", c.embodiedKg());
    g.writeNumberField("embodiedGpuKg", c.embodiedGpuKg());
    g.writeNumberField("lifetimeYears", c.lifetimeYears());
    g.writeNumberField("utilization", c.utilization());
    g.writeEndObject();
    if (s.detail() != null) {
      carbonDetail(g, s);
    }
    g.writeArrayFieldStart("zones");
    for (ZoneEnergy z : s.zones()) {
      g.writeStartObject();
      g.writeStringField("source", z.source());
      g.writeStringField("zone", z.zone());
      g.writeNumberField("joules", z.joules());
      g.writeEndObject();
    }
    g.writeEndArray();
    if (s.model() != null) {
      g.writeObjectFieldStart("model");
      g.writeNumberField("cpuIdleWatts", s.model().cpuIdleWatts());
      g.writeNumberField("cpuMaxWatts", s.model().cpuMaxWatts());
      g.writeNumberField("dramWattsPerGb", s.model().dramWattsPerGb());
      g.writeStringField("origin", s.model().origin());
      g.writeEndObject();
    }
    if (s.agent() != null) {
      EnergySnapshot.AgentCost a = s.agent();
      g.writeObjectFieldStart("agent");
      g.writeNumberField("cpuSeconds", a.cpuSeconds());
      g.writeNumberField("processCpuSeconds", a.processCpuSeconds());
      g.writeNumberField("cpuShare", a.cpuShare());
      g.writeNumberField("joules", a.joules());
      g.writeNumberField("co2eGrams", a.grams());
      g.writeObjectFieldStart("threads");
      for (Map.Entry<String, Double> t : a.threads().entrySet()) {
        g.writeNumberField(t.getKey(), t.getValue());
      }
      g.writeEndObject();
      g.writeEndObject();
    }
    if (!s.tasks().isEmpty()) {
      g.writeObjectFieldStart("tasks");
      for (Map.Entry<String, Long> t : s.tasks().entrySet()) {
        g.writeNumberField(t.getKey(), t.getValue());
      }
      g.writeEndObject();
    }
    if (s.profile() != null) {
      profile(g, s.profile());
    }
    g.writeArrayFieldStart("warnings");
    for (String w : s.warnings()) {
      g.writeString(w);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  /** Intensity segments, market-based figure, embodied terms, efficiency and the statement. */
  private static void carbonDetail(JsonGenerator g, EnergySnapshot s) throws IOException {
    CarbonDetail d = s.detail();
    g.writeObjectFieldStart("intensity");
    g.writeStringField("zone", d.zone());
    g.writeStringField("factorType", d.factorType());
    number(g, "timeWeightedGramsPerKwh", d.timeWeightedIntensity());
    g.writeArrayFieldStart("segments");
    for (CarbonDetail.IntensitySegment seg : d.segments()) {
      g.writeStartObject();
      g.writeStringField("from", IsoInstant.format(seg.from()));
      g.writeStringField("to", IsoInstant.format(seg.to()));
      g.writeNumberField("gramsPerKwh", seg.gramsPerKwh());
      g.writeStringField("source", seg.source());
      g.writeStringField("factorType", seg.factorType());
      g.writeBooleanField("estimated", seg.estimated());
      g.writeNumberField("joules", seg.joules());
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
    if (d.market() != null) {
      g.writeObjectFieldStart("market");
      number(g, "gramsPerKwh", d.market().gramsPerKwh());
      g.writeNumberField("renewableShare", d.market().renewableShare());
      g.writeStringField("basis", d.market().description());
      g.writeNumberField("operationalGrams", CarbonStatement.marketGrams(s));
      g.writeObjectFieldStart("phases");
      for (PhaseEnergy p : s.phases()) {
        CarbonDetail.PhaseExtra x = d.phases().get(p.name());
        g.writeNumberField(p.name(), x == null ? 0 : x.marketGrams());
      }
      g.writeEndObject();
      g.writeEndObject();
    }
    if (d.embodied() != null) {
      CarbonDetail.Embodied e = d.embodied();
      g.writeObjectFieldStart("embodied");
      g.writeStringField("formula", "M = TE x (TiR / EL) x (RR / ToR)");
      g.writeNumberField("serverKg", e.serverKg());
      g.writeStringField("serverSource", e.serverSource());
      g.writeArrayFieldStart("gpus");
      for (CarbonDetail.GpuEmbodied gpu : e.gpus()) {
        g.writeStartObject();
        g.writeStringField("device", gpu.device());
        g.writeStringField("model", gpu.model());
        g.writeNumberField("kg", gpu.kg());
        g.writeStringField("source", gpu.source());
        g.writeNumberField("meanShare", gpu.meanShare());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeNumberField("lifetimeYears", e.lifetimeYears());
      g.writeNumberField("utilization", e.utilization());
      g.writeStringField("timeReserved", "the job's wall time");
      g.writeStringField(
          "resourcesReserved", "the job's CPU share of the machine and its share of each GPU");
      g.writeEndObject();
    }
    g.writeObjectFieldStart("efficiency");
    g.writeNumberField("warmupSeconds", d.warmupSeconds());
    g.writeArrayFieldStart("lines");
    for (CarbonStatement.Efficiency e : CarbonStatement.efficiency(s)) {
      g.writeStartObject();
      g.writeStringField("phase", e.phase());
      g.writeStringField("unit", e.unit());
      g.writeNumberField("units", e.units());
      g.writeNumberField("steadyUnits", e.steadyUnits());
      number(g, "joulesPerUnit", e.joulesPerUnit());
      number(g, "gramsPerUnit", e.gramsPerUnit());
      number(g, "unitsPerSecond", e.unitsPerSecond());
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
    statement(g, s);
  }

  private static void statement(JsonGenerator g, EnergySnapshot s) throws IOException {
    CarbonDetail d = s.detail();
    PhaseEnergy t = s.totals();
    g.writeObjectFieldStart("statement");
    g.writeObjectFieldStart("hardware");
    if (d.hardware() != null) {
      g.writeStringField("cpuModel", d.hardware().cpuModel());
      g.writeNumberField("sockets", d.hardware().sockets());
    }
    g.writeObjectFieldStart("gpus");
    for (Map.Entry<String, Integer> e : CarbonStatement.gpuModels(s).entrySet()) {
      g.writeNumberField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
    g.writeEndObject();
    g.writeNumberField("wallSeconds", s.wallSeconds());
    g.writeObjectFieldStart("energy");
    for (Domain dom : Domain.values()) {
      String method = s.methods().get(dom);
      if (method != null) {
        g.writeObjectFieldStart(dom.label());
        g.writeNumberField("joules", t.joules(dom));
        g.writeStringField("method", method);
        g.writeEndObject();
      }
    }
    g.writeNumberField("totalJoules", t.totalJoules());
    g.writeEndObject();
    g.writeNumberField("pue", s.carbon().pue());
    g.writeObjectFieldStart("intensity");
    g.writeStringField("source", String.join("; ", CarbonStatement.sources(s)));
    g.writeStringField("zone", d.zone());
    number(g, "timeWeightedGramsPerKwh", d.timeWeightedIntensity());
    g.writeStringField("factorType", d.factorType());
    g.writeEndObject();
    g.writeObjectFieldStart("co2eGrams");
    g.writeNumberField("operationalLocationBased", t.operationalGrams());
    number(g, "operationalMarketBased", CarbonStatement.marketGrams(s));
    g.writeNumberField("embodied", t.embodiedGrams());
    g.writeNumberField("total", t.totalGrams());
    g.writeEndObject();
    g.writeStringField("huggingFaceYaml", CarbonStatement.huggingFaceYaml(s));
    g.writeEndObject();
  }

  /** A number, or {@code null} where it is not defined (JSON has no NaN). */
  private static void number(JsonGenerator g, String name, double v) throws IOException {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      g.writeNullField(name);
    } else {
      g.writeNumberField(name, v);
    }
  }

  private static void profile(JsonGenerator g, EnergyProfile p) throws IOException {
    g.writeObjectFieldStart("profile");
    g.writeNumberField("joules", p.joules());
    g.writeNumberField("samples", p.samples());
    g.writeNumberField("droppedSamples", p.droppedSamples());
    g.writeNumberField("stacks", p.stacks());
    g.writeNumberField("truncatedSamples", p.truncatedSamples());
    g.writeStringField("collapsedFile", p.collapsedFile());
    g.writeFieldName("overall");
    methods(g, p.overall());
    g.writeArrayFieldStart("phases");
    for (EnergyProfile.PhaseMethods m : p.phases()) {
      methods(g, m);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void methods(JsonGenerator g, EnergyProfile.PhaseMethods m) throws IOException {
    g.writeStartObject();
    g.writeStringField("phase", m.phase());
    g.writeNumberField("joules", m.joules());
    g.writeArrayFieldStart("topSelf");
    for (EnergyProfile.MethodEnergy e : m.bySelf()) {
      method(g, e);
    }
    g.writeEndArray();
    g.writeArrayFieldStart("topTotal");
    for (EnergyProfile.MethodEnergy e : m.byTotal()) {
      method(g, e);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void method(JsonGenerator g, EnergyProfile.MethodEnergy e) throws IOException {
    g.writeStartObject();
    g.writeStringField("method", e.method());
    g.writeNumberField("selfJoules", e.selfJoules());
    g.writeNumberField("totalJoules", e.totalJoules());
    g.writeNumberField("samples", e.samples());
    g.writeEndObject();
  }

  private static void sorted(JsonGenerator g, Map<String, String> m) throws IOException {
    for (Map.Entry<String, String> e : new TreeMap<>(m).entrySet()) {
      g.writeStringField(e.getKey(), e.getValue());
    }
  }

  private static void energy(JsonGenerator g, PhaseEnergy p) throws IOException {
    g.writeObjectFieldStart("joules");
    for (Domain d : Domain.values()) {
      g.writeNumberField(d.label(), p.joules(d));
    }
    g.writeNumberField("total", p.totalJoules());
    g.writeEndObject();
    g.writeObjectFieldStart("co2eGrams");
    g.writeNumberField("operational", p.operationalGrams());
    g.writeNumberField("embodied", p.embodiedGrams());
    g.writeNumberField("total", p.totalGrams());
    g.writeEndObject();
  }

  /**
   * Renders a snapshot without writing it, so that the classes the exit path needs are loaded ahead
   * of time, off the shutdown path.
   *
   * @param s any snapshot
   * @return the length of the rendered report and table
   */
  public static int warmUp(EnergySnapshot s) {
    return render(s).length() + PhaseTable.render(s).length();
  }

  /**
   * Writes the report atomically (a temporary file in the same folder, then a rename), creating
   * parent folders.
   *
   * @param s the snapshot
   * @param file destination
   * @throws IOException when the folder or file cannot be written
   */
  public static void write(EnergySnapshot s, Path file) throws IOException {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    AtomicWrite.write(abs, render(s), ".json.tmp");
  }
}

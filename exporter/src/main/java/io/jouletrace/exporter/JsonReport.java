package io.jouletrace.exporter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The JSON report, schema {@value #SCHEMA}. Its {@code totals} are the sum of its {@code phases}.
 */
public final class JsonReport {

  /** Schema identifier written in every report. */
  public static final String SCHEMA = "jouletrace-report/1";

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private JsonReport() {}

  /**
   * Renders a snapshot.
   *
   * @param s the snapshot
   * @return the report as a JSON tree
   */
  public static ObjectNode toJson(EnergySnapshot s) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("schema", SCHEMA);
    ObjectNode run = root.putObject("run");
    run.put("startedAt", s.startedAt().toString());
    if (s.endedAt() != null) {
      run.put("endedAt", s.endedAt().toString());
    } else {
      run.putNull("endedAt");
    }
    run.put("wallSeconds", s.wallSeconds());
    run.put("stage", s.stage());
    ObjectNode labels = run.putObject("labels");
    s.labels().keySet().stream().sorted().forEach(k -> labels.put(k, s.labels().get(k)));
    root.put("attribution", s.attribution());
    ObjectNode methods = root.putObject("methods");
    for (String d : EnergySnapshot.DOMAINS) {
      if (s.methods().containsKey(d)) {
        methods.put(d, s.methods().get(d));
      }
    }
    ArrayNode devices = root.putArray("devices");
    for (DeviceEnergy d : s.devices()) {
      ObjectNode n = devices.addObject();
      n.put("id", d.id());
      n.put("domain", d.domain());
      n.put("source", d.source());
      n.put("measured", d.measured());
      n.put("joules", d.joules());
      n.put("watts", d.watts());
      if (!d.detail().isEmpty()) {
        ObjectNode detail = n.putObject("detail");
        d.detail().keySet().stream().sorted().forEach(k -> detail.put(k, d.detail().get(k)));
      }
    }
    ArrayNode zones = root.putArray("zones");
    for (EnergySnapshot.ZoneEnergy z : s.zones()) {
      ObjectNode n = zones.addObject();
      n.put("source", z.source());
      n.put("zone", z.zone());
      n.put("joules", z.joules());
    }
    if (s.model() != null) {
      ObjectNode model = root.putObject("model");
      model.put("cpuIdleWatts", s.model().cpuIdleWatts());
      model.put("cpuMaxWatts", s.model().cpuMaxWatts());
      model.put("dramWattsPerGb", s.model().dramWattsPerGb());
      model.put("origin", s.model().origin());
    }
    ArrayNode phases = root.putArray("phases");
    for (PhaseEnergy p : s.phases()) {
      ObjectNode n = phases.addObject();
      n.put("name", p.name());
      n.put("wallSeconds", p.wallSeconds());
      energy(n, p);
    }
    ObjectNode totals = root.putObject("totals");
    energy(totals, s.totals());
    CarbonFactors c = s.carbon();
    ObjectNode carbon = root.putObject("carbon");
    carbon.put("intensityGramsPerKwh", c.intensityGramsPerKwh());
    carbon.put("intensitySource", c.intensitySource());
    carbon.put("pue", c.pue());
    carbon.put("embodiedKg", c.embodiedKg());
    carbon.put("embodiedGpuKg", c.embodiedGpuKg());
    carbon.put("lifetimeYears", c.lifetimeYears());
    carbon.put("utilization", c.utilization());
    ArrayNode warnings = root.putArray("warnings");
    s.warnings().forEach(warnings::add);
    return root;
  }

  private static void energy(ObjectNode n, PhaseEnergy p) {
    ObjectNode j = n.putObject("joules");
    j.put("cpu", p.cpuJoules());
    j.put("dram", p.dramJoules());
    j.put("gpu", p.gpuJoules());
    j.put("total", p.totalJoules());
    ObjectNode g = n.putObject("co2eGrams");
    g.put("operational", p.operationalGrams());
    g.put("embodied", p.embodiedGrams());
    g.put("total", p.totalGrams());
  }

  /**
   * Renders a snapshot without writing it, so that the classes the exit path needs are loaded
   * ahead of time, off the shutdown path.
   *
   * @param s any snapshot
   * @return the length of the rendered report
   */
  public static int warmUp(EnergySnapshot s) {
    try {
      return MAPPER.writeValueAsString(toJson(s)).length() + PhaseTable.render(s).length();
    } catch (IOException e) {
      return 0;
    }
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
    Path tmp = Files.createTempFile(dir, ".jouletrace-", ".json.tmp");
    try {
      Files.writeString(tmp, MAPPER.writeValueAsString(toJson(s)) + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}

package io.jouletrace.exporter;

import io.jouletrace.exporter.CarbonDetail.GpuEmbodied;
import io.jouletrace.exporter.CarbonDetail.IntensitySegment;
import io.jouletrace.exporter.CarbonDetail.PhaseExtra;
import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Domain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The carbon statement for a model card: a Markdown file written next to the JSON report, and the
 * figures the report's {@code statement} section holds. Every figure comes from the snapshot; this
 * class only sums and divides.
 */
public final class CarbonStatement {

  private static final double JOULES_PER_KWH = 3.6e6;
  private static final int SEGMENTS_SHOWN = 24;

  private CarbonStatement() {}

  /**
   * One line of per-unit efficiency: the phase's steady-state energy and carbon per unit of work.
   *
   * @param phase phase name, or {@code total} for the whole job
   * @param unit the unit's name (e.g. {@code samples})
   * @param units units counted over the whole run
   * @param steadyUnits units counted after the warm-up
   * @param joulesPerUnit steady-state joules per unit (NaN without units)
   * @param gramsPerUnit steady-state grams CO2e (location-based operational + embodied) per unit
   * @param unitsPerSecond steady-state units per second of the phase's wall time
   */
  public record Efficiency(
      String phase,
      String unit,
      long units,
      long steadyUnits,
      double joulesPerUnit,
      double gramsPerUnit,
      double unitsPerSecond) {}

  /**
   * The per-phase and total efficiency lines, phases in the snapshot's order, then the totals.
   *
   * @param s a snapshot with carbon detail
   * @return the lines; empty when no unit was counted
   */
  public static List<Efficiency> efficiency(EnergySnapshot s) {
    List<Efficiency> out = new ArrayList<>();
    CarbonDetail d = s.detail();
    if (d == null) {
      return out;
    }
    Map<String, long[]> totals = new TreeMap<>();
    double joules = 0;
    double grams = 0;
    double seconds = 0;
    for (PhaseEnergy p : s.phases()) {
      PhaseExtra x = d.phases().get(p.name());
      if (x == null) {
        continue;
      }
      joules += x.steadyJoules();
      grams += x.steadyGrams();
      seconds += x.steadySeconds();
      for (String unit : new TreeMap<>(x.units()).keySet()) {
        long all = x.units().get(unit);
        long steady = x.steadyUnits().getOrDefault(unit, 0L);
        out.add(
            line(
                p.name(), unit, all, steady, x.steadyJoules(), x.steadyGrams(), x.steadySeconds()));
        long[] t = totals.get(unit);
        if (t == null) {
          t = new long[2];
          totals.put(unit, t);
        }
        t[0] += all;
        t[1] += steady;
      }
    }
    for (Map.Entry<String, long[]> e : totals.entrySet()) {
      long[] t = e.getValue();
      out.add(line("total", e.getKey(), t[0], t[1], joules, grams, seconds));
    }
    return out;
  }

  private static Efficiency line(
      String phase, String unit, long all, long steady, double j, double g, double sec) {
    double n = steady;
    return new Efficiency(
        phase,
        unit,
        all,
        steady,
        steady > 0 ? j / n : Double.NaN,
        steady > 0 ? g / n : Double.NaN,
        sec > 0 ? n / sec : Double.NaN);
  }

  /** Returns the market-based operational grams of the whole job, or NaN without a basis. */
  public static double marketGrams(EnergySnapshot s) {
    CarbonDetail d = s.detail();
    if (d == null || d.market() == null) {
      return Double.NaN;
    }
    double g = 0;
    for (PhaseExtra x : d.phases().values()) {
      g += x.marketGrams();
    }
    return g;
  }

  /** Returns e.g. {@code 1 x AMD EPYC 7B13, 2 x NVIDIA H200}. */
  public static String hardwareUsed(EnergySnapshot s) {
    List<String> parts = new ArrayList<>();
    CarbonDetail d = s.detail();
    if (d != null && d.hardware() != null) {
      parts.add(d.hardware().sockets() + " x " + d.hardware().cpuModel());
    }
    for (Map.Entry<String, Integer> g : gpuModels(s).entrySet()) {
      parts.add(g.getValue() + " x " + g.getKey());
    }
    return String.join(", ", parts);
  }

  /** GPU model name to the number of GPUs of that model measured. */
  static Map<String, Integer> gpuModels(EnergySnapshot s) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (DeviceEnergy dev : s.devices()) {
      if (dev.domain() == Domain.GPU) {
        String model = dev.detail().getOrDefault("modelName", "GPU");
        m.put(model, m.getOrDefault(model, 0) + 1);
      }
    }
    return m;
  }

  /** Returns the distinct intensity sources used, in order of first use. */
  public static List<String> sources(EnergySnapshot s) {
    Set<String> out = new LinkedHashSet<>();
    if (s.detail() != null) {
      for (IntensitySegment seg : s.detail().segments()) {
        out.add(seg.source());
      }
    }
    if (out.isEmpty() && s.carbon() != null) {
      out.add(s.carbon().intensitySource());
    }
    return new ArrayList<>(out);
  }

  /** Returns the Hugging Face {@code geographical_location}: the zone, else a description. */
  public static String location(EnergySnapshot s) {
    CarbonDetail d = s.detail();
    return d != null && d.zone() != null ? d.zone() : "not set (world average intensity)";
  }

  /**
   * Renders the Hugging Face model-card block, emissions in grams.
   *
   * @param s the snapshot
   * @return YAML lines, each ending in a newline
   */
  public static String huggingFaceYaml(EnergySnapshot s) {
    PhaseEnergy t = s.totals();
    CarbonDetail d = s.detail();
    return "co2_eq_emissions:\n"
        + "  emissions: "
        + num(t.operationalGrams(), 4)
        + "\n"
        + "  source: "
        + quote("JouleTrace (energy x PUE x grid intensity: " + String.join("; ", sources(s)) + ")")
        + "\n"
        + "  training_type: "
        + quote(d == null ? "pre-training" : d.trainingType())
        + "\n"
        + "  geographical_location: "
        + quote(location(s))
        + "\n"
        + "  hardware_used: "
        + quote(hardwareUsed(s))
        + "\n";
  }

  private static String quote(String v) {
    return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /**
   * Renders the Markdown statement.
   *
   * @param s a final snapshot with carbon
   * @return Markdown, ending with a newline
   */
  public static String markdown(EnergySnapshot s) {
    StringBuilder b = new StringBuilder();
    PhaseEnergy t = s.totals();
    CarbonDetail d = s.detail();
    EnergySnapshot.CarbonFactors c = s.carbon();
    b.append("# Carbon statement\n\n");
    b.append("Measured by JouleTrace from ")
        .append(IsoInstant.format(s.startedAt()))
        .append(" to ")
        .append(s.endedAt() == null ? "(running)" : IsoInstant.format(s.endedAt()))
        .append(": ")
        .append(num(s.wallSeconds(), 2))
        .append(" s of wall time, stage `")
        .append(s.stage())
        .append("`, attribution `")
        .append(s.attribution())
        .append("`.\n\n");

    b.append("## Hardware\n\n");
    if (d != null && d.hardware() != null) {
      b.append("- CPU: ")
          .append(d.hardware().cpuModel())
          .append(", ")
          .append(d.hardware().sockets())
          .append(" socket(s)\n");
    }
    Map<String, Integer> gpus = gpuModels(s);
    if (gpus.isEmpty()) {
      b.append("- GPU: none measured\n");
    } else {
      for (Map.Entry<String, Integer> g : gpus.entrySet()) {
        b.append("- GPU: ").append(g.getKey()).append(" x ").append(g.getValue()).append('\n');
      }
    }

    b.append("\n## Energy\n\n| domain | joules | kWh | method |\n| --- | ---: | ---: | --- |\n");
    for (Domain dom : Domain.values()) {
      String method = s.methods().get(dom);
      if (method != null) {
        double j = t.joules(dom);
        b.append("| ")
            .append(dom.label())
            .append(" | ")
            .append(num(j, 2))
            .append(" | ")
            .append(num(j / JOULES_PER_KWH, 8))
            .append(" | ")
            .append(method)
            .append(" |\n");
      }
    }
    b.append("| total (IT) | ")
        .append(num(t.totalJoules(), 2))
        .append(" | ")
        .append(num(t.totalJoules() / JOULES_PER_KWH, 8))
        .append(" | |\n\n");
    b.append("PUE ")
        .append(num(c.pue(), 2))
        .append(": facility energy ")
        .append(num(t.totalJoules() * c.pue() / JOULES_PER_KWH, 8))
        .append(" kWh.\n\n");

    b.append("## Grid intensity\n\n");
    b.append("- zone: ").append(location(s)).append('\n');
    b.append("- time-weighted intensity: ")
        .append(num(d == null ? c.intensityGramsPerKwh() : d.timeWeightedIntensity(), 2))
        .append(" gCO2e/kWh (")
        .append(d == null ? "lifecycle" : d.factorType())
        .append(" emission factors)\n");
    b.append("- source: ").append(String.join("; ", sources(s))).append("\n\n");
    if (d != null && !d.segments().isEmpty()) {
      b.append(
          "| from | to | gCO2e/kWh | source | factor type | estimated |\n"
              + "| --- | --- | ---: | --- | --- | --- |\n");
      int n = 0;
      for (IntensitySegment seg : d.segments()) {
        if (n++ == SEGMENTS_SHOWN) {
          b.append("| ... | | | ")
              .append(d.segments().size() - SEGMENTS_SHOWN)
              .append(" more in the JSON report | | |\n");
          break;
        }
        b.append("| ")
            .append(IsoInstant.format(seg.from()))
            .append(" | ")
            .append(IsoInstant.format(seg.to()))
            .append(" | ")
            .append(num(seg.gramsPerKwh(), 2))
            .append(" | ")
            .append(seg.source())
            .append(" | ")
            .append(seg.factorType())
            .append(" | ")
            .append(seg.estimated() ? "yes" : "no")
            .append(" |\n");
      }
      b.append('\n');
    }

    b.append("## Carbon\n\n| figure | gCO2e |\n| --- | ---: |\n");
    b.append("| operational, location-based (energy x PUE x grid intensity) | ")
        .append(num(t.operationalGrams(), 4))
        .append(" |\n");
    double market = marketGrams(s);
    b.append("| operational, market-based | ")
        .append(Double.isNaN(market) ? "not configured" : num(market, 4))
        .append(" |\n");
    b.append("| embodied (hardware manufacturing, amortised) | ")
        .append(num(t.embodiedGrams(), 4))
        .append(" |\n");
    b.append("| **total** (location-based operational + embodied) | **")
        .append(num(t.totalGrams(), 4))
        .append("** |\n\n");
    if (d != null && d.market() != null) {
      b.append("Market-based basis: ").append(d.market().description()).append(".\n\n");
    }
    if (d != null && d.embodied() != null) {
      CarbonDetail.Embodied e = d.embodied();
      b.append("Embodied, SCI `M = TE x (TiR / EL) x (RR / ToR)`: TE = ")
          .append(num(e.serverKg(), 0))
          .append(" kgCO2e for the server (")
          .append(e.serverSource())
          .append(")");
      for (GpuEmbodied g : e.gpus()) {
        b.append(" + ")
            .append(num(g.kg(), 0))
            .append(" kgCO2e for ")
            .append(g.device())
            .append(" (")
            .append(g.model())
            .append("; ")
            .append(g.source())
            .append("; mean share ")
            .append(num(g.meanShare(), 3))
            .append(")");
      }
      b.append("; TiR = the job's wall time; EL = ")
          .append(num(e.lifetimeYears(), 2))
          .append(" years x utilization ")
          .append(num(e.utilization(), 2))
          .append(
              "; RR / ToR = the job's CPU share of the machine, and its share of each GPU.\n\n");
    }

    List<Efficiency> eff = efficiency(s);
    if (!eff.isEmpty()) {
      b.append("## Efficiency (per unit of work, SCI's R)\n\n");
      if (d != null && d.warmupSeconds() > 0) {
        b.append("The first ")
            .append(num(d.warmupSeconds(), 1))
            .append(" s (warm-up) are left out of the per-unit figures.\n\n");
      }
      b.append(
          "| phase | unit | units | J/unit | gCO2e/unit | units/s |\n"
              + "| --- | --- | ---: | ---: | ---: | ---: |\n");
      for (Efficiency e : eff) {
        b.append("| ")
            .append(e.phase())
            .append(" | ")
            .append(e.unit())
            .append(" | ")
            .append(e.units())
            .append(" | ")
            .append(num(e.joulesPerUnit(), 4))
            .append(" | ")
            .append(sci(e.gramsPerUnit()))
            .append(" | ")
            .append(num(e.unitsPerSecond(), 1))
            .append(" |\n");
      }
      b.append('\n');
    }

    EnergySnapshot.AgentCost a = s.agent();
    if (a != null) {
      b.append("## Measuring cost\n\n")
          .append("JouleTrace's own work took ")
          .append(num(a.cpuSeconds(), 3))
          .append(" CPU-s, ")
          .append(num(a.cpuShare() * 100, 1))
          .append(" % of the process's CPU time: ")
          .append(num(a.joules(), 2))
          .append(" J and ")
          .append(sci(a.grams()))
          .append(" gCO2e under the same attribution, included in the figures above.\n\n");
    }

    b.append("## Model card (Hugging Face)\n\n");
    b.append(
        "Emissions in grams: location-based operational carbon; embodied carbon is above.\n\n");
    b.append("```yaml\n").append(huggingFaceYaml(s)).append("```\n");
    return b.toString();
  }

  static String num(double v, int decimals) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return Decimals.fixed(v, decimals);
  }

  private static String sci(double v) {
    return Double.isNaN(v) ? "n/a" : Decimals.significant(v, 4);
  }

  /**
   * Writes the Markdown statement atomically, creating parent folders.
   *
   * @param s the final snapshot
   * @param file destination
   * @throws IOException when it cannot be written
   */
  public static void write(EnergySnapshot s, Path file) throws IOException {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    AtomicWrite.write(abs, markdown(s), ".md.tmp");
  }
}

package io.jouletrace.exporter;

import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Domain;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** The compact per-phase table printed at exit. */
public final class PhaseTable {

  private PhaseTable() {}

  /**
   * Renders the table, phases by descending energy, then a total line.
   *
   * @param s the snapshot
   * @return several lines, each ending in a newline
   */
  public static String render(EnergySnapshot s) {
    PhaseEnergy total = s.totals();
    List<PhaseEnergy> rows = new ArrayList<>(s.phases());
    rows.sort(Comparator.comparingDouble(PhaseEnergy::totalJoules).reversed());
    String method = methodSummary(s);
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "JouleTrace: %.1f s, attribution=%s, stage=%s, %.0f gCO2e/kWh x PUE %.2f%n",
            s.wallSeconds(),
            s.attribution(),
            s.stage(),
            s.carbon().intensityGramsPerKwh(),
            s.carbon().pue()));
    String fmt = "%-22s %9s %11s %6s %10s  %s%n";
    b.append(
        String.format(Locale.ROOT, fmt, "phase", "seconds", "joules", "share", "gCO2e", "method"));
    for (PhaseEnergy p : rows) {
      row(b, fmt, p, total.totalJoules(), method);
    }
    row(b, fmt, total, total.totalJoules(), method);
    if (s.agent() != null) {
      EnergySnapshot.AgentCost a = s.agent();
      b.append(
          String.format(
              Locale.ROOT,
              "measuring cost: %.2f CPU-s of the agent's threads (%.1f %% of the process), %.2f J,"
                  + " %.4f gCO2e, included above%n",
              a.cpuSeconds(),
              a.cpuShare() * 100,
              a.joules(),
              a.grams()));
    }
    return b.toString();
  }

  private static void row(StringBuilder b, String fmt, PhaseEnergy p, double all, String method) {
    double share = all > 0 ? p.totalJoules() / all * 100 : 0;
    b.append(
        String.format(
            Locale.ROOT,
            fmt,
            p.name(),
            String.format(Locale.ROOT, "%.2f", p.wallSeconds()),
            String.format(Locale.ROOT, "%.2f", p.totalJoules()),
            String.format(Locale.ROOT, "%.1f%%", share),
            String.format(Locale.ROOT, "%.4f", p.totalGrams()),
            method));
  }

  /** One word per domain, e.g. {@code cpu:estimated dram:estimated}. */
  static String methodSummary(EnergySnapshot s) {
    StringBuilder b = new StringBuilder();
    for (Domain d : Domain.values()) {
      String m = s.methods().get(d);
      if (m != null) {
        if (b.length() > 0) {
          b.append(' ');
        }
        b.append(d.label()).append(':').append(m);
      }
    }
    return b.length() == 0 ? "none" : b.toString();
  }
}

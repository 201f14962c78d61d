package io.jouletrace.exporter;

import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Domain;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

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
    rows.sort(BY_ENERGY_DESCENDING);
    String method = methodSummary(s);
    StringBuilder b = new StringBuilder();
    String nl = System.lineSeparator();
    b.append("JouleTrace: ")
        .append(Decimals.fixed(s.wallSeconds(), 1))
        .append(" s, attribution=")
        .append(s.attribution())
        .append(", stage=")
        .append(s.stage())
        .append(", ")
        .append(Decimals.fixed(s.carbon().intensityGramsPerKwh(), 0))
        .append(" gCO2e/kWh x PUE ")
        .append(Decimals.fixed(s.carbon().pue(), 2))
        .append(nl);
    line(b, "phase", "seconds", "joules", "share", "gCO2e", "method");
    for (PhaseEnergy p : rows) {
      row(b, p, total.totalJoules(), method);
    }
    row(b, total, total.totalJoules(), method);
    if (s.agent() != null) {
      EnergySnapshot.AgentCost a = s.agent();
      b.append("measuring cost: ")
          .append(Decimals.fixed(a.cpuSeconds(), 2))
          .append(" CPU-s of the agent's own work (")
          .append(Decimals.fixed(a.cpuShare() * 100, 1))
          .append(" % of the process), ")
          .append(Decimals.fixed(a.joules(), 2))
          .append(" J, ")
          .append(Decimals.fixed(a.grams(), 4))
          .append(" gCO2e, included above")
          .append(nl);
    }
    return b.toString();
  }

  private static void row(StringBuilder b, PhaseEnergy p, double all, String method) {
    double share = all > 0 ? p.totalJoules() / all * 100 : 0;
    line(
        b,
        shown(p.name()),
        Decimals.fixed(p.wallSeconds(), 2),
        Decimals.fixed(p.totalJoules(), 2),
        Decimals.fixed(share, 1) + "%",
        Decimals.fixed(p.totalGrams(), 4),
        method);
  }

  /** Names longer than this are cut in the table (the reports keep them whole). */
  static final int MAX_NAME = 60;

  /**
   * A phase name as the table shows it, one line whatever the name: control characters written as
   * escapes ({@code \n}, {@code \t}, and a backslash, {@code u} and four hex digits for the
   * others), backslashes doubled, and a name longer than {@value #MAX_NAME} characters cut, with
   * {@code ...} at the end.
   */
  static String shown(String name) {
    StringBuilder b = new StringBuilder(Math.min(name.length(), MAX_NAME) + 8);
    int i = 0;
    for (; i < name.length() && b.length() <= MAX_NAME; i++) {
      char c = name.charAt(i);
      switch (c) {
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 15]);
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.length() <= MAX_NAME && i == name.length()
        ? b.toString()
        : b.substring(0, MAX_NAME - 3) + "...";
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** One line of the table: the columns are 22, 9, 11, 6 and 10 characters wide. */
  private static void line(
      StringBuilder b,
      String phase,
      String seconds,
      String joules,
      String share,
      String grams,
      String method) {
    b.append(Decimals.left(phase, 22))
        .append(' ')
        .append(Decimals.right(seconds, 9))
        .append(' ')
        .append(Decimals.right(joules, 11))
        .append(' ')
        .append(Decimals.right(share, 6))
        .append(' ')
        .append(Decimals.right(grams, 10))
        .append("  ")
        .append(method)
        .append(System.lineSeparator());
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

  /**
   * Phases by descending energy. A class rather than {@code Comparator.comparingDouble(...)}: the
   * JVM spins a class for each lambda or method reference at its first use, on the exit path here.
   */
  private static final Comparator<PhaseEnergy> BY_ENERGY_DESCENDING = new ByEnergyDescending();

  private static final class ByEnergyDescending implements Comparator<PhaseEnergy> {
    @Override
    public int compare(PhaseEnergy a, PhaseEnergy b) {
      return Double.compare(b.totalJoules(), a.totalJoules());
    }
  }
}

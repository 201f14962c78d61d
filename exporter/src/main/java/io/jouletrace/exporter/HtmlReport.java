package io.jouletrace.exporter;

import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseBand;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.exporter.EnergySnapshot.PowerPoint;
import io.jouletrace.exporter.EnergySnapshot.PowerSeries;
import io.jouletrace.sources.Domain;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, no font, no request to
 * anything) with power over time per device and the phases as bands behind it, energy and carbon
 * per phase, which figures are measured and which estimated, the devices, a carbon statement and
 * the run's warnings. Its size is bounded by the snapshot's {@link EnergySnapshot.Timeline}, itself
 * bounded whatever the run's length.
 */
public final class HtmlReport {

  private static final String[] PHASE_COLOURS = {
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
    "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f"
  };
  private static final String[] LINE_COLOURS = {
    "#1b5e20", "#0d47a1", "#b71c1c", "#4a148c", "#e65100", "#006064", "#3e2723", "#263238"
  };
  private static final int W = 960;
  private static final int H = 320;
  private static final int LEFT = 60;
  private static final int RIGHT = 20;
  private static final int TOP = 20;
  private static final int BOTTOM = 40;

  private HtmlReport() {}

  /**
   * Writes the report atomically (a temporary file in the same folder, then a rename). The folder
   * must exist.
   *
   * @param s the snapshot
   * @param file destination
   * @throws IOException naming the file when its folder is missing or not writable
   */
  public static void write(EnergySnapshot s, Path file) throws IOException {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw new NoSuchFileException(abs.toString(), null, "folder " + dir + " does not exist");
    }
    if (dir != null && !Files.isWritable(dir)) {
      throw new AccessDeniedException(abs.toString(), null, "folder " + dir + " is not writable");
    }
    AtomicWrite.write(abs, render(s), ".html.tmp");
  }

  /**
   * Renders the page.
   *
   * @param s the snapshot
   * @return the HTML document
   */
  public static String render(EnergySnapshot s) {
    StringBuilder b = new StringBuilder(64 * 1024);
    PhaseEnergy total = s.totals();
    Map<String, String> colours = phaseColours(s);
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>JouleTrace report")
        .append(s.runId() == null ? "" : " " + esc(s.runId()))
        .append("</title>\n<style>")
        .append("body{font-family:sans-serif;margin:24px;color:#222;background:#fff}")
        .append("table{border-collapse:collapse;margin:8px 0}")
        .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
        .append("td:first-child,th:first-child{text-align:left}")
        .append(
            ".measured{color:#1b5e20;font-weight:bold}.estimated{color:#b71c1c;font-weight:bold}")
        .append(".swatch{display:inline-block;width:12px;height:12px;margin-right:4px;")
        .append("vertical-align:middle;border:1px solid #999}")
        .append("svg text{font-size:11px;font-family:sans-serif}")
        .append("</style></head><body>\n");
    b.append("<h1>JouleTrace run report</h1>\n<p id=\"run\">");
    if (s.runId() != null) {
      b.append("run <b>").append(esc(s.runId())).append("</b>, ");
    }
    b.append("started ").append(esc(IsoInstant.format(s.startedAt())));
    if (s.endedAt() != null) {
      b.append(", ended ").append(esc(IsoInstant.format(s.endedAt())));
    }
    b.append(", ")
        .append(f(s.wallSeconds(), 1))
        .append(" s, stage <b>")
        .append(esc(s.stage()))
        .append("</b>, attribution ")
        .append(esc(s.attribution()));
    new TreeMap<>(s.labels())
        .forEach((k, v) -> b.append(", ").append(esc(k)).append('=').append(esc(v)));
    b.append("</p>\n");

    statement(b, s, total);
    methods(b, s);
    power(b, s, colours);
    phases(b, s, total, colours);
    efficiency(b, s);
    methodsEnergy(b, s);
    flameGraph(b, s);
    devices(b, s);
    measuringCost(b, s);
    if (!s.warnings().isEmpty()) {
      b.append("<h2>Warnings</h2>\n<ul id=\"warnings\">");
      for (String w : s.warnings()) {
        b.append("<li>").append(esc(w)).append("</li>");
      }
      b.append("</ul>\n");
    }
    b.append("</body></html>\n");
    return b.toString();
  }

  private static void statement(StringBuilder b, EnergySnapshot s, PhaseEnergy t) {
    EnergySnapshot.CarbonFactors c = s.carbon();
    boolean estimated = s.methods().containsValue("estimated");
    b.append("<h2>Carbon statement</h2>\n<p id=\"statement\">This run used ")
        .append(f(t.totalJoules(), 1))
        .append(" J (")
        .append(f(t.totalJoules() / 3.6e6 * 1000, 4))
        .append(" Wh) and caused ")
        .append(f(t.totalGrams(), 4))
        .append(" g CO2e: ")
        .append(f(t.operationalGrams(), 4))
        .append(" g operational (")
        .append(f(c.intensityGramsPerKwh(), 0))
        .append(" gCO2e/kWh, ")
        .append(esc(c.intensitySource()))
        .append(", PUE ")
        .append(f(c.pue(), 2))
        .append(") and ")
        .append(f(t.embodiedGrams(), 4))
        .append(" g embodied (")
        .append(f(c.embodiedKg(), 0))
        .append(" kg machine, ")
        .append(f(c.embodiedGpuKg(), 0))
        .append(" kg per GPU, over ")
        .append(f(c.lifetimeYears(), 1))
        .append(" years at ")
        .append(f(c.utilization() * 100, 0))
        .append(" % use). ")
        .append(
            estimated
                ? "Some figures are <span class=\"estimated\">estimated</span> from a power model,"
                    + " not read from a hardware counter."
                : "Every figure comes from a hardware counter.")
        .append("</p>\n");
  }

  private static void methods(StringBuilder b, EnergySnapshot s) {
    b.append("<h2>Measured or estimated</h2>\n<table id=\"methods\"><tr><th>domain</th>")
        .append("<th>method</th></tr>");
    for (Domain domain : Domain.values()) {
      String m = s.methods().get(domain);
      String d = domain.label();
      if (m != null) {
        b.append("<tr><td>")
            .append(d)
            .append("</td><td class=\"")
            .append(esc(m))
            .append("\">")
            .append(esc(m))
            .append("</td></tr>");
      }
    }
    b.append("</table>\n");
  }

  private static void power(StringBuilder b, EnergySnapshot s, Map<String, String> colours) {
    EnergySnapshot.Timeline tl = s.timeline();
    b.append("<h2>Power over time</h2>\n");
    double tMax = 0;
    double wMax = 0;
    for (PowerSeries ps : tl.devices()) {
      for (PowerPoint p : ps.points()) {
        tMax = Math.max(tMax, p.end());
        wMax = Math.max(wMax, p.watts());
      }
    }
    for (PhaseBand band : tl.bands()) {
      tMax = Math.max(tMax, band.end());
    }
    if (tMax <= 0) {
      b.append("<p>No power timeline was recorded.</p>\n");
      return;
    }
    wMax = niceCeiling(wMax * 1.04); // headroom: a line at the top stays off the frame
    double plotW = W - LEFT - RIGHT;
    double plotH = H - TOP - BOTTOM;
    b.append("<svg id=\"power\" width=\"")
        .append(W)
        .append("\" height=\"")
        .append(H)
        .append("\" viewBox=\"0 0 ")
        .append(W)
        .append(' ')
        .append(H)
        .append("\">");
    b.append("<rect x=\"0\" y=\"0\" width=\"").append(W).append("\" height=\"").append(H);
    b.append("\" fill=\"#fff\"/>");
    for (PhaseBand band : tl.bands()) {
      double x0 = LEFT + band.start() / tMax * plotW;
      double x1 = LEFT + band.end() / tMax * plotW;
      b.append("<rect class=\"band\" x=\"")
          .append(f(x0, 1))
          .append("\" y=\"")
          .append(TOP)
          .append("\" width=\"")
          .append(f(Math.max(0.5, x1 - x0), 1))
          .append("\" height=\"")
          .append(f(plotH, 0))
          .append("\" fill-opacity=\"0.5\" fill=\"")
          .append(colours.getOrDefault(band.phase(), "#eee"))
          .append("\"><title>")
          .append(esc(band.phase()))
          .append("</title></rect>");
    }
    // Axes and ticks.
    b.append("<g stroke=\"#444\" fill=\"none\"><path d=\"M")
        .append(LEFT)
        .append(' ')
        .append(TOP)
        .append(" V")
        .append(H - BOTTOM)
        .append(" H")
        .append(W - RIGHT)
        .append("\"/></g>");
    for (int i = 0; i <= 4; i++) {
      double y = TOP + plotH - i / 4.0 * plotH;
      b.append("<text x=\"")
          .append(LEFT - 6)
          .append("\" y=\"")
          .append(f(y + 4, 1))
          .append("\" text-anchor=\"end\">")
          .append(f(wMax * i / 4, tickDecimals(wMax / 4)))
          .append("</text>");
      double x = LEFT + i / 4.0 * plotW;
      b.append("<text x=\"")
          .append(f(x, 1))
          .append("\" y=\"")
          .append(H - BOTTOM + 16)
          .append("\" text-anchor=\"middle\">")
          .append(f(tMax * i / 4, tMax >= 40 ? 0 : 1))
          .append(" s</text>");
    }
    b.append("<text x=\"14\" y=\"")
        .append(TOP + (int) plotH / 2)
        .append("\" transform=\"rotate(-90 14 ")
        .append(TOP + (int) plotH / 2)
        .append(")\" text-anchor=\"middle\">watts</text>");
    int i = 0;
    for (PowerSeries ps : tl.devices()) {
      String colour = LINE_COLOURS[i++ % LINE_COLOURS.length];
      b.append("<polyline class=\"device\" fill=\"none\" stroke-width=\"2\" stroke=\"")
          .append(colour)
          .append(ps.measured() ? "" : "\" stroke-dasharray=\"5 3")
          .append("\" points=\"");
      for (PowerPoint p : ps.points()) {
        double y = TOP + plotH - (wMax > 0 ? p.watts() / wMax : 0) * plotH;
        b.append(f(LEFT + p.start() / tMax * plotW, 1))
            .append(',')
            .append(f(y, 1))
            .append(' ')
            .append(f(LEFT + p.end() / tMax * plotW, 1))
            .append(',')
            .append(f(y, 1))
            .append(' ');
      }
      b.append("\"><title>")
          .append(esc(ps.id()))
          .append(" (")
          .append(esc(ps.domain()))
          .append(")</title></polyline>");
    }
    b.append("</svg>\n<p id=\"legend\">");
    i = 0;
    for (PowerSeries ps : tl.devices()) {
      b.append("<span class=\"swatch\" style=\"background:")
          .append(LINE_COLOURS[i++ % LINE_COLOURS.length])
          .append("\"></span>")
          .append(esc(ps.id()))
          .append(" (")
          .append(esc(ps.domain()))
          .append(", ")
          .append(ps.measured() ? "measured" : "estimated, dashed")
          .append(") &nbsp; ");
    }
    b.append("<br>Bands: the phase that held most of each stretch of time: ");
    colours.forEach(
        (phase, c) ->
            b.append("<span class=\"swatch\" style=\"background:")
                .append(c)
                .append("\"></span>")
                .append(esc(phase))
                .append(" &nbsp; "));
    b.append("</p>\n");
  }

  private static void phases(
      StringBuilder b, EnergySnapshot s, PhaseEnergy total, Map<String, String> colours) {
    b.append("<h2>Energy and carbon per phase</h2>\n<table id=\"phases\"><tr><th>phase</th>")
        .append("<th>seconds</th><th>joules</th><th>share</th><th></th><th>g CO2e operational</th>")
        .append("<th>g CO2e embodied</th><th>g CO2e total</th></tr>");
    List<PhaseEnergy> rows = new ArrayList<>(s.phases());
    rows.sort((x, y) -> Double.compare(y.totalJoules(), x.totalJoules()));
    rows.add(total);
    for (PhaseEnergy p : rows) {
      double share = total.totalJoules() > 0 ? p.totalJoules() / total.totalJoules() : 0;
      b.append("<tr><td>")
          .append(esc(p.name()))
          .append("</td><td>")
          .append(f(p.wallSeconds(), 2))
          .append("</td><td>")
          .append(f(p.totalJoules(), 2))
          .append("</td><td>")
          .append(f(share * 100, 1))
          .append(" %</td><td><svg width=\"160\" height=\"12\"><rect width=\"")
          .append(f(160 * share, 1))
          .append("\" height=\"12\" fill=\"")
          .append(colours.getOrDefault(p.name(), "#888"))
          .append("\"/></svg></td><td>")
          .append(f(p.operationalGrams(), 5))
          .append("</td><td>")
          .append(f(p.embodiedGrams(), 5))
          .append("</td><td>")
          .append(f(p.totalGrams(), 5))
          .append("</td></tr>");
    }
    b.append("</table>\n");
  }

  private static void devices(StringBuilder b, EnergySnapshot s) {
    b.append("<h2>Devices</h2>\n<table id=\"devices\"><tr><th>device</th><th>domain</th>")
        .append("<th>source</th><th>method</th><th>joules</th><th>latest watts</th>")
        .append("<th>seconds measured</th></tr>");
    for (DeviceEnergy d : s.devices()) {
      String m = d.measured() ? "measured" : "estimated";
      b.append("<tr><td>")
          .append(esc(d.id()))
          .append("</td><td>")
          .append(esc(d.domain().label()))
          .append("</td><td>")
          .append(esc(d.source()))
          .append("</td><td class=\"")
          .append(m)
          .append("\">")
          .append(m)
          .append("</td><td>")
          .append(f(d.joules(), 2))
          .append("</td><td>")
          .append(f(d.watts(), 2))
          .append("</td><td>")
          .append(f(d.seconds(), 2))
          .append("</td></tr>");
    }
    b.append("</table>\n");
  }

  /** Phases in report order, each with its colour. */
  private static Map<String, String> phaseColours(EnergySnapshot s) {
    Map<String, String> out = new LinkedHashMap<>();
    for (PhaseEnergy p : s.phases()) {
      out.putIfAbsent(p.name(), PHASE_COLOURS[out.size() % PHASE_COLOURS.length]);
    }
    for (PhaseBand band : s.timeline().bands()) {
      out.putIfAbsent(band.phase(), PHASE_COLOURS[out.size() % PHASE_COLOURS.length]);
    }
    return out;
  }

  /** Decimals that tell a tick step apart: 0 from 10 W, 1 from 1 W, more below (at most 4). */
  static int tickDecimals(double step) {
    if (step >= 10) {
      return 0;
    }
    if (step >= 1 || !(step > 0)) {
      return 1;
    }
    return Math.min(4, (int) Math.ceil(-Math.log10(step)) + 1);
  }

  static double niceCeiling(double v) {
    if (!(v > 0)) {
      return 1;
    }
    double mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10}) {
      if (m * mag >= v) {
        return m * mag;
      }
    }
    return 10 * mag;
  }

  /** Work units and energy and carbon per unit, per phase and in total (SCI's R). */
  private static void efficiency(StringBuilder b, EnergySnapshot s) {
    if (s.detail() == null) {
      return;
    }
    List<CarbonStatement.Efficiency> lines = CarbonStatement.efficiency(s);
    if (lines.isEmpty()) {
      return;
    }
    b.append("<h2>Work and efficiency</h2>\n<table id=\"efficiency\"><tr><th>phase</th>")
        .append("<th>unit</th><th>units</th><th>joules per unit</th><th>gCO2e per unit</th>")
        .append("<th>units per second</th></tr>");
    for (CarbonStatement.Efficiency e : lines) {
      b.append("<tr><td>")
          .append(esc(e.phase()))
          .append("</td><td>")
          .append(esc(e.unit()))
          .append("</td><td class=\"n\">")
          .append(e.units())
          .append("</td><td class=\"n\">")
          .append(Decimals.significant(e.joulesPerUnit(), 4))
          .append("</td><td class=\"n\">")
          .append(Decimals.significant(e.gramsPerUnit(), 4))
          .append("</td><td class=\"n\">")
          .append(f(e.unitsPerSecond(), 1))
          .append("</td></tr>");
    }
    b.append("</table>\n");
    if (s.detail().warmupSeconds() > 0) {
      b.append("<p>Per-unit figures leave out the first ")
          .append(f(s.detail().warmupSeconds(), 1))
          .append(" s of the run (warm-up); the counts are for the whole run.</p>\n");
    }
  }

  /** Methods listed per table in the energy-per-method section. */
  static final int TOP_METHODS = 10;

  /**
   * The profiler's energy per method, with or without folded stacks: the methods with the most
   * energy of their own, and the most energy with what they called, over the whole run.
   */
  private static void methodsEnergy(StringBuilder b, EnergySnapshot s) {
    EnergyProfile p = s.profile();
    if (p == null) {
      return;
    }
    b.append("<h2>Energy per method</h2>\n<p>")
        .append(f(p.joules(), 2))
        .append(" J shared among ")
        .append(p.samples())
        .append(" stack samples; <code>[...]</code> rows are energy no sample could be given to")
        .append(" (see the README's Profiler section).</p>\n");
    methodTable(b, "methods-self", "own energy", p.overall().bySelf(), p.overall().joules(), true);
    methodTable(
        b,
        "methods-total",
        "with what it called",
        p.overall().byTotal(),
        p.overall().joules(),
        false);
  }

  private static void methodTable(
      StringBuilder b,
      String id,
      String what,
      List<EnergyProfile.MethodEnergy> rows,
      double all,
      boolean self) {
    b.append("<table id=\"")
        .append(id)
        .append("\"><tr><th>method (")
        .append(what)
        .append(")</th><th>joules</th><th>share</th><th>samples</th></tr>");
    for (int i = 0; i < rows.size() && i < TOP_METHODS; i++) {
      EnergyProfile.MethodEnergy m = rows.get(i);
      double j = self ? m.selfJoules() : m.totalJoules();
      b.append("<tr><td>")
          .append(esc(m.method()))
          .append("</td><td>")
          .append(f(j, 3))
          .append("</td><td>")
          .append(f(all > 0 ? j / all * 100 : 0, 1))
          .append(" %</td><td>")
          .append(m.samples())
          .append("</td></tr>");
    }
    b.append("</table>\n");
  }

  /**
   * What measuring cost in this run: the agent's own CPU time, by thread, and what it stands for.
   */
  private static void measuringCost(StringBuilder b, EnergySnapshot s) {
    EnergySnapshot.AgentCost a = s.agent();
    if (a == null) {
      return;
    }
    b.append("<h2>Measuring cost</h2>\n<p id=\"agent\">The agent's own work took ")
        .append(f(a.cpuSeconds(), 3))
        .append(" CPU-s, ")
        .append(f(a.cpuShare() * 100, 1))
        .append(" % of the process's ")
        .append(f(a.processCpuSeconds(), 2))
        .append(" CPU-s; under the same attribution that stands for ")
        .append(f(a.joules(), 2))
        .append(" J and ")
        .append(f(a.grams(), 5))
        .append(" g CO2e, included in the figures above.</p>\n")
        .append("<table id=\"agent-threads\"><tr><th>thread</th><th>CPU-s</th></tr>");
    List<Map.Entry<String, Double>> threads = new ArrayList<>(a.threads().entrySet());
    threads.sort(Map.Entry.<String, Double>comparingByValue().reversed());
    for (Map.Entry<String, Double> t : threads) {
      b.append("<tr><td>")
          .append(esc(t.getKey()))
          .append("</td><td>")
          .append(f(t.getValue(), 3))
          .append("</td></tr>");
    }
    b.append("</table>\n");
  }

  /** Phases that get a flame graph of their own, the ones with the most profiled energy. */
  static final int FLAME_PHASES = 12;

  /**
   * The energy flame graph of the profiler's folded stacks (in memory, else the file written): one
   * for all phases and one per phase, picked with radio buttons that plain CSS turns into a filter
   * (no script). The buttons come first and are siblings of the graphs, as the CSS sibling selector
   * needs; their labels, in a line above the graphs, are what one clicks.
   */
  private static void flameGraph(StringBuilder b, EnergySnapshot s) {
    if (s.profile() == null
        || (s.profile().folded() == null && s.profile().collapsedFile() == null)) {
      return;
    }
    String folded = s.profile().folded();
    if (folded == null) {
      try {
        folded = Files.readString(Path.of(s.profile().collapsedFile()), StandardCharsets.UTF_8);
      } catch (IOException | RuntimeException e) {
        b.append("<p>Flame graph not shown: ").append(esc(e.toString())).append("</p>\n");
        return;
      }
    }
    List<String> phases = new ArrayList<>();
    phases.add(null);
    for (EnergyProfile.PhaseMethods p : s.profile().phases()) {
      if (phases.size() <= FLAME_PHASES) {
        phases.add(p.phase());
      }
    }
    b.append("<h2>Energy flame graph</h2>\n<div id=\"flamegraph\">");
    StringBuilder labels = new StringBuilder("<p>Phase: ");
    StringBuilder shown = new StringBuilder();
    StringBuilder picked = new StringBuilder();
    for (int i = 0; i < phases.size(); i++) {
      b.append("<input type=\"radio\" name=\"fg\" id=\"fg")
          .append(i)
          .append(i == 0 ? "\" checked>" : "\">");
      labels
          .append("<label for=\"fg")
          .append(i)
          .append("\">")
          .append(i == 0 ? "all" : esc(phases.get(i)))
          .append("</label> ");
      String sep = i == 0 ? "" : ",";
      shown.append(sep).append("#fg").append(i).append(":checked~#fg").append(i).append("-graph");
      picked
          .append(sep)
          .append("#fg")
          .append(i)
          .append(":checked~p label[for=fg")
          .append(i)
          .append("]");
    }
    b.append('\n').append(labels).append("</p>\n");
    for (int i = 0; i < phases.size(); i++) {
      b.append("<div class=\"fg\" id=\"fg").append(i).append("-graph\">");
      try {
        b.append(FlameGraph.svg(new StringReader(folded), phases.get(i)));
      } catch (IOException e) {
        throw new UncheckedIOException(e); // a string does not fail to read
      }
      b.append("</div>\n");
    }
    b.append("<style>#flamegraph>input{position:absolute;opacity:0}")
        .append("#flamegraph label{cursor:pointer;margin-right:.6em}")
        .append("#flamegraph .fg{display:none}")
        .append(shown)
        .append("{display:block}")
        .append(picked)
        .append("{font-weight:bold;text-decoration:underline}</style></div>\n");
  }

  private static String f(double v, int decimals) {
    return Decimals.fixed(v, decimals);
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}

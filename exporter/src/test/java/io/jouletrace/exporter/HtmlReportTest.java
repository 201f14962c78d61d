package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jouletrace.exporter.EnergySnapshot.PhaseBand;
import io.jouletrace.exporter.EnergySnapshot.PowerPoint;
import io.jouletrace.exporter.EnergySnapshot.PowerSeries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {

  /** The largest timeline the agent keeps: 600 points per device, 600 bands. */
  static EnergySnapshot.Timeline fullTimeline(int devices, double seconds) {
    List<PowerSeries> series = new ArrayList<>();
    for (int d = 0; d < devices; d++) {
      List<PowerPoint> pts = new ArrayList<>();
      for (int i = 0; i < 600; i++) {
        pts.add(
            new PowerPoint(
                seconds * i / 600, seconds * (i + 1) / 600, 20 + 10 * Math.sin(i / 7.0) + d));
      }
      series.add(new PowerSeries("dev-" + d, d == 2 ? "gpu" : "cpu", d != 1, pts));
    }
    List<PhaseBand> bands = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      bands.add(
          new PhaseBand(
              i % 2 == 0 ? "train-step" : "data-loading",
              seconds * i / 600,
              seconds * (i + 1) / 600));
    }
    return new EnergySnapshot.Timeline(series, bands);
  }

  @Test
  void selfContainedWithPhasesMethodsAndStatement() {
    EnergySnapshot s = Snapshots.known().withRunId("run-<1>").withTimeline(fullTimeline(3, 3600));
    String html = HtmlReport.render(s);
    assertThat(html).startsWith("<!DOCTYPE html>").endsWith("</html>\n");
    // Nothing to fetch: no script, no stylesheet or image link, no URL at all.
    assertThat(html)
        .doesNotContain("<script", "<link", "<img", "http:", "https:", "url(", "@import");
    assertThat(html).contains("train-step", "other", "data-loading");
    assertThat(html).contains("run-&lt;1&gt;").doesNotContain("run-<1>");
    assertThat(html).contains("class=\"measured\">measured");
    assertThat(html).contains("id=\"statement\"", "0.9375 g CO2e", "0.6250 g operational");
    assertThat(html)
        .containsPattern("<polyline class=\"device\"[^>]*stroke-dasharray"); // estimated
    assertThat(countOf(html, "<rect class=\"band\"")).isEqualTo(600);
  }

  @Test
  void flameGraphForAllPhasesAndOnePerPhasePickedWithoutScript(@TempDir Path dir) throws Exception {
    Path folded = dir.resolve("run.collapsed");
    Files.writeString(
        folded,
        "train-step;Trainer.fit;Net.forward 600\n"
            + "train-step;Trainer.fit;Net.backward 300\n"
            + "data-loading;Loader.next;Decoder.decode 100\n");
    EnergyProfile.PhaseMethods train =
        new EnergyProfile.PhaseMethods("train-step", 0.9, List.of(), List.of());
    EnergyProfile.PhaseMethods load =
        new EnergyProfile.PhaseMethods("data-loading", 0.1, List.of(), List.of());
    EnergyProfile profile =
        new EnergyProfile(1.0, 50, 0, 6, 0, folded.toString(), train, List.of(train, load));
    String html = HtmlReport.render(Snapshots.known().withProfile(profile));
    String section = html.substring(html.indexOf("<div id=\"flamegraph\">"));
    section = section.substring(0, section.indexOf("</style></div>"));
    assertThat(html).doesNotContain("<script");
    assertThat(section)
        .contains(
            "<div id=\"flamegraph\"><input type=\"radio\" name=\"fg\" id=\"fg0\" checked>"
                + "<input type=\"radio\" name=\"fg\" id=\"fg1\"><input type=\"radio\" name=\"fg\""
                + " id=\"fg2\">\n<p>Phase: <label for=\"fg0\">all</label>",
            "<label for=\"fg1\">train-step</label>",
            "<label for=\"fg2\">data-loading</label>",
            "#fg0:checked~#fg0-graph,#fg1:checked~#fg1-graph,#fg2:checked~#fg2-graph{display:block}");
    assertThat(countOf(section, "<svg")).isEqualTo(3);
    String all = between(section, "id=\"fg0-graph\">", "</div>");
    String trainGraph = between(section, "id=\"fg1-graph\">", "</div>");
    String loadGraph = between(section, "id=\"fg2-graph\">", "</div>");
    assertThat(all).contains("train-step", "data-loading", "Net.forward", "Decoder.decode");
    assertThat(trainGraph).contains("Net.forward", "Net.backward").doesNotContain("Decoder.decode");
    assertThat(loadGraph).contains("Decoder.decode").doesNotContain("Net.forward");
  }

  @Test
  void energyPerMethodAndItsFlameGraphFromMemoryWithoutAFoldedStacksFile() {
    EnergyProfile.MethodEnergy forward =
        new EnergyProfile.MethodEnergy("Net.forward", 0.6, 0.6, 30);
    EnergyProfile.MethodEnergy fit = new EnergyProfile.MethodEnergy("Trainer.fit", 0.0, 0.9, 45);
    EnergyProfile.PhaseMethods all =
        new EnergyProfile.PhaseMethods("all", 1.0, List.of(forward, fit), List.of(fit, forward));
    EnergyProfile profile = new EnergyProfile(1.0, 50, 0, 6, 0, null, all, List.of(all));
    String noStacks = HtmlReport.render(Snapshots.known().withProfile(profile));
    String table = between(noStacks, "<table id=\"methods-self\">", "</table>");
    assertThat(table).contains("<td>Net.forward</td><td>0.600</td><td>60.0 %</td><td>30</td>");
    assertThat(between(noStacks, "<table id=\"methods-total\">", "</table>"))
        .contains("<td>Trainer.fit</td><td>0.900</td><td>90.0 %</td><td>45</td>");
    assertThat(noStacks).doesNotContain("id=\"flamegraph\"");
    String withStacks =
        HtmlReport.render(
            Snapshots.known()
                .withProfile(profile.withFolded("train-step;Trainer.fit;Net.forward 600\n")));
    assertThat(between(withStacks, "id=\"fg0-graph\">", "</div>"))
        .contains("Trainer.fit", "Net.forward");
  }

  @Test
  void measuringCostWithEachThread() {
    EnergySnapshot s =
        Snapshots.known()
            .withAgent(
                new EnergySnapshot.AgentCost(
                    0.25, java.util.Map.of("sampler", 0.05, "init", 0.2), 10.0, 8.75, 0.01));
    String html = HtmlReport.render(s);
    assertThat(between(html, "<p id=\"agent\">", "</p>"))
        .contains("0.250 CPU-s", "2.5 % of the process's 10.00 CPU-s", "8.75 J", "0.01000 g CO2e");
    assertThat(between(html, "<table id=\"agent-threads\">", "</table>"))
        .containsSubsequence("<td>init</td><td>0.200</td>", "<td>sampler</td><td>0.050</td>");
    assertThat(HtmlReport.render(Snapshots.known())).doesNotContain("Measuring cost");
  }

  @Test
  void thePowerAxisEndsOnAQuarterFriendlyValueAboveTheHighestPoint() {
    // 10 W at the top would draw a device's line on the frame: the axis ends at 12 (ticks of 3).
    assertThat(HtmlReport.niceCeiling(10 * 1.04)).isEqualTo(12.0);
    assertThat(HtmlReport.niceCeiling(0.9)).isEqualTo(1.0);
    assertThat(HtmlReport.niceCeiling(350)).isEqualTo(400.0);
    assertThat(HtmlReport.niceCeiling(0)).isEqualTo(1.0);
    // Tick labels tell their steps apart: 0.3 W steps get two decimals, 0.03 W three.
    assertThat(HtmlReport.tickDecimals(100 / 4.0)).isZero();
    assertThat(HtmlReport.tickDecimals(12 / 4.0)).isEqualTo(1);
    assertThat(HtmlReport.tickDecimals(1.2 / 4)).isEqualTo(2);
    assertThat(HtmlReport.tickDecimals(0.12 / 4)).isEqualTo(3);
  }

  private static String between(String s, String from, String to) {
    int a = s.indexOf(from) + from.length();
    return s.substring(a, s.indexOf(to, a));
  }

  @Test
  void oneHourRunStaysUnderOneMegabyte() {
    // Four devices (CPU, DRAM and two GPUs), each at the timeline's bound.
    EnergySnapshot s = Snapshots.known().withRunId("r").withTimeline(fullTimeline(4, 3600));
    byte[] bytes = HtmlReport.render(s).getBytes(StandardCharsets.UTF_8);
    assertThat(bytes.length).isLessThan(1_000_000);
  }

  @Test
  void writesAtomicallyAndNamesAMissingFolder(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("report.html");
    HtmlReport.write(Snapshots.known(), file);
    assertThat(Files.readString(file)).contains("JouleTrace run report");
    assertThat(Files.list(dir)).hasSize(1);
    assertThatThrownBy(() -> HtmlReport.write(Snapshots.known(), dir.resolve("no/r.html")))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(dir.resolve("no").toString());
  }

  private static int countOf(String s, String needle) {
    int n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void workUnitsAndEfficiencyPerPhase() {
    String html = HtmlReport.render(CarbonStatementTest.withDetail());
    // train-step: 400 samples in all, 320 after the warm-up, 240 J and 6 s after it
    assertThat(html)
        .contains(
            "id=\"efficiency\"",
            "<tr><td>train-step</td><td>samples</td><td class=\"n\">400</td>"
                + "<td class=\"n\">0.7500</td>",
            "<td class=\"n\">" + String.format(java.util.Locale.ROOT, "%.1f", 320 / 6.0) + "</td>");
    assertThat(HtmlReport.render(Snapshots.known())).doesNotContain("id=\"efficiency\"");
  }
}

package io.jouletrace.agent.carbon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jouletrace.agent.Log;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SeriesFileTest {

  @TempDir Path dir;

  private Path file(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  @Test
  void csvRowsWithOffsetsBecomePointsInForceUntilTheNext() throws Exception {
    Path p =
        file(
            "ok.csv",
            "# grid\ntimestamp,gco2e_per_kwh\n2026-11-29T10:00:00+01:00,320.5\n\n"
                + "2026-11-29T09:30:00Z,118\n");
    IntensityTimeline t = SeriesFile.read(p, "lifecycle");
    assertThat(t.points()).hasSize(2);
    assertThat(t.points().get(0).fromMillis())
        .isEqualTo(Instant.parse("2026-11-29T09:00:00Z").toEpochMilli());
    assertThat(t.points().get(1).gramsPerKwh()).isEqualTo(118);
    // the last value holds for as long as the gap before it: 30 min
    assertThat(t.coverageEnd()).isEqualTo(Instant.parse("2026-11-29T10:00:00Z").toEpochMilli());
  }

  @Test
  void aHeaderLineOfAnyNamesIsSkippedButOnlyAsTheFirstRow() throws Exception {
    Path p = file("named.csv", "datetime,carbon_intensity\n2026-11-29T10:00:00Z,300\n");
    assertThat(SeriesFile.read(p, "lifecycle").points().get(0).gramsPerKwh()).isEqualTo(300);
    Path quoted = file("quoted.csv", "\"time\",\"g\"\n2026-11-29T10:00:00Z,250\n");
    assertThat(SeriesFile.read(quoted, "lifecycle").points()).hasSize(1);
    // The same line after a data row is no header: it names its line.
    Path late = file("late.csv", "2026-11-29T10:00:00Z,300\ndatetime,carbon_intensity\n");
    assertThatThrownBy(() -> SeriesFile.read(late, "lifecycle"))
        .hasMessageContaining("late.csv:2")
        .hasMessageContaining("ISO-8601");
  }

  @Test
  void electricityMapsHistoryExportIsAccepted() throws Exception {
    Path p =
        file(
            "history.json",
            "{\"zone\":\"DE\",\"history\":[\n"
                + "{\"zone\":\"DE\",\"carbonIntensity\":402,\"datetime\":\"2026-11-29T08:00:00.000Z\","
                + "\"emissionFactorType\":\"lifecycle\",\"isEstimated\":false},\n"
                + "{\"zone\":\"DE\",\"carbonIntensity\":388,\"datetime\":\"2026-11-29T09:00:00.000Z\","
                + "\"emissionFactorType\":\"direct\",\"isEstimated\":true}]}");
    IntensityTimeline t = SeriesFile.read(p, "lifecycle");
    assertThat(t.points()).hasSize(2);
    assertThat(t.points().get(1).factorType()).isEqualTo("direct");
    assertThat(t.points().get(1).estimated()).isTrue();
    assertThat(t.points().get(0).estimated()).isFalse();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "2026-11-29T10:00Z,300\\n2026-11-29T09:00Z,200|3|sorted",
        "2026-11-29T10:00Z,300\\n2026-11-29T10:00Z,200|3|duplicate",
        "timestamp,gco2e_per_kwh\\n2026-11-29T10:00Z,-5|3|non-negative",
        "2026-11-29T10:00Z,abc|2|not a number",
        "2026-11-29T10:00Z,300,extra|2|2 columns",
        "2026-11-29 10:00,300|2|ISO-8601",
        "# only a comment|0|no data rows",
      })
  void malformedSeriesNamesFileAndLine(String text, int line, String what) throws IOException {
    Path p = file("bad.csv", "# header comment\n" + text.replace("\\n", "\n") + "\n");
    assertThatThrownBy(() -> SeriesFile.read(p, "lifecycle"))
        .hasMessageContaining("bad.csv" + (line > 0 ? ":" + line : ""))
        .hasMessageContaining(what);
  }

  @Test
  void emptyFileIsNamed() throws IOException {
    Path p = file("empty.csv", "");
    assertThatThrownBy(() -> SeriesFile.read(p, "lifecycle"))
        .hasMessageContaining("empty.csv: empty file");
  }

  @Test
  void aBadSeriesGivesOneLineThenTheNextProvider() throws IOException {
    Path p = file("bad.csv", "2026-11-29T10:00Z,300\n2026-11-29T09:00Z,200\n");
    List<String> lines = new ArrayList<>();
    AgentConfig c =
        ConfigLoader.load("carbon.series=" + p + ",carbon.zone=FR", new Properties(), Map.of());
    IntensityProvider provider = Intensities.open(c, Map.of(), new Log(lines::add), () -> 0, true);
    assertThat(lines)
        .singleElement()
        .asString()
        .contains("carbon.series=", "bad.csv:2", "zone table: FR");
    // France, Our World in Data 2023 (zones.csv)
    assertThat(provider.timeline().points().get(0).gramsPerKwh()).isEqualTo(56.039);
  }
}

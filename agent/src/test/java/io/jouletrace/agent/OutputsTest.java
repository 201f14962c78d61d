package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jouletrace.agent.carbon.CarbonTestSnapshots;
import io.jouletrace.agent.config.ConfigLoader;
import io.jouletrace.exporter.CsvRunLog;
import io.jouletrace.exporter.EnergySnapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputsTest {

  /**
   * A job that ends while start-up has not yet named the CPU (its init thread starved by a job that
   * keeps every core busy) still gets the CPU model in its CSV row: the exit reads it from {@code
   * /proc/cpuinfo}.
   */
  @Test
  void aJobThatEndsBeforeStartUpNamedTheCpuStillHasItsModelInTheCsvRow(@TempDir Path dir)
      throws Exception {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    assumeTrue(Files.isReadable(cpuinfo), "no /proc/cpuinfo");
    Matcher m =
        Pattern.compile("(?m)^model name\\s*:\\s*(.+)$")
            .matcher(Files.readString(cpuinfo, StandardCharsets.UTF_8));
    assumeTrue(m.find(), "/proc/cpuinfo names no model");
    String expected = m.group(1).trim().replaceAll("\\s+", " ");
    Path csv = dir.resolve("runs.csv");
    List<String> lines = new ArrayList<>();
    Outputs outputs =
        new Outputs(
            ConfigLoader.load("csv=" + csv, new Properties(), Map.of()), new Log(lines::add));
    EnergySnapshot last = CarbonTestSnapshots.other();
    last =
        last.withCarbon(
            new EnergySnapshot.CarbonFactors(475, "test", 1, 1000, 150, 4, 1), last.phases());
    outputs.atExit(last); // start() never ran
    assertThat(lines).isEmpty();
    List<String> rows = Files.readAllLines(csv, StandardCharsets.UTF_8);
    assertThat(rows).hasSize(2);
    String[] row = rows.get(1).split(",", -1);
    assertThat(row).hasSize(CsvRunLog.COLUMNS.size());
    assertThat(row[CsvRunLog.COLUMNS.indexOf("cpu_model")]).isEqualTo(expected).isNotBlank();
  }
}

package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvRunLogTest {

  static EnergySnapshot run(String id) {
    return Snapshots.known().withRunId(id);
  }

  static CsvRunLog.Settings settings(Path file) {
    return new CsvRunLog.Settings(file, "mlp, \"v2\"", 8, "Test CPU @ 2.0GHz");
  }

  @Test
  void headerOnceThenOneRowPerRunInCodeCarbonUnits(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("runs.csv");
    CsvRunLog.append(run("r1"), settings(file));
    CsvRunLog.append(run("r2"), settings(file));
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).isEqualTo(String.join(",", CsvRunLog.COLUMNS));
    List<String> row = fields(lines.get(1));
    assertThat(row).hasSize(CsvRunLog.COLUMNS.size());
    // Known snapshot: 10 s, CPU 300 J, DRAM 50 J, operational 0.625 g, embodied 0.3125 g.
    assertThat(col(row, "project_name")).isEqualTo("mlp, \"v2\"");
    assertThat(col(row, "run_id")).isEqualTo("r1");
    assertThat(Double.parseDouble(col(row, "duration"))).isEqualTo(10.0);
    assertThat(Double.parseDouble(col(row, "emissions"))).isEqualTo(0.625 / 1000);
    assertThat(Double.parseDouble(col(row, "emissions_rate"))).isEqualTo(0.625 / 1000 / 10);
    assertThat(Double.parseDouble(col(row, "cpu_power"))).isEqualTo(30.0);
    assertThat(Double.parseDouble(col(row, "ram_power"))).isEqualTo(5.0);
    assertThat(Double.parseDouble(col(row, "cpu_energy"))).isEqualTo(300 / 3.6e6);
    assertThat(Double.parseDouble(col(row, "energy_consumed"))).isEqualTo(350 / 3.6e6);
    assertThat(col(row, "cpu_count")).isEqualTo("8");
    assertThat(col(row, "gpu_count")).isEqualTo("0");
    assertThat(col(row, "tracking_mode")).isEqualTo("process");
    assertThat(col(row, "cpu_method")).isEqualTo("measured");
    assertThat(col(row, "gpu_method")).isEmpty();
    assertThat(Double.parseDouble(col(row, "embodied_g"))).isEqualTo(0.3125);
    assertThat(col(row, "labels")).isEqualTo("job=mlp");
    assertThat(col(row, "agent_cpu_seconds")).isEmpty(); // not known for this snapshot
    List<String> withCost =
        fields(
            CsvRunLog.row(
                    run("r3")
                        .withAgent(
                            new EnergySnapshot.AgentCost(
                                0.25, java.util.Map.of("sampler", 0.25), 10.0, 7.2, 0.01)),
                    settings(file))
                .strip());
    assertThat(Double.parseDouble(col(withCost, "agent_cpu_seconds"))).isEqualTo(0.25);
    assertThat(Double.parseDouble(col(withCost, "agent_energy"))).isEqualTo(7.2 / 3.6e6);
    assertThat(col(fields(lines.get(2)), "run_id")).isEqualTo("r2");
  }

  @Test
  void aFileUnderOtherColumnsIsLeftAsItIsAndTheRowGoesBesideIt(@TempDir Path dir)
      throws IOException {
    // A CodeCarbon file: the first columns are the same, the rest are not.
    Path file = dir.resolve("emissions.csv");
    String theirs =
        "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power\n"
            + "2026-01-01T00:00:00,p,x,1,2,3,4,5\n";
    Files.writeString(file, theirs);
    Path written = CsvRunLog.append(run("r1"), settings(file));
    assertThat(written).isEqualTo(dir.resolve("emissions.jouletrace.csv"));
    assertThat(Files.readString(file)).isEqualTo(theirs);
    CsvRunLog.append(run("r2"), settings(file));
    List<String> lines = Files.readAllLines(written, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).isEqualTo(String.join(",", CsvRunLog.COLUMNS));
    assertThat(col(fields(lines.get(2)), "run_id")).isEqualTo("r2");
    // Our own file, even one shorter than the header would be, is ours only with our header.
    Path stub = dir.resolve("stub.csv");
    Files.writeString(stub, "timestamp,pro");
    assertThat(CsvRunLog.append(run("r3"), settings(stub)))
        .isEqualTo(dir.resolve("stub.jouletrace.csv"));
    assertThat(Files.readString(stub)).isEqualTo("timestamp,pro");
    // When the file beside it is taken too, the error names both.
    Files.writeString(dir.resolve("stub.jouletrace.csv"), "a,b\n");
    assertThatThrownBy(() -> CsvRunLog.append(run("r4"), settings(stub)))
        .hasMessageContaining(stub.toString())
        .hasMessageContaining("stub.jouletrace.csv")
        .hasMessageContaining("other columns");
    assertThat(CsvRunLog.beside(dir.resolve("runs"))).isEqualTo(dir.resolve("runs.jouletrace.csv"));
  }

  @Test
  void missingFolderIsNamed(@TempDir Path dir) {
    Path file = dir.resolve("nope/runs.csv");
    assertThatThrownBy(() -> CsvRunLog.append(run("r"), settings(file)))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(dir.resolve("nope").toString());
  }

  @Test
  void threadsAppendingAtOnceNeverSplitARow(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("runs.csv");
    int threads = 8;
    int each = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      done.add(
          pool.submit(
              () -> {
                go.await();
                for (int i = 0; i < each; i++) {
                  CsvRunLog.append(run("t" + id + "-" + i), settings(file));
                }
                return null;
              }));
    }
    go.countDown();
    for (Future<?> f : done) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertWellFormed(file, threads * each);
  }

  @Test
  void processesAppendingAtOnceNeverSplitARow(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("runs.csv");
    Path start = dir.resolve("go");
    int procs = 3;
    int each = 40;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Process> ps = new ArrayList<>();
    for (int p = 0; p < procs; p++) {
      ps.add(
          new ProcessBuilder(
                  java,
                  "-cp",
                  System.getProperty("java.class.path"),
                  CsvAppender.class.getName(),
                  file.toString(),
                  "p" + p,
                  Integer.toString(each),
                  start.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("p" + p + ".log").toFile())
              .start());
    }
    Files.writeString(start, "go"); // all three start appending once they see this file
    for (int p = 0; p < procs; p++) {
      assertThat(ps.get(p).waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(ps.get(p).exitValue())
          .as(Files.readString(dir.resolve("p" + p + ".log")))
          .isZero();
    }
    assertWellFormed(file, procs * each);
  }

  private static void assertWellFormed(Path file, int rows) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertThat(lines.get(0)).isEqualTo(String.join(",", CsvRunLog.COLUMNS));
    assertThat(lines).hasSize(rows + 1);
    Set<String> ids = new HashSet<>();
    for (String line : lines.subList(1, lines.size())) {
      List<String> f = fields(line);
      assertThat(f).as(line).hasSize(CsvRunLog.COLUMNS.size());
      assertThat(col(f, "labels")).isEqualTo("job=mlp");
      ids.add(col(f, "run_id"));
    }
    assertThat(ids).hasSize(rows);
  }

  private static String col(List<String> row, String name) {
    return row.get(CsvRunLog.COLUMNS.indexOf(name));
  }

  /** RFC 4180 fields of one line. */
  static List<String> fields(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          cur.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          cur.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }

  /** A separate JVM that appends rows once a start file appears. */
  static final class CsvAppender {
    public static void main(String[] args) throws Exception {
      Path file = Path.of(args[0]);
      int n = Integer.parseInt(args[2]);
      File go = new File(args[3]);
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!go.exists() && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      for (int i = 0; i < n; i++) {
        CsvRunLog.append(run(args[1] + "-" + i), settings(file));
      }
    }
  }
}

package io.jouletrace.exporter;

import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Domain;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The CSV run log: one row per run appended to a file, the header written once, when the file is
 * empty. Several JVMs may append to one file at once: each append holds an exclusive {@link
 * FileLock} on the file while it writes its row with one write, so rows never interleave.
 *
 * <p>Columns named as in CodeCarbon's {@code emissions.csv} mean the same, in the same units:
 * {@code duration} s, {@code emissions} kg CO2e (operational only, as CodeCarbon's), {@code
 * emissions_rate} kg/s, {@code *_power} W (average over the run), {@code *_energy} and {@code
 * energy_consumed} kWh. {@code ram} is the DRAM domain. JouleTrace's own columns follow: {@code
 * stage}, {@code carbon_intensity} (gCO2e/kWh), {@code operational_g} and {@code embodied_g} (grams
 * CO2e), {@code cpu_method}, {@code ram_method}, {@code gpu_method} ({@code measured}, {@code
 * estimated}, or empty when the domain was not seen), {@code attribution}, {@code labels} ({@code
 * name=value;...}), and what measuring cost: {@code agent_cpu_seconds} (the agent's own CPU time)
 * and {@code agent_energy} (kWh, the energy that CPU time stands for, part of {@code
 * energy_consumed}), empty when unknown.
 */
public final class CsvRunLog {

  /** The header, in column order. */
  public static final List<String> COLUMNS =
      List.of(
          "timestamp",
          "project_name",
          "run_id",
          "duration",
          "emissions",
          "emissions_rate",
          "cpu_power",
          "gpu_power",
          "ram_power",
          "cpu_energy",
          "gpu_energy",
          "ram_energy",
          "energy_consumed",
          "cpu_count",
          "cpu_model",
          "gpu_count",
          "gpu_model",
          "tracking_mode",
          "pue",
          "stage",
          "carbon_intensity",
          "operational_g",
          "embodied_g",
          "cpu_method",
          "ram_method",
          "gpu_method",
          "attribution",
          "labels",
          "agent_cpu_seconds",
          "agent_energy");

  private static final double JOULES_PER_KWH = 3.6e6;

  private static final String HEADER = line(COLUMNS);

  /**
   * What the run log needs besides the snapshot.
   *
   * @param file the CSV file; its folder must exist
   * @param projectName the {@code project_name} column
   * @param cpuCount logical CPUs
   * @param cpuModel CPU model name, or empty
   */
  public record Settings(Path file, String projectName, int cpuCount, String cpuModel) {}

  private CsvRunLog() {}

  /**
   * Appends one row for a finished run. A file that already holds rows under another header (a
   * CodeCarbon {@code emissions.csv}, a file of another tool or of an older version of this one) is
   * left as it is: the row goes to a file beside it, {@code <name>.jouletrace.csv}, with this
   * header.
   *
   * @param s the run's final snapshot
   * @param settings where, and host details
   * @return the file the row was written to: {@code settings.file()}, or the one beside it
   * @throws IOException naming the file when its folder is missing or it cannot be written
   */
  public static Path append(EnergySnapshot s, Settings settings) throws IOException {
    Path file = settings.file().toAbsolutePath();
    Path dir = file.getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw new NoSuchFileException(file.toString(), null, "folder " + dir + " does not exist");
    }
    byte[] row = row(s, settings).getBytes(StandardCharsets.UTF_8);
    // A FileLock is held per JVM, and a second lock on the same file from this JVM throws: threads
    // of one JVM take turns here first.
    synchronized (CsvRunLog.class) {
      if (appendTo(file, row)) {
        return file;
      }
      Path beside = beside(file);
      if (appendTo(beside, row)) {
        return beside;
      }
      throw new IOException(
          file + " and " + beside + " both hold rows under other columns; set csv to another file");
    }
  }

  /**
   * {@code runs.csv} gives {@code runs.jouletrace.csv}; {@code runs} gives {@code
   * runs.jouletrace.csv}.
   */
  static Path beside(Path file) {
    String name = file.getFileName().toString();
    String stem = name.endsWith(".csv") ? name.substring(0, name.length() - 4) : name;
    return file.resolveSibling(stem + ".jouletrace.csv");
  }

  /**
   * Appends the row under the lock, with the header first when the file is empty.
   *
   * @return {@code false}, writing nothing, when the file's first line is another header
   */
  private static boolean appendTo(Path file, byte[] row) throws IOException {
    byte[] header = HEADER.getBytes(StandardCharsets.UTF_8);
    try (FileChannel ch =
            FileChannel.open(
                file,
                StandardOpenOption.CREATE,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock = ch.lock()) {
      long size = ch.size();
      ByteBuffer out;
      if (size == 0) {
        out = ByteBuffer.allocate(header.length + row.length).put(header).put(row).flip();
      } else {
        ByteBuffer first = ByteBuffer.allocate((int) Math.min(size, header.length));
        while (first.hasRemaining() && ch.read(first, first.position()) > 0) {
          // reads the start of the file, as long as our header
        }
        if (!first.flip().equals(ByteBuffer.wrap(header, 0, first.limit()))
            || first.limit() < header.length) {
          return false;
        }
        out = ByteBuffer.wrap(row);
      }
      long at = size;
      while (out.hasRemaining()) {
        at += ch.write(out, at);
      }
      ch.force(false);
      return true;
    } catch (AccessDeniedException e) {
      throw new AccessDeniedException(file.toString(), null, "not writable");
    }
  }

  /**
   * Renders one row (with its line end) without writing it.
   *
   * @param s the snapshot
   * @param settings host details
   * @return the row
   */
  static String row(EnergySnapshot s, Settings settings) {
    PhaseEnergy t = s.totals();
    double duration = s.wallSeconds();
    double opKg = t.operationalGrams() / 1000;
    TreeSet<String> gpuModels = new TreeSet<>();
    int gpus = 0;
    for (DeviceEnergy d : s.devices()) {
      if (d.domain() == Domain.GPU) {
        gpus++;
        String m = d.detail().get("modelName");
        if (m != null && !m.isEmpty()) {
          gpuModels.add(m);
        }
      }
    }
    List<String> v = new ArrayList<>(COLUMNS.size());
    v.add(IsoInstant.format(s.endedAt() != null ? s.endedAt() : Instant.now()));
    v.add(settings.projectName());
    v.add(s.runId() == null ? "" : s.runId());
    v.add(num(duration));
    v.add(num(opKg));
    v.add(num(duration > 0 ? opKg / duration : 0));
    v.add(num(duration > 0 ? t.joules(Domain.CPU) / duration : 0));
    v.add(num(duration > 0 ? t.joules(Domain.GPU) / duration : 0));
    v.add(num(duration > 0 ? t.joules(Domain.DRAM) / duration : 0));
    v.add(num(t.joules(Domain.CPU) / JOULES_PER_KWH));
    v.add(num(t.joules(Domain.GPU) / JOULES_PER_KWH));
    v.add(num(t.joules(Domain.DRAM) / JOULES_PER_KWH));
    v.add(num(t.totalJoules() / JOULES_PER_KWH));
    v.add(Integer.toString(settings.cpuCount()));
    v.add(settings.cpuModel());
    v.add(Integer.toString(gpus));
    v.add(String.join(", ", gpuModels));
    v.add("host".equals(s.attribution()) ? "machine" : "process");
    v.add(num(s.carbon().pue()));
    v.add(s.stage());
    v.add(num(s.carbon().intensityGramsPerKwh()));
    v.add(num(t.operationalGrams()));
    v.add(num(t.embodiedGrams()));
    v.add(s.methods().getOrDefault(Domain.CPU, ""));
    v.add(s.methods().getOrDefault(Domain.DRAM, ""));
    v.add(s.methods().getOrDefault(Domain.GPU, ""));
    v.add(s.attribution());
    StringBuilder labels = new StringBuilder();
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(s.labels()).entrySet()) {
      labels
          .append(labels.length() == 0 ? "" : ";")
          .append(e.getKey())
          .append('=')
          .append(e.getValue());
    }
    v.add(labels.toString());
    EnergySnapshot.AgentCost a = s.agent();
    v.add(a == null ? "" : num(a.cpuSeconds()));
    v.add(a == null ? "" : num(a.joules() / JOULES_PER_KWH));
    return line(v);
  }

  private static String num(double d) {
    return Double.isFinite(d) ? Double.toString(d) : "";
  }

  private static String line(List<String> values) {
    StringBuilder b = new StringBuilder(256);
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      String v = values.get(i) == null ? "" : values.get(i);
      if (v.indexOf(',') >= 0
          || v.indexOf('"') >= 0
          || v.indexOf('\n') >= 0
          || v.indexOf('\r') >= 0) {
        b.append('"').append(v.replace("\"", "\"\"")).append('"');
      } else {
        b.append(v);
      }
    }
    return b.append('\n').toString();
  }
}

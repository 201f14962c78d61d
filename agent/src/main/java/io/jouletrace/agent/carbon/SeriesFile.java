package io.jouletrace.agent.carbon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A grid intensity time series from a file: CSV {@code timestamp,gco2e_per_kwh} (ISO-8601
 * timestamps with an offset, one row per change, {@code #} comments, an optional header), or an
 * Electricity Maps {@code history} JSON export. Each value is in force from its timestamp until the
 * next; the last one for as long as the gap before it (an hour for a single row).
 */
public final class SeriesFile {

  /** A malformed series: the message names the file and the line. */
  public static final class SeriesException extends Exception {
    private static final long serialVersionUID = 1L;

    SeriesException(Path file, int line, String what) {
      super(file + (line > 0 ? ":" + line : "") + ": " + what);
    }
  }

  private static final long HOUR_MS = 3_600_000L;

  private SeriesFile() {}

  /**
   * Reads a series.
   *
   * @param file the file
   * @param factorType factor type to record for CSV rows
   * @return the timeline
   * @throws SeriesException naming the file and line of the first problem
   */
  public static IntensityTimeline read(Path file, String factorType) throws SeriesException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SeriesException(file, 0, "cannot be read (" + e + ")");
    }
    String trimmed = text.strip();
    if (trimmed.isEmpty()) {
      throw new SeriesException(file, 0, "empty file");
    }
    String name = "series " + file.getFileName();
    List<long[]> times = new ArrayList<>();
    List<IntensityPoint> points =
        trimmed.startsWith("{") || trimmed.startsWith("[")
            ? json(file, text, name, factorType, times)
            : csv(file, text, name, factorType, times);
    if (points.isEmpty()) {
      throw new SeriesException(file, 0, "no data rows");
    }
    long first = points.get(0).fromMillis();
    long last = points.get(points.size() - 1).fromMillis();
    long gap = points.size() > 1 ? last - points.get(points.size() - 2).fromMillis() : HOUR_MS;
    return new IntensityTimeline(points, first, last + gap, "carbon.series=" + file);
  }

  private static List<IntensityPoint> csv(
      Path file, String text, String name, String factorType, List<long[]> lines)
      throws SeriesException {
    List<IntensityPoint> out = new ArrayList<>();
    String[] rows = text.split("\r?\n", -1);
    boolean headerAllowed = true;
    for (int i = 0; i < rows.length; i++) {
      int n = i + 1;
      String row = rows[i].strip();
      if (row.isEmpty() || row.startsWith("#")) {
        continue;
      }
      String[] f = row.split(",", -1);
      if (headerAllowed && isHeader(f)) {
        headerAllowed = false;
        continue;
      }
      headerAllowed = false;
      if (f.length != 2) {
        throw new SeriesException(
            file, n, "expected 2 columns timestamp,gco2e_per_kwh, found " + f.length);
      }
      long t = timestamp(file, n, f[0].strip());
      double g = value(file, n, f[1].strip());
      add(file, n, out, lines, new IntensityPoint(t, g, name, factorType, false));
    }
    return out;
  }

  /**
   * Whether the first row is a header (any names, e.g. {@code timestamp,gco2e_per_kwh} or {@code
   * datetime,carbon_intensity}): two columns, the first not starting like a date (a digit) and the
   * second not a number.
   */
  private static boolean isHeader(String[] f) {
    if (f.length != 2) {
      return false;
    }
    String first = f[0].strip();
    if (first.isEmpty() || Character.isDigit(first.charAt(0))) {
      return false;
    }
    try {
      Double.parseDouble(f[1].strip());
      return false;
    } catch (NumberFormatException words) {
      return true;
    }
  }

  private static List<IntensityPoint> json(
      Path file, String text, String name, String factorType, List<long[]> lines)
      throws SeriesException {
    Object root;
    try {
      root = Json.parse(text);
    } catch (IOException e) {
      throw new SeriesException(file, 0, "not valid JSON (" + e.getMessage() + ")");
    }
    Object rows = root instanceof Map<?, ?> m ? m.get("history") : root;
    if (!(rows instanceof List<?> list)) {
      throw new SeriesException(
          file, 1, "JSON without a \"history\" array (an Electricity Maps history export)");
    }
    List<IntensityPoint> out = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof Map<?, ?> row)) {
        throw new SeriesException(file, 0, "a history entry is not an object");
      }
      int n = Json.line(row);
      if (!(row.get("datetime") instanceof String dt)) {
        throw new SeriesException(file, n, "entry without a \"datetime\" string");
      }
      if (!(row.get("carbonIntensity") instanceof Double g)) {
        throw new SeriesException(file, n, "entry without a numeric \"carbonIntensity\"");
      }
      if (g < 0 || g.isNaN()) {
        throw new SeriesException(file, n, "negative intensity " + g);
      }
      String type =
          row.get("emissionFactorType") instanceof String s && !s.isBlank() ? s : factorType;
      boolean estimated = Boolean.TRUE.equals(row.get("isEstimated"));
      String zone = row.get("zone") instanceof String z ? " " + z : "";
      add(
          file,
          n,
          out,
          lines,
          new IntensityPoint(timestamp(file, n, dt), g, name + zone, type, estimated));
    }
    return out;
  }

  private static void add(
      Path file, int n, List<IntensityPoint> out, List<long[]> lines, IntensityPoint p)
      throws SeriesException {
    if (!out.isEmpty()) {
      IntensityPoint prev = out.get(out.size() - 1);
      if (p.fromMillis() == prev.fromMillis()) {
        throw new SeriesException(
            file, n, "duplicate timestamp (as line " + lines.get(lines.size() - 1)[0] + ")");
      }
      if (p.fromMillis() < prev.fromMillis()) {
        throw new SeriesException(
            file,
            n,
            "timestamp before the previous row's (line "
                + lines.get(lines.size() - 1)[0]
                + "): rows must be sorted");
      }
    }
    out.add(p);
    lines.add(new long[] {n});
  }

  private static long timestamp(Path file, int n, String s) throws SeriesException {
    try {
      return OffsetDateTime.parse(s).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new SeriesException(
          file, n, "'" + s + "' is not an ISO-8601 timestamp with an offset (2026-11-29T10:00Z)");
    }
  }

  private static double value(Path file, int n, String s) throws SeriesException {
    double g;
    try {
      g = Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new SeriesException(file, n, "'" + s + "' is not a number of gCO2e/kWh");
    }
    if (g < 0 || Double.isNaN(g) || Double.isInfinite(g)) {
      throw new SeriesException(file, n, "intensity " + s + " is not a non-negative number");
    }
    return g;
  }
}

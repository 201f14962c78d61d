package io.jouletrace.agent.carbon;

import java.io.IOException;
import java.io.Reader;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The bundled table of annual average grid intensity per zone ({@code zones.csv} next to this
 * class): ISO 3166-1 alpha-2 countries, US states ({@code US-CA}), Nordic bidding zones ({@code
 * SE-SE3}). Each row carries its year and source; the file's header says where each source's
 * figures come from.
 */
public final class ZoneTable {

  /** One row. */
  public record Row(String zone, double gramsPerKwh, int year, String source) {

    /** Returns e.g. {@code zone table: DE 380.95 g/kWh (owid 2023)}. */
    public String describe() {
      return "zone table: " + zone + " (" + source + " " + year + ")";
    }
  }

  private final Map<String, Row> rows;

  private ZoneTable(Map<String, Row> rows) {
    this.rows = rows;
  }

  /** Loads the bundled table. */
  public static ZoneTable bundled() {
    return DataTable.bundled(ZoneTable.class, "zones.csv", ZoneTable::parse);
  }

  /**
   * Parses a table: {@code zone,gco2e_per_kwh,year,source}, {@code #} comments.
   *
   * @param reader the text
   * @return the table
   * @throws IOException when it cannot be read
   */
  public static ZoneTable parse(Reader reader) throws IOException {
    Map<String, Row> rows = new LinkedHashMap<>();
    for (String[] f : DataTable.rows(reader, 0, 4, "zones table", "4 columns")) {
      String zone = f[0].trim().toUpperCase(Locale.ROOT);
      rows.put(
          zone,
          new Row(
              zone, Double.parseDouble(f[1].trim()), Integer.parseInt(f[2].trim()), f[3].trim()));
    }
    return new ZoneTable(rows);
  }

  /**
   * Finds a zone, case-insensitively.
   *
   * @param zone e.g. {@code de}, {@code US-CA}
   * @return the row, or {@code null}
   */
  public Row find(String zone) {
    return zone == null ? null : rows.get(zone.trim().toUpperCase(Locale.ROOT));
  }

  /** Returns the number of zones. */
  public int size() {
    return rows.size();
  }
}

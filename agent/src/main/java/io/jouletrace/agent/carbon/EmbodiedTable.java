package io.jouletrace.agent.carbon;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The bundled embodied-carbon table ({@code embodied.csv} next to this class): the server's figure,
 * per-GPU figures by model where one is published, and the lifetime, each with its source.
 */
public final class EmbodiedTable {

  /** One row: {@code kind} is {@code server}, {@code gpu} or {@code lifetime}. */
  public record Row(String kind, String match, double value, String source) {}

  private final List<Row> rows;

  private EmbodiedTable(List<Row> rows) {
    this.rows = rows;
  }

  /** Loads the bundled table. */
  public static EmbodiedTable bundled() {
    return DataTable.bundled(EmbodiedTable.class, "embodied.csv", new Parse());
  }

  /**
   * Parses a table.
   *
   * @param reader {@code kind,match,value,source} lines, {@code #} comments
   * @return the table
   * @throws IOException when it cannot be read or a line is malformed
   */
  public static EmbodiedTable parse(Reader reader) throws IOException {
    List<Row> rows = new ArrayList<>();
    for (String[] f : DataTable.rows(reader, 4, 4, "embodied table", "kind,match,value,source")) {
      rows.add(new Row(f[0].trim(), f[1].trim(), Double.parseDouble(f[2].trim()), f[3].trim()));
    }
    return new EmbodiedTable(rows);
  }

  /**
   * Finds the row of a kind for a model: the longest {@code match} found in the model name, else
   * the kind's default ({@code *}).
   *
   * @param kind {@code server}, {@code gpu} or {@code lifetime}
   * @param model the model name, or {@code null}
   * @return the row, or {@code null} when the kind has none
   */
  public Row find(String kind, String model) {
    Row best = null;
    String m = model == null ? "" : model.toLowerCase(Locale.ROOT);
    for (Row row : rows) {
      if (!row.kind().equals(kind)) {
        continue;
      }
      if (row.match().equals("*")) {
        if (best == null) {
          best = row;
        }
      } else if (m.contains(row.match().toLowerCase(Locale.ROOT))
          && (best == null
              || best.match().equals("*")
              || row.match().length() > best.match().length())) {
        best = row;
      }
    }
    return best;
  }

  /** {@link #parse}; a class rather than a method reference, which the JVM would spin at start. */
  private static final class Parse implements DataTable.Parser<EmbodiedTable> {
    @Override
    public EmbodiedTable parse(Reader reader) throws IOException {
      return EmbodiedTable.parse(reader);
    }
  }
}

package io.jouletrace.agent.carbon;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The bundled comma-separated tables' one reader: {@code #} comments, blank lines skipped. */
final class DataTable {

  private DataTable() {}

  /** A parser of a table's rows. */
  @FunctionalInterface
  interface Parser<T> {
    T parse(Reader reader) throws IOException;
  }

  /**
   * Reads a table shipped beside {@code owner}.
   *
   * @param owner the class whose package holds the resource
   * @param name the resource, e.g. {@code zones.csv}
   * @param parser turns its text into the table
   * @return the table
   */
  static <T> T bundled(Class<?> owner, String name, Parser<T> parser) {
    try (InputStream in = owner.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " missing from the agent");
      }
      return parser.parse(new InputStreamReader(in, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Splits a table's lines into fields.
   *
   * @param reader the text
   * @param limit as {@link String#split(String, int)}
   * @param columns how many fields each line must have
   * @param what the table's name and form, for the error, e.g. {@code zones table ... 4 columns}
   * @return the fields of each line, untrimmed
   * @throws IOException when it cannot be read or a line has another number of fields
   */
  static List<String[]> rows(Reader reader, int limit, int columns, String table, String expected)
      throws IOException {
    List<String[]> out = new ArrayList<>();
    BufferedReader r = new BufferedReader(reader);
    String line;
    int n = 0;
    while ((line = r.readLine()) != null) {
      n++;
      String t = line.trim();
      if (t.isEmpty() || t.startsWith("#")) {
        continue;
      }
      String[] f = t.split(",", limit);
      if (f.length != columns) {
        throw new IOException(table + " line " + n + ": expected " + expected);
      }
      out.add(f);
    }
    return out;
  }
}

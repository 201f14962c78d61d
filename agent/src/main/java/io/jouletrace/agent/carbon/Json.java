package io.jouletrace.agent.carbon;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads JSON into maps, lists, strings, numbers and booleans with Jackson's streaming parser (the
 * agent carries no object mapper). Each object remembers the line it starts on, for messages.
 */
final class Json {

  private static final JsonFactory FACTORY = new JsonFactory();

  /** Key under which an object's first line is kept. */
  static final String LINE = "\u0000line";

  private Json() {}

  /**
   * Parses one JSON value.
   *
   * @param text the document
   * @return a {@code Map}, {@code List}, {@code String}, {@code Double}, {@code Boolean} or {@code
   *     null}
   * @throws IOException on malformed JSON, with its line
   */
  static Object parse(String text) throws IOException {
    try (JsonParser p = FACTORY.createParser(text)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw new IOException("empty document");
      }
      Object v = value(p, t);
      if (p.nextToken() != null) {
        throw new IOException(
            "line " + p.currentLocation().getLineNr() + ": text after the JSON value");
      }
      return v;
    }
  }

  private static Object value(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case START_OBJECT:
        {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put(LINE, p.currentTokenLocation().getLineNr());
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            m.put(name, value(p, p.nextToken()));
          }
          return m;
        }
      case START_ARRAY:
        {
          List<Object> l = new ArrayList<>();
          JsonToken n;
          while ((n = p.nextToken()) != JsonToken.END_ARRAY) {
            l.add(value(p, n));
          }
          return l;
        }
      case VALUE_STRING:
        return p.getText();
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return p.getDoubleValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new IOException(
            "line " + p.currentTokenLocation().getLineNr() + ": unexpected " + t.asString());
    }
  }

  /** Returns the line an object started on, or 0. */
  static int line(Map<?, ?> m) {
    Object l = m.get(LINE);
    return l instanceof Integer i ? i : 0;
  }
}

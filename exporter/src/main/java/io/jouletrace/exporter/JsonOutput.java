package io.jouletrace.exporter;

import com.fasterxml.jackson.core.ErrorReportConfiguration;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.io.ContentReference;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.WriterBasedJsonGenerator;
import com.fasterxml.jackson.core.util.BufferRecycler;
import java.io.Writer;

/**
 * Jackson's streaming generator for the JSON written at exit, made without a {@link
 * com.fasterxml.jackson.core.JsonFactory}: the factory's class initialization verifies and loads
 * every parser it can create (eleven classes this writer never uses), about 8 ms of a short job's
 * exit. The generator is the one {@code new JsonFactory().createGenerator(writer)} returns, with
 * the factory's defaults (its features, constraints and quote character); {@code JsonOutputTest}
 * compares the two.
 */
final class JsonOutput {

  private JsonOutput() {}

  /**
   * A generator writing to {@code out}, which it closes when closed.
   *
   * @param out the writer
   * @return the generator
   */
  static JsonGenerator generator(Writer out) {
    IOContext context =
        new IOContext(
            StreamReadConstraints.defaults(),
            StreamWriteConstraints.defaults(),
            ErrorReportConfiguration.defaults(),
            new BufferRecycler(),
            ContentReference.rawReference(out),
            false);
    return new WriterBasedJsonGenerator(
        context, JsonGenerator.Feature.collectDefaults(), null, out, '"');
  }
}

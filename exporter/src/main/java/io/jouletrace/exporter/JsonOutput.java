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
 * Jackson's streaming generator for the JSON written at exit, made without an instance of {@link
 * com.fasterxml.jackson.core.JsonFactory}: a factory builds the symbol tables of its parsers and a
 * pool of buffers (eleven classes a writer never uses, and their tables), on a short job's exit
 * path. The factory's class is still initialized (the generator reads one of its constants). The
 * generator is the one {@code new JsonFactory().createGenerator(writer)} returns, with the
 * factory's defaults (its features, constraints and quote character); {@code JsonOutputTest}
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

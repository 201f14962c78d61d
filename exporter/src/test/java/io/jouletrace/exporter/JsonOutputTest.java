package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonOutputTest {

  @Test
  void theReportIsWhatTheFactorysGeneratorWrites() throws IOException {
    EnergySnapshot s = Snapshots.known().withRunId("r\"un\\ \u00e9\u2028 \u0001");
    StringWriter ours = new StringWriter();
    try (JsonGenerator g = JsonOutput.generator(ours)) {
      JsonReport.write(s, g);
    }
    StringWriter factory = new StringWriter();
    try (JsonGenerator g = new JsonFactory().createGenerator(factory)) {
      JsonReport.write(s, g);
    }
    assertThat(ours.toString()).isEqualTo(factory.toString()).contains("\"schema\"");
  }

  @Test
  void stringsAndNumbersAreWrittenAsTheFactorysGeneratorWritesThem() throws IOException {
    SplittableRandom r = new SplittableRandom(11);
    for (int round = 0; round < 200; round++) {
      long seed = r.nextLong();
      StringWriter ours = new StringWriter();
      try (JsonGenerator g = JsonOutput.generator(ours)) {
        writeRandom(g, new SplittableRandom(seed));
      }
      StringWriter factory = new StringWriter();
      try (JsonGenerator g = new JsonFactory().createGenerator(factory)) {
        writeRandom(g, new SplittableRandom(seed));
      }
      assertThat(ours.toString()).isEqualTo(factory.toString());
    }
  }

  private static void writeRandom(JsonGenerator g, SplittableRandom r) throws IOException {
    g.useDefaultPrettyPrinter();
    g.writeStartObject();
    for (int i = r.nextInt(20); i >= 0; i--) {
      StringBuilder text = new StringBuilder();
      for (int k = r.nextInt(12); k > 0; k--) {
        text.append((char) (r.nextBoolean() ? r.nextInt(0x80) : r.nextInt(0x3000)));
      }
      switch (r.nextInt(4)) {
        case 0 -> g.writeStringField("s" + i, text.toString());
        case 1 -> g.writeNumberField("d" + i, r.nextDouble() * Math.pow(10, r.nextInt(-12, 12)));
        case 2 -> g.writeNumberField("l" + i, r.nextLong());
        default -> {
          g.writeArrayFieldStart("a" + i);
          g.writeString(text.toString());
          g.writeNumber(r.nextInt());
          g.writeNull();
          g.writeEndArray();
        }
      }
    }
    g.writeEndObject();
  }
}

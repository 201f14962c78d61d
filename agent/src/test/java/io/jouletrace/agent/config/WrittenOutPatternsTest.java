package io.jouletrace.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jouletrace.agent.RandomTexts;
import io.jouletrace.sources.Texts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The configuration's parsers that used regular expressions, now written out: each against the
 * expression it replaces, over random texts from an alphabet that holds every character the
 * expression treats apart.
 */
class WrittenOutPatternsTest {

  private final RandomTexts texts = new RandomTexts(20261130);

  private String random(String alphabet, int maxLength) {
    return texts.next(alphabet, maxLength);
  }

  @Test
  void listsSplitAsTheirExpressionDidLessTheEmptyItems() {
    Pattern separators = Pattern.compile("[,\\s]+");
    for (int i = 0; i < 20_000; i++) {
      String s = random("ab,, \t\n\u000B\f\r\u00A0x", 12);
      List<String> expected = new ArrayList<>();
      for (String item : separators.split(s)) {
        if (!item.isEmpty()) {
          expected.add(item);
        }
      }
      assertThat(ConfigLoader.list(s)).as("'%s'", s).isEqualTo(expected);
    }
  }

  @Test
  void labelNamesAreThoseTheirExpressionMatched() {
    Pattern name = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    for (int i = 0; i < 20_000; i++) {
      String s = random("azAZ_09-. \u00E9", 5);
      assertThat(ConfigLoader.isLabelName(s)).as("'%s'", s).isEqualTo(name.matcher(s).matches());
    }
  }

  @Test
  void durationsParseAsTheirExpressionDid() {
    Pattern form = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d|y)");
    int accepted = 0;
    for (int i = 0; i < 50_000; i++) {
      String s = random("0129.  \tnsumhdyNSx\u0660", 7);
      Matcher m = form.matcher(s.trim().toLowerCase(Locale.ROOT));
      if (m.matches()) {
        accepted++;
        double perUnit =
            switch (m.group(2)) {
              case "ns" -> 1;
              case "us" -> 1e3;
              case "ms" -> 1e6;
              case "s" -> 1e9;
              case "m" -> 60e9;
              case "h" -> 3600e9;
              case "d" -> 86400e9;
              default -> 365 * 86400e9;
            };
        double nanos = Double.parseDouble(m.group(1)) * perUnit;
        if (nanos <= Long.MAX_VALUE) {
          assertThat(Durations.parse(s))
              .as("'%s'", s)
              .isEqualTo(Duration.ofNanos(Math.round(nanos)));
        }
      } else {
        assertThatThrownBy(() -> Durations.parse(s))
            .as("'%s'", s)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(Durations.FORM);
      }
    }
    assertThat(accepted).as("texts the expression accepted").isGreaterThan(500);
  }

  @Test
  void regexBlanksAreTheSixCharactersOfBackslashS() {
    Pattern blank = Pattern.compile("\\s");
    for (char c = 0; c < 0x3000; c++) {
      assertThat(Texts.isRegexBlank(c))
          .as("U+%04X", (int) c)
          .isEqualTo(blank.matcher(String.valueOf(c)).matches());
    }
  }
}

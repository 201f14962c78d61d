package io.jouletrace.agent.instrument;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.agent.RandomTexts;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RuleQuoteTest {

  @Test
  void quoteIsWhatPatternQuoteReturns() {
    RandomTexts texts = new RandomTexts(5);
    for (int i = 0; i < 20_000; i++) {
      String s = texts.next("ab\\EQ.*$", 11);
      assertThat(Rule.quote(s)).as("'%s'", s).isEqualTo(Pattern.quote(s));
      assertThat(Pattern.compile(Rule.quote(s)).matcher(s).matches()).as("'%s'", s).isTrue();
    }
  }
}

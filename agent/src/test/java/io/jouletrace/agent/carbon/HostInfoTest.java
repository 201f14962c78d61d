package io.jouletrace.agent.carbon;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.agent.RandomTexts;
import org.junit.jupiter.api.Test;

class HostInfoTest {

  @Test
  void blanksCollapseAsReplacingEveryRunOfThemWithOneBlankDid() {
    RandomTexts texts = new RandomTexts(11);
    for (int i = 0; i < 20_000; i++) {
      String model = texts.next("AMD EPYC  7B13\t\n\r\f\u000B\u00A0-", 15);
      assertThat(HostInfo.collapseBlanks(model))
          .as("'%s'", model)
          .isEqualTo(model.replaceAll("\\s+", " "));
    }
  }
}

package io.jouletrace.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

class JouleTraceTest {

  @Test
  void withoutAgentPhaseIsSharedNoop() {
    Phase first = JouleTrace.phase("a");
    Phase second = JouleTrace.phase(null);
    assertThat(first).isSameAs(second);
    assertThat(JouleTrace.isRecording()).isFalse();
  }

  @Test
  void closingTwiceWithoutAgentIsHarmless() {
    Phase p = JouleTrace.phase("a");
    assertThatCode(
            () -> {
              p.close();
              p.close();
            })
        .doesNotThrowAnyException();
  }
}

package io.jouletrace.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SparkPhaseTest {

  /** The two methods of Spark's SparkContext the helper uses, with Spark's semantics. */
  public static final class FakeContext {
    final Map<String, String> props = new HashMap<>();

    public void setLocalProperty(String key, String value) {
      if (value == null) {
        props.remove(key); // SparkContext removes the property on null
      } else {
        props.put(key, value);
      }
    }

    public String getLocalProperty(String key) {
      return props.get(key);
    }
  }

  /** Like SparkSession: no local properties of its own, a sparkContext(). */
  public static final class FakeSession {
    final FakeContext sc = new FakeContext();

    public FakeContext sparkContext() {
      return sc;
    }
  }

  @Test
  void setsThePropertyWhileOpenAndRestoresTheOuterValue() {
    FakeContext sc = new FakeContext();
    try (Phase outer = JouleTrace.sparkPhase(sc, "featurize")) {
      assertThat(sc.getLocalProperty("jouletrace.phase")).isEqualTo("featurize");
      try (Phase inner = JouleTrace.sparkPhase(sc, "score")) {
        assertThat(sc.getLocalProperty("jouletrace.phase")).isEqualTo("score");
      }
      assertThat(sc.getLocalProperty("jouletrace.phase")).isEqualTo("featurize");
    }
    assertThat(sc.props).doesNotContainKey("jouletrace.phase");
  }

  @Test
  void acceptsASessionThroughItsContext() {
    FakeSession session = new FakeSession();
    Phase p = JouleTrace.sparkPhase(session, "sweep");
    assertThat(session.sc.getLocalProperty(JouleTrace.SPARK_PHASE_PROPERTY)).isEqualTo("sweep");
    p.close();
    p.close(); // twice is harmless and restores once
    assertThat(session.sc.props).isEmpty();
  }

  @Test
  void refusesAnObjectWithoutLocalProperties() {
    assertThatThrownBy(() -> JouleTrace.sparkPhase("not spark", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.lang.String");
    assertThatThrownBy(() -> JouleTrace.sparkPhase(null, "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

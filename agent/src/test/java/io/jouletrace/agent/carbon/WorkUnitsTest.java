package io.jouletrace.agent.carbon;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import io.jouletrace.bridge.Dispatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkUnitsTest {

  private final PhaseRegistry registry = new PhaseRegistry(16, w -> {});
  private final PhaseRecorder recorder = new PhaseRecorder(registry, w -> {});
  private final List<String> warnings = new ArrayList<>();
  private final WorkUnits units =
      new WorkUnits(registry, recorder, 16, Long.MIN_VALUE, System::nanoTime, warnings::add);

  /** DJL's {@code Batch} as the advice sees it: an object with a public {@code getSize()}. */
  public static final class FakeBatch {
    private final int size;

    FakeBatch(int size) {
      this.size = size;
    }

    public int getSize() {
      return size;
    }
  }

  @AfterEach
  void reset() {
    Dispatch.install(null);
    Dispatch.installCounter(null);
  }

  @Test
  void apiCountGoesToTheCallingThreadsCurrentPhase() {
    Dispatch.install(recorder);
    Dispatch.installCounter(units);
    JouleTrace.count("tokens", 5); // outside any phase: other
    try (Phase p = JouleTrace.phase("tokenize")) {
      JouleTrace.count("tokens", 7);
      JouleTrace.count("tokens", 3);
      JouleTrace.count("tokens", -4); // ignored
    }
    assertThat(units.units(registry.idOf("tokenize"), false)).isEqualTo(Map.of("tokens", 10L));
    assertThat(units.units(PhaseRegistry.OTHER, false)).isEqualTo(Map.of("tokens", 5L));
  }

  @Test
  void withoutACounterCountingDoesNothingAndNeverThrows() {
    JouleTrace.count("tokens", 5);
    Dispatch.count(null, 1);
    Dispatch.countSize("train-step", "samples", null);
    assertThat(units.units(PhaseRegistry.OTHER, false)).isEmpty();
  }

  @Test
  void batchSizeAndListSizeAreCountedInTheNamedPhase() {
    Dispatch.installCounter(units);
    Dispatch.countSize("train-step", "samples", new FakeBatch(32));
    Dispatch.countSize("train-step", "samples", new FakeBatch(16));
    Dispatch.countSize("train-step", "samples", "no getSize here");
    Dispatch.countIn("inference", "inferences", 64);
    assertThat(units.units(registry.idOf("train-step"), false)).isEqualTo(Map.of("samples", 48L));
    assertThat(units.units(registry.idOf("inference"), false)).isEqualTo(Map.of("inferences", 64L));
  }

  @Test
  void tooManyUnitNamesGoToOverflowWithOneLine() {
    for (int i = 0; i < WorkUnits.MAX_UNITS + 3; i++) {
      units.countIn("x", "u" + i, 1);
    }
    Map<String, Long> m = units.units(registry.idOf("x"), false);
    assertThat(m.get("overflow")).isEqualTo(4L); // 15 names fit, 4 do not
    assertThat(warnings).singleElement().asString().contains("overflow");
  }
}

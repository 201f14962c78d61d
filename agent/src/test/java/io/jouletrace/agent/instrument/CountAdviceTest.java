package io.jouletrace.agent.instrument;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.agent.Log;
import io.jouletrace.api.JouleTrace;
import io.jouletrace.bridge.Dispatch;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: with the API's hooks instrumented (as when the agent is attached to a running JVM), a
 * count reaches the agent exactly once, whether the API class found the bridge itself or not.
 */
class CountAdviceTest {

  /** Records counts. */
  static final class Counts implements Dispatch.Counter {
    final List<String> calls = new ArrayList<>();

    @Override
    public void count(String unit, long n) {
      calls.add(unit + " " + n);
    }

    @Override
    public void countIn(String phase, String unit, long n) {
      calls.add(phase + " " + unit + " " + n);
    }

    @Override
    public void countSize(String phase, String unit, Object batch) {
      calls.add(phase + " " + unit + " size");
    }
  }

  private final Instrumentation inst = ByteBuddyAgent.install();
  private final List<String> log = new ArrayList<>();
  private final Instrumenter.Gate gate =
      Instrumenter.install(inst, List.of(), true, new Log(log::add));

  @AfterEach
  void reset() throws Exception {
    Dispatch.installCounter(null);
    inst.removeTransformer(gate);
    inst.retransformClasses(JouleTrace.class);
  }

  @Test
  void instrumentedCountHookCountsOnce() {
    Counts c = new Counts();
    Dispatch.installCounter(c);
    JouleTrace.count("tokens", 12);
    assertThat(c.calls).containsExactly("tokens 12");
    assertThat(log).isEmpty();
  }

  @Test
  void djlCountingRulesNameTheirPhaseAndUnit() {
    assertThat(CountAdvice.djl())
        .extracting(r -> r.rule().type() + "#" + r.rule().phase() + "/" + r.unit())
        .containsExactly(
            "ai.djl.training.EasyTrain#train-step/samples",
            "ai.djl.training.EasyTrain#validation/samples",
            "ai.djl.inference.Predictor#inference/inferences");
  }
}

package io.jouletrace.agent.instrument;

import io.jouletrace.bridge.Dispatch;
import java.util.List;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into DJL's choke points to count work units (SCI's R) in the phase the method is: the
 * batch size of {@code EasyTrain.trainBatch} and {@code validateBatch} ({@code Batch.getSize()}),
 * the list size of {@code Predictor.batchPredict}. The phase is named, not read from the thread, so
 * the count does not depend on the order in which this and the phase advice are woven. Only the
 * bridge is referenced, so the inlined code resolves in any class loader.
 */
public final class CountAdvice {

  private CountAdvice() {}

  /** A work-unit counting rule: methods of a class, their counted argument, phase and unit. */
  record CountRule(Rule rule, String unit, boolean batchAtOne) {}

  /**
   * The DJL counting rules.
   *
   * @return training samples, validation samples, inference inputs
   */
  static List<CountRule> djl() {
    return List.of(
        new CountRule(
            Rule.exact("ai.djl.training.EasyTrain", "train-step", "trainBatch"), "samples", true),
        new CountRule(
            Rule.exact("ai.djl.training.EasyTrain", "validation", "validateBatch"),
            "samples",
            true),
        new CountRule(
            Rule.subtypes("ai.djl.inference.Predictor", "inference", "batchPredict"),
            "inferences",
            false));
  }

  /** On a method whose second argument is a batch with {@code getSize()}. */
  public static final class BatchSize {
    private BatchSize() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @PhaseName String phase, @UnitName String unit, @Advice.Argument(1) Object batch) {
      Dispatch.countSize(phase, unit, batch);
    }
  }

  /** On a method whose first argument is a list of inputs. */
  public static final class ListSize {
    private ListSize() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @PhaseName String phase, @UnitName String unit, @Advice.Argument(0) Object inputs) {
      if (inputs instanceof List) {
        Dispatch.countIn(phase, unit, ((List<?>) inputs).size());
      }
    }
  }
}

package io.jouletrace.agent.instrument;

import java.util.List;

/**
 * The work units (SCI's R) counted at DJL's choke points, in the phase the method is: the batch
 * size of {@code EasyTrain.trainBatch} and {@code validateBatch} ({@code Batch.getSize()}, through
 * {@code Dispatch.countSize}), the list size of {@code Predictor.batchPredict} ({@code
 * Dispatch.countList}). The phase is named, not read from the thread, so the count does not depend
 * on the order in which it and the phase are woven.
 */
public final class CountAdvice {

  private CountAdvice() {}

  /**
   * A work-unit counting rule: methods of a class, their counted argument, phase and unit.
   *
   * @param rule the class, methods and phase
   * @param unit the unit counted
   * @param batchAtOne {@code true}: the size of the second argument, a DJL {@code Batch}, among
   *     two; {@code false}: the size of the only argument when it is a {@code List}
   */
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
}

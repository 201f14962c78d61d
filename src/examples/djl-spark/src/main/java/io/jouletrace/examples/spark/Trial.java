package io.jouletrace.examples.spark;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.jouletrace.examples.djl.DjlTrainingExample;
import java.io.Serializable;
import java.util.Locale;
import java.util.Random;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.function.Function;

/**
 * One trial of the sweep, run as one Spark task: trains the DJL training example's MLP with the
 * trial's learning rate (Adam, batch 32) on Gaussian clusters it generates from a fixed seed, and
 * reports its validation accuracy, its wall time and the executor (id and process) it ran in.
 */
final class Trial implements Function<Double, Trial.Result> {

  private static final long serialVersionUID = 1L;
  private static final int BATCH = 32;

  private final int epochs;
  private final int samples;

  Trial(int epochs, int samples) {
    this.epochs = epochs;
    this.samples = samples;
  }

  /** What a trial found, and where it ran. */
  record Result(double learningRate, float accuracy, double seconds, String executor, long pid)
      implements Serializable {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "trial lr=%s accuracy=%.4f seconds=%.2f executor=%s pid=%d",
          learningRate,
          accuracy,
          seconds,
          executor,
          pid);
    }
  }

  @Override
  public Result call(Double learningRate) throws Exception {
    Offline.configure();
    long start = System.nanoTime();
    Engine.getInstance().setRandomSeed(20_261_129);
    Random random = new Random(20_261_126L);
    int f = DjlTrainingExample.FEATURES;
    float[][] centres = new float[DjlTrainingExample.CLASSES][f];
    for (float[] c : centres) {
      for (int d = 0; d < f; d++) {
        c[d] = (float) random.nextGaussian();
      }
    }
    float accuracy;
    try (NDManager manager = NDManager.newBaseManager();
        Model model = Model.newInstance("mlp")) {
      ArrayDataset train = dataset(manager, centres, samples, random, true);
      ArrayDataset validate =
          dataset(manager, centres, Math.max(BATCH, samples / 4), random, false);
      model.setBlock(DjlTrainingExample.mlp());
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
              .optOptimizer(
                  Optimizer.adam()
                      .optLearningRateTracker(Tracker.fixed(learningRate.floatValue()))
                      .build())
              .addEvaluator(new Accuracy())
              .addTrainingListeners(new EvaluatorTrainingListener());
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.setMetrics(new ai.djl.metric.Metrics());
        trainer.initialize(new Shape(BATCH, f));
        EasyTrain.fit(trainer, epochs, train, validate);
        Float a = trainer.getTrainingResult().getValidateEvaluation("Accuracy");
        accuracy = a == null ? Float.NaN : a;
      }
    }
    SparkEnv env = SparkEnv.get();
    return new Result(
        learningRate,
        accuracy,
        (System.nanoTime() - start) / 1e9,
        env == null ? "?" : env.executorId(),
        ProcessHandle.current().pid());
  }

  private static ArrayDataset dataset(
      NDManager manager, float[][] centres, int count, Random random, boolean shuffle) {
    int f = centres[0].length;
    float[] x = new float[count * f];
    float[] y = new float[count];
    for (int i = 0; i < count; i++) {
      int label = random.nextInt(centres.length);
      y[i] = label;
      for (int d = 0; d < f; d++) {
        x[i * f + d] = centres[label][d] + 2.0f * (float) random.nextGaussian();
      }
    }
    NDArray features = manager.create(x, new Shape(count, f));
    NDArray labels = manager.create(y, new Shape(count));
    return new ArrayDataset.Builder()
        .setData(features)
        .optLabels(labels)
        .setSampling(BATCH, shuffle)
        .build();
  }
}

package io.jouletrace.examples.spark;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import io.jouletrace.examples.djl.DjlTrainingExample;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Scores one partition with one DJL predictor: the training example's MLP, initialised from a fixed
 * seed (the energy of inference does not depend on the weights), fed in batches of {@value #BATCH}
 * rows through {@code Predictor.batchPredict} (the agent's {@code inference} phase, inside the
 * task's {@code score} phase).
 */
final class ScorePartition implements MapPartitionsFunction<Row, Integer> {

  private static final long serialVersionUID = 1L;
  static final int BATCH = 64;

  @Override
  public Iterator<Integer> call(Iterator<Row> rows) throws Exception {
    Offline.configure();
    List<Integer> out = new ArrayList<>();
    Engine.getInstance().setRandomSeed(20_261_129);
    try (Model model = Model.newInstance("mlp")) {
      model.setBlock(DjlTrainingExample.mlp());
      model
          .getBlock()
          .initialize(
              model.getNDManager(), DataType.FLOAT32, new Shape(1, DjlTrainingExample.FEATURES));
      try (Predictor<float[], Integer> predictor = model.newPredictor(new ArgMax())) {
        List<float[]> batch = new ArrayList<>(BATCH);
        while (rows.hasNext()) {
          List<Double> f = rows.next().getList(1);
          float[] x = new float[f.size()];
          for (int i = 0; i < x.length; i++) {
            x[i] = f.get(i).floatValue();
          }
          batch.add(x);
          if (batch.size() == BATCH || !rows.hasNext()) {
            out.addAll(predictor.batchPredict(batch));
            batch.clear();
          }
        }
      }
    }
    return out.iterator();
  }

  /** One row of features in, the most likely class out. */
  static final class ArgMax implements Translator<float[], Integer> {
    @Override
    public NDList processInput(TranslatorContext ctx, float[] input) {
      return new NDList(ctx.getNDManager().create(input));
    }

    @Override
    public Integer processOutput(TranslatorContext ctx, NDList list) {
      return (int) list.singletonOrThrow().argMax().getLong();
    }
  }
}

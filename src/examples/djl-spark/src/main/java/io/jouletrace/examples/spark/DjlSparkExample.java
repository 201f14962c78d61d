package io.jouletrace.examples.spark;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.randn;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import io.jouletrace.examples.djl.DjlTrainingExample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * DJL inside Spark tasks, offline, on data it generates, to show where a Spark application's energy
 * goes per phase, on the driver and in every executor.
 *
 * <ul>
 *   <li>{@code --job score}: batch inference over a DataFrame of generated inputs ({@code --rows}
 *       rows of {@value DjlTrainingExample#FEATURES} Gaussian features in {@code --partitions}
 *       partitions), one DJL {@code Predictor} per partition ({@link ScorePartition}), under the
 *       phase {@code score} set on the driver.
 *   <li>{@code --job sweep}: a hyper-parameter sweep, one trial per task ({@link Trial}), each
 *       training the DJL training example's MLP with its own learning rate ({@code
 *       --learning-rates}), under the phase {@code sweep}. Each trial reports the executor and
 *       process it ran in, so that its energy can be read from that executor's report: with as many
 *       trials as executor cores, each executor runs exactly one trial.
 * </ul>
 *
 * <p>The phase reaches the tasks through the local property {@code jouletrace.phase}, set with
 * {@link JouleTrace#sparkPhase(Object, String)}. The master, the application jar and the agent come
 * from the usual Spark configuration ({@code spark-submit} options or {@code -Dspark.*}); see the
 * README's Spark section.
 *
 * <pre>
 * DjlSparkExample --job score|sweep [--rows 4096] [--partitions 4] [--learning-rates 0.001,0.01]
 *                 [--epochs 2] [--samples 1024] [--result FILE]
 * </pre>
 */
public final class DjlSparkExample {

  static final String USAGE =
      "usage: DjlSparkExample --job score|sweep [--rows N] [--partitions N]"
          + " [--learning-rates a,b,...] [--epochs N] [--samples N] [--result FILE]";

  private DjlSparkExample() {}

  /**
   * Runs one job of the example.
   *
   * @param args see the class documentation
   * @throws Exception when the job fails
   */
  public static void main(String[] args) throws Exception {
    String job = null;
    int rows = 4096;
    int partitions = 4;
    List<Double> rates = new ArrayList<>(List.of(1e-3, 1e-2));
    int epochs = 2;
    int samples = 1024;
    Path result = null;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--job" -> job = value;
        case "--rows" -> rows = Integer.parseInt(value);
        case "--partitions" -> partitions = Integer.parseInt(value);
        case "--epochs" -> epochs = Integer.parseInt(value);
        case "--samples" -> samples = Integer.parseInt(value);
        case "--result" -> result = Path.of(value);
        case "--learning-rates" -> {
          rates.clear();
          for (String r : value.split(",")) {
            rates.add(Double.parseDouble(r.trim()));
          }
        }
        default -> throw new IllegalArgumentException(args[i] + "\n" + USAGE);
      }
      i++;
    }
    if (!"score".equals(job) && !"sweep".equals(job)) {
      throw new IllegalArgumentException("--job score or --job sweep\n" + USAGE);
    }
    Offline.configure();
    SparkSession spark = SparkSession.builder().appName("djl-spark-" + job).getOrCreate();
    List<String> lines = new ArrayList<>();
    try {
      lines.add("app " + spark.sparkContext().applicationId());
      if (job.equals("score")) {
        lines.addAll(score(spark, rows, partitions));
      } else {
        lines.addAll(sweep(spark, rates, epochs, samples));
      }
    } finally {
      spark.stop();
    }
    lines.forEach(System.out::println);
    if (result != null) {
      writeAtomically(result, String.join("\n", lines) + "\n");
    }
  }

  /** Batch inference, one predictor per partition; returns one line per predicted class. */
  @SuppressWarnings("try") // the phase is only opened and closed
  static List<String> score(SparkSession spark, int rows, int partitions) {
    Column[] features = new Column[DjlTrainingExample.FEATURES];
    for (int i = 0; i < features.length; i++) {
      features[i] = randn(1000L + i);
    }
    Dataset<Row> inputs =
        spark.range(0, rows, 1, partitions).select(col("id"), array(features).as("features"));
    List<String> out = new ArrayList<>();
    long start = System.nanoTime();
    List<Row> counts;
    try (Phase p = JouleTrace.sparkPhase(spark, "score")) {
      counts =
          inputs
              .mapPartitions(new ScorePartition(), Encoders.INT())
              .groupBy("value")
              .count()
              .orderBy("value")
              .collectAsList();
    }
    long scored = 0;
    for (Row r : counts) {
      scored += r.getLong(1);
      out.add("class " + r.getInt(0) + " " + r.getLong(1));
    }
    if (scored != rows) {
      throw new IllegalStateException("scored " + scored + " rows of " + rows);
    }
    out.add(
        String.format(
            Locale.ROOT,
            "scored %d rows in %d partitions in %.2f s",
            rows,
            partitions,
            (System.nanoTime() - start) / 1e9));
    return out;
  }

  /** The sweep, one trial per task; returns one line per trial. */
  @SuppressWarnings("try") // the phase is only opened and closed
  static List<String> sweep(SparkSession spark, List<Double> rates, int epochs, int samples) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Trial.Result> results;
    try (Phase p = JouleTrace.sparkPhase(spark, "sweep")) {
      results = jsc.parallelize(rates, rates.size()).map(new Trial(epochs, samples)).collect();
    }
    List<String> out = new ArrayList<>();
    for (Trial.Result r : results) {
      out.add(r.toString());
    }
    return out;
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path abs = file.toAbsolutePath();
    Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, abs, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }
}

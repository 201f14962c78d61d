package io.jouletrace.examples.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingResult;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.DivergenceCheckTrainingListener;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A small but real DJL training job, used to exercise the JouleTrace agent.
 *
 * <h2>What it does</h2>
 *
 * <ol>
 *   <li>Starts the DJL PyTorch engine (CPU) fully offline: the PyTorch natives come from the {@code
 *       pytorch-native-cpu} jar bundled in this jar and are extracted once to {@code ~/.djl.ai} (or
 *       {@code DJL_CACHE_DIR}); nothing is downloaded.
 *   <li>Inside the manual phase {@code data-generation} ({@link JouleTrace#phase(String)}), draws a
 *       synthetic data set with a fixed seed: 10 Gaussian clusters in 64 dimensions, {@code
 *       --samples} training samples (default 4096) and a quarter as many validation samples
 *       (default 1024), held in two {@link ArrayDataset}s.
 *   <li>Trains an MLP (64 → 256 → ReLU → 128 → ReLU → 10) with softmax cross-entropy, Adam
 *       (learning rate 1e-3), an {@link Accuracy} evaluator and batch size 32, through {@link
 *       EasyTrain#fit(Trainer, int, ai.djl.training.dataset.Dataset,
 *       ai.djl.training.dataset.Dataset)} for {@code --epochs} epochs (default 3), printing one
 *       line per epoch.
 *   <li>Saves a checkpoint with {@code model.save(dir, "mlp")} (file {@code mlp-NNNN.params}, about
 *       200 KB) into {@code --checkpoint-dir}, or a fresh temporary directory removed at exit.
 *   <li>Runs 5 batches of 64 fresh samples through a {@link Predictor} built on a small {@link
 *       Translator} of its own with {@link Predictor#batchPredict(List)}, and prints their
 *       accuracy. The run fails (exit status 1) if that accuracy is not clearly above chance.
 *   <li>Prints {@code DJL example finished in X.XX s}, then optionally keeps the JVM alive for
 *       {@code --hold-ms} milliseconds (so that a test can scrape the agent's metrics endpoint).
 * </ol>
 *
 * <h2>Running it</h2>
 *
 * <pre>
 * mvn -B -q -f src/examples/djl-training/pom.xml package
 * java -jar src/examples/djl-training/target/djl-training.jar [--epochs 3] [--samples 4096]
 *      [--checkpoint-dir DIR] [--hold-ms 0] [--pid-file PATH]
 * java -javaagent:agent/target/jouletrace-agent.jar -jar src/examples/djl-training/target/djl-training.jar
 * </pre>
 *
 * <p>On Java 22 and newer the jar's manifest carries {@code Enable-Native-Access: ALL-UNNAMED};
 * passing {@code --enable-native-access=ALL-UNNAMED} explicitly does no harm.
 *
 * <h2>Offline and telemetry</h2>
 *
 * <p>Left alone, DJL's engine start-up probes the EC2 metadata address (169.254.169.254) and sends
 * a telemetry request to S3 ({@code ai.djl.util.Ec2Utils.callHome}). What users normally set to
 * prevent that are the environment variables {@code DJL_OFFLINE=true OPT_OUT_TRACKING=true}. This
 * example does not depend on them: before any DJL class is touched, it sets the system properties
 * {@code ai.djl.offline=true} and {@code OPT_OUT_TRACKING=true}, which DJL 0.36 reads when the
 * environment variables are absent ({@code Utils.isOfflineMode()} and {@code
 * Utils.getEnvOrSystemProperty("OPT_OUT_TRACKING")}). Environment variables take precedence over
 * the properties in DJL, so the example warns when one of them is set to something other than
 * {@code true}. Do not set {@code PYTORCH_VERSION} or {@code PYTORCH_FLAVOR}: either makes DJL look
 * for (and download) another native build.
 *
 * <h2>Options</h2>
 *
 * <ul>
 *   <li>{@code --epochs N}: training epochs, at least 1 (default 3).
 *   <li>{@code --samples N}: training samples, at least 320 (default 4096); validation uses N/4.
 *   <li>{@code --checkpoint-dir DIR}: where {@code mlp-NNNN.params} is written (created if missing,
 *       checked before training, kept; default a new temporary directory that is removed when the
 *       JVM exits).
 *   <li>{@code --hold-ms N}: milliseconds to keep the JVM alive after the run (default 0).
 *   <li>{@code --pid-file PATH}: writes this JVM's pid to PATH at start-up.
 * </ul>
 *
 * <p>The process ends by returning from {@code main}, so shutdown hooks (the agent's final report)
 * always run; errors exit with status 1 (2 for bad arguments).
 */
public final class DjlTrainingExample {

  /** Inputs of the model. */
  public static final int FEATURES = 64;

  /** Classes the model tells apart. */
  public static final int CLASSES = 10;

  static final int BATCH_SIZE = 32;
  static final long SEED = 20_261_126L;

  /** Spread of each cluster around its centre; centres are drawn from N(0, 1) per dimension. */
  static final float CLUSTER_NOISE = 2.0f;

  static final int PREDICT_BATCHES = 5;
  static final int PREDICT_BATCH_SIZE = 64;

  private DjlTrainingExample() {}

  /**
   * Runs the example.
   *
   * @param args see the class documentation
   */
  public static void main(String[] args) {
    long start = System.nanoTime();
    // Must happen before the first DJL class is initialised (Engine reads them in its static
    // initialiser). Users who launch DJL programs normally export
    //   DJL_OFFLINE=true OPT_OUT_TRACKING=true
    // instead; those environment variables win over these properties inside DJL.
    configureOffline();

    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("djl-training: " + e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    if (options.help) {
      System.out.println(Options.USAGE);
      return;
    }

    try {
      run(options, start);
    } catch (Throwable t) { // NOPMD: report anything, including native/linkage errors
      System.out.flush();
      System.err.println("DJL example FAILED: " + t);
      t.printStackTrace(System.err);
      System.exit(1);
    }
  }

  static void configureOffline() {
    // Respect an explicit -D from the command line, set them otherwise.
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    if (System.getProperty("OPT_OUT_TRACKING") == null) {
      System.setProperty("OPT_OUT_TRACKING", "true");
    }
    for (String env : new String[] {"DJL_OFFLINE", "OPT_OUT_TRACKING"}) {
      String value = System.getenv(env);
      if (value != null && !Boolean.parseBoolean(value)) {
        System.err.printf(
            Locale.ROOT,
            "djl-training: warning: environment variable %s=%s overrides the system property;"
                + " DJL may try to reach the network%n",
            env,
            value);
      }
    }
    for (String env : new String[] {"PYTORCH_VERSION", "PYTORCH_FLAVOR"}) {
      if (System.getenv(env) != null) {
        System.err.printf(
            Locale.ROOT,
            "djl-training: warning: %s is set; DJL will look for a native build that is not"
                + " bundled and may try to download it%n",
            env);
      }
    }
  }

  @SuppressWarnings("try") // the data-generation phase is only opened and closed
  private static void run(Options options, long start) throws Exception {
    if (options.pidFile != null) {
      writePid(options.pidFile);
    }
    // Fail before the (long) training if the checkpoint cannot be written. A temporary directory
    // is removed when the JVM exits; an explicit --checkpoint-dir is kept.
    boolean temporaryCheckpoint = options.checkpointDir == null;
    Path checkpointDir =
        temporaryCheckpoint
            ? Files.createTempDirectory("djl-training-")
            : Files.createDirectories(options.checkpointDir);
    if (temporaryCheckpoint) {
      checkpointDir.toFile().deleteOnExit();
    }
    if (!Files.isWritable(checkpointDir)) {
      throw new IOException("checkpoint directory is not writable: " + checkpointDir);
    }

    // 1. Engine start (native extraction on the first run) - outside the manual phase on purpose.
    Engine engine = Engine.getEngine("PyTorch");
    engine.setRandomSeed((int) SEED);
    System.out.printf(
        Locale.ROOT,
        "engine: %s %s (DJL %s), device %s, offline=%s, pid %d%n",
        engine.getEngineName(),
        engine.getVersion(),
        Engine.getDjlVersion(),
        Device.cpu(),
        ai.djl.util.Utils.isOfflineMode(),
        ProcessHandle.current().pid());

    int validationSamples = Math.max(BATCH_SIZE, options.samples / 4);
    Random random = new Random(SEED);
    float[][] centres = clusterCentres(random);

    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        Model model = Model.newInstance("mlp", Device.cpu(), "PyTorch")) {

      // 2. Synthetic data, inside a manual JouleTrace phase.
      ArrayDataset train;
      ArrayDataset validate;
      long genStart = System.nanoTime();
      try (Phase phase = JouleTrace.phase("data-generation")) {
        Samples trainSamples = sample(centres, options.samples, random);
        Samples validationSamplesSet = sample(centres, validationSamples, random);
        train = toDataset(manager, trainSamples, true);
        validate = toDataset(manager, validationSamplesSet, false);
      }
      System.out.printf(
          Locale.ROOT,
          "data: %d training + %d validation samples, %d features, %d classes (%.2f s)%n",
          options.samples,
          validationSamples,
          FEATURES,
          CLASSES,
          seconds(genStart));

      // 3. Model and training.
      model.setBlock(mlp());
      EvaluatorTrainingListener evaluations = new EvaluatorTrainingListener();
      long trainStart = System.nanoTime();
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
              .optDevices(new Device[] {Device.cpu()})
              .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build())
              .addEvaluator(new Accuracy())
              .addTrainingListeners(
                  evaluations,
                  new DivergenceCheckTrainingListener(),
                  new ProgressListener(evaluations, options.epochs, trainStart));

      TrainingResult result;
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.setMetrics(new ai.djl.metric.Metrics());
        trainer.initialize(new Shape(BATCH_SIZE, FEATURES));
        EasyTrain.fit(trainer, options.epochs, train, validate);
        result = trainer.getTrainingResult();
      }
      Float validationAccuracy = result.getValidateEvaluation("Accuracy");
      System.out.printf(
          Locale.ROOT,
          "training: %d epoch(s) in %.2f s, final validation accuracy %s%n",
          options.epochs,
          seconds(trainStart),
          validationAccuracy == null
              ? "n/a"
              : String.format(Locale.ROOT, "%.4f", validationAccuracy));

      // 4. Checkpoint.
      model.setProperty("Epoch", Integer.toString(options.epochs));
      if (validationAccuracy != null) {
        model.setProperty("ValidationAccuracy", Float.toString(validationAccuracy));
      }
      long saveStart = System.nanoTime();
      model.save(checkpointDir, "mlp");
      System.out.printf(
          Locale.ROOT,
          "checkpoint: %s (%d bytes, %.2f s)%s%n",
          checkpointDir.toAbsolutePath(),
          directorySize(checkpointDir),
          seconds(saveStart),
          temporaryCheckpoint ? ", temporary: removed at exit" : "");
      if (temporaryCheckpoint) {
        deleteOnExit(checkpointDir);
      }

      // 5. Inference on fresh samples through a Predictor.
      long predictStart = System.nanoTime();
      int correct = 0;
      int total = 0;
      try (Predictor<float[], Integer> predictor = model.newPredictor(new ClusterTranslator())) {
        for (int b = 0; b < PREDICT_BATCHES; b++) {
          Samples batch = sample(centres, PREDICT_BATCH_SIZE, random);
          List<float[]> inputs = new ArrayList<>(PREDICT_BATCH_SIZE);
          for (int i = 0; i < batch.count; i++) {
            inputs.add(batch.row(i));
          }
          List<Integer> predicted = predictor.batchPredict(inputs);
          if (predicted.size() != inputs.size()) {
            throw new IllegalStateException(
                "batchPredict returned " + predicted.size() + " results for " + inputs.size());
          }
          for (int i = 0; i < batch.count; i++) {
            if (predicted.get(i) == (int) batch.labels[i]) {
              correct++;
            }
            total++;
          }
        }
      }
      double predictionAccuracy = (double) correct / total;
      System.out.printf(
          Locale.ROOT,
          "inference: %d batches x %d samples, accuracy %.4f (%d/%d, chance %.2f) in %.2f s%n",
          PREDICT_BATCHES,
          PREDICT_BATCH_SIZE,
          predictionAccuracy,
          correct,
          total,
          1.0 / CLASSES,
          seconds(predictStart));
      double required = 2.0 / CLASSES;
      if (predictionAccuracy < required) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "the model did not learn: prediction accuracy %.4f is below %.2f (chance is %.2f)",
                predictionAccuracy,
                required,
                1.0 / CLASSES));
      }
    }

    System.out.printf(Locale.ROOT, "DJL example finished in %.2f s%n", seconds(start));
    System.out.flush();

    if (options.holdMs > 0) {
      System.out.printf(Locale.ROOT, "holding the JVM for %d ms%n", options.holdMs);
      System.out.flush();
      try {
        Thread.sleep(options.holdMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Model

  /**
   * The example's model: an MLP 64 → 256 → ReLU → 128 → ReLU → 10 (also trained by the Spark
   * example's sweep).
   *
   * @return a new, uninitialised block
   */
  public static SequentialBlock mlp() {
    return new SequentialBlock()
        .add(Linear.builder().setUnits(256).build())
        .add(Activation::relu)
        .add(Linear.builder().setUnits(128).build())
        .add(Activation::relu)
        .add(Linear.builder().setUnits(CLASSES).build());
  }

  /** One sample (64 floats) in, predicted class out; batched by DJL's default stack batchifier. */
  static final class ClusterTranslator implements Translator<float[], Integer> {

    @Override
    public NDList processInput(TranslatorContext ctx, float[] input) {
      if (input.length != FEATURES) {
        throw new IllegalArgumentException(
            "expected " + FEATURES + " features, got " + input.length);
      }
      return new NDList(ctx.getNDManager().create(input));
    }

    @Override
    public Integer processOutput(TranslatorContext ctx, NDList list) {
      return (int) list.singletonOrThrow().argMax().getLong();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Data

  /** Row-major features and their class labels. */
  static final class Samples {
    final float[] features;
    final float[] labels;
    final int count;

    Samples(float[] features, float[] labels, int count) {
      this.features = features;
      this.labels = labels;
      this.count = count;
    }

    float[] row(int i) {
      float[] row = new float[FEATURES];
      System.arraycopy(features, i * FEATURES, row, 0, FEATURES);
      return row;
    }
  }

  static float[][] clusterCentres(Random random) {
    float[][] centres = new float[CLASSES][FEATURES];
    for (float[] centre : centres) {
      for (int d = 0; d < FEATURES; d++) {
        centre[d] = (float) random.nextGaussian();
      }
    }
    return centres;
  }

  static Samples sample(float[][] centres, int count, Random random) {
    float[] features = new float[count * FEATURES];
    float[] labels = new float[count];
    for (int i = 0; i < count; i++) {
      int label = random.nextInt(CLASSES);
      labels[i] = label;
      float[] centre = centres[label];
      for (int d = 0; d < FEATURES; d++) {
        features[i * FEATURES + d] = centre[d] + CLUSTER_NOISE * (float) random.nextGaussian();
      }
    }
    return new Samples(features, labels, count);
  }

  static ArrayDataset toDataset(NDManager manager, Samples samples, boolean shuffle) {
    NDArray x = manager.create(samples.features, new Shape(samples.count, FEATURES));
    NDArray y = manager.create(samples.labels, new Shape(samples.count));
    return new ArrayDataset.Builder()
        .setData(x)
        .optLabels(y)
        .setSampling(BATCH_SIZE, shuffle)
        .build();
  }

  // ---------------------------------------------------------------------------------------------
  // Progress

  /** Prints one line per epoch from the evaluator listener that ran just before it. */
  static final class ProgressListener extends TrainingListenerAdapter {
    private final EvaluatorTrainingListener evaluations;
    private final int epochs;
    private final long trainStart;
    private long epochStart;
    private int epoch;

    ProgressListener(EvaluatorTrainingListener evaluations, int epochs, long trainStart) {
      this.evaluations = evaluations;
      this.epochs = epochs;
      this.trainStart = trainStart;
    }

    @Override
    public void onTrainingBegin(Trainer trainer) {
      epochStart = System.nanoTime();
    }

    @Override
    public void onEpoch(Trainer trainer) {
      epoch++;
      Map<String, Float> latest = evaluations.getLatestEvaluations();
      System.out.printf(
          Locale.ROOT,
          "epoch %d/%d: train accuracy %s, loss %s | validation accuracy %s, loss %s | %.2f s"
              + " (total %.2f s)%n",
          epoch,
          epochs,
          format(latest.get("train_Accuracy")),
          format(latest.get("train_loss")),
          format(latest.get("validate_Accuracy")),
          format(latest.get("validate_loss")),
          seconds(epochStart),
          seconds(trainStart));
      epochStart = System.nanoTime();
    }

    private static String format(Float value) {
      return value == null ? "n/a" : String.format(Locale.ROOT, "%.4f", value);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Utilities

  static double seconds(long sinceNanos) {
    return (System.nanoTime() - sinceNanos) / 1e9;
  }

  private static void writePid(Path pidFile) throws IOException {
    Path parent = pidFile.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.write(
        pidFile, (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  /** Registers the files under dir (not dir itself) for deletion, deepest first, at exit. */
  private static void deleteOnExit(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      // File.deleteOnExit deletes in reverse order of registration: register parents first.
      files.filter(p -> !p.equals(dir)).sorted().forEach(p -> p.toFile().deleteOnExit());
    }
  }

  private static long directorySize(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0L;
                }
              })
          .sum();
    }
  }

  /** Command-line options. */
  static final class Options {
    static final String USAGE =
        "usage: java -jar djl-training.jar [--epochs N (default 3)] [--samples N (default 4096,"
            + " min 320)] [--checkpoint-dir DIR] [--hold-ms N (default 0)] [--pid-file PATH]";

    int epochs = 3;
    int samples = 4096;
    Path checkpointDir;
    long holdMs;
    Path pidFile;
    boolean help;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        String value = null;
        int eq = arg.indexOf('=');
        if (arg.startsWith("--") && eq > 0) {
          value = arg.substring(eq + 1);
          arg = arg.substring(0, eq);
        }
        switch (arg) {
          case "-h":
          case "--help":
            o.help = true;
            break;
          case "--epochs":
            o.epochs = (int) number(arg, value != null ? value : next(args, ++i, arg), 1, 10_000);
            break;
          case "--samples":
            o.samples =
                (int) number(arg, value != null ? value : next(args, ++i, arg), 320, 10_000_000);
            break;
          case "--checkpoint-dir":
            o.checkpointDir = Paths.get(value != null ? value : next(args, ++i, arg));
            break;
          case "--hold-ms":
            o.holdMs = number(arg, value != null ? value : next(args, ++i, arg), 0, Long.MAX_VALUE);
            break;
          case "--pid-file":
            o.pidFile = Paths.get(value != null ? value : next(args, ++i, arg));
            break;
          default:
            throw new IllegalArgumentException("unknown argument: " + args[i]);
        }
      }
      return o;
    }

    private static String next(String[] args, int i, String option) {
      if (i >= args.length) {
        throw new IllegalArgumentException(option + " needs a value");
      }
      return args[i];
    }

    private static long number(String option, String text, long min, long max) {
      long v;
      try {
        v = Long.parseLong(text.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(option + " expects a number, got '" + text + "'", e);
      }
      if (v < min || v > max) {
        throw new IllegalArgumentException(
            option + " must be between " + min + " and " + max + ", got " + v);
      }
      return v;
    }
  }
}

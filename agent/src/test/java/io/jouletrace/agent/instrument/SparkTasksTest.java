package io.jouletrace.agent.instrument;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jouletrace.agent.Log;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.bridge.TaskPhases;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.apache.spark.scheduler.Task;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: the Spark task advice woven into a class named like Spark's task, with the real
 * transformer, and the handler that validates and counts.
 */
class SparkTasksTest {

  private final Instrumentation inst = ByteBuddyAgent.install();
  private final List<String> log = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private final InstrumenterTest.Recording recording = new InstrumenterTest.Recording(false);
  private final SparkTasks tasks = new SparkTasks(warnings::add, 4);
  private final Instrumenter.Gate gate =
      Instrumenter.install(inst, List.of(SparkTasks.rule()), false, new Log(log::add));

  {
    Dispatch.install(recording);
    TaskPhases.install(tasks);
  }

  @AfterEach
  void reset() throws Exception {
    Dispatch.install(null);
    TaskPhases.install(null);
    inst.removeTransformer(gate);
    inst.retransformClasses(Task.class);
  }

  private static Task task(String phase, java.util.function.Supplier<Object> body) {
    Properties p = new Properties();
    if (phase != null) {
      p.setProperty("jouletrace.phase", phase);
    }
    return new Task(p, body);
  }

  @Test
  void aTaskWithThePropertyIsAPhaseAndIsCounted() {
    assertThat(task("featurize", () -> 42).run(1, 0)).isEqualTo(42);
    assertThat(task("featurize", () -> 43).run(2, 0)).isEqualTo(43);
    assertThat(task("score", () -> 1).run(3, 0)).isEqualTo(1);
    assertThat(recording.calls)
        .containsExactly(
            "enter featurize", "exit 7", "enter featurize", "exit 7", "enter score", "exit 7");
    assertThat(tasks.counts()).containsExactly(Map.entry("featurize", 2L), Map.entry("score", 1L));
    assertThat(log).isEmpty();
  }

  @Test
  void phasesInsideTheTaskNestUnderIt() {
    task(
            "sweep",
            () -> {
              long t = Dispatch.enter("train-step");
              Dispatch.exit(t);
              return null;
            })
        .run(1, 0);
    assertThat(recording.calls)
        .containsExactly("enter sweep", "enter train-step", "exit 7", "exit 7");
  }

  @Test
  void withoutThePropertyNothingIsOpened() {
    task(null, () -> 1).run(1, 0);
    new Task(null, () -> 2).run(2, 0); // a task whose properties were never set
    assertThat(recording.calls).isEmpty();
    assertThat(tasks.counts()).isEmpty();
  }

  @Test
  void aFailingTaskClosesItsPhaseAndTheFailureIsTheTasks() {
    assertThatThrownBy(
            () ->
                task(
                        "score",
                        () -> {
                          throw new IllegalStateException("task failed");
                        })
                    .run(1, 0))
        .hasMessage("task failed");
    assertThat(recording.calls).containsExactly("enter score", "exit 7");
  }

  @Test
  void malformedValuesOpenNothingAndAreReportedOnceEach() {
    String tooLong = "x".repeat(SparkTasks.MAX_LENGTH + 1);
    for (int i = 0; i < 3; i++) {
      task("", () -> 1).run(1, 0);
      task("  ", () -> 1).run(1, 0);
      task(tooLong, () -> 1).run(1, 0);
      task("a\nb", () -> 1).run(1, 0);
    }
    task("ok", () -> 1).run(1, 0);
    assertThat(warnings).isEmpty(); // the task threads only queue them
    tasks.drainWarnings();
    assertThat(recording.calls).containsExactly("enter ok", "exit 7");
    assertThat(tasks.counts()).containsExactly(Map.entry("ok", 1L));
    assertThat(warnings).hasSize(4);
    assertThat(warnings.get(0)).contains("jouletrace.phase=\"\"", "empty");
    assertThat(warnings.get(2)).contains("longer than 128", "...\"");
    assertThat(warnings.get(3)).contains("a\\u000ab", "control characters").doesNotContain("\n");
  }

  @Test
  void distinctNamesBeyondTheLimitAreCountedAsOverflow() {
    for (String p : List.of("a", "b", "c", "d", "e", "f", "a")) {
      task(p, () -> 1).run(1, 0);
    }
    assertThat(tasks.counts())
        .containsExactly(
            Map.entry("a", 2L),
            Map.entry("b", 1L),
            Map.entry("c", 1L),
            Map.entry("d", 1L),
            Map.entry("overflow", 2L));
  }

  @Test
  void aFailingRecorderNeverReachesTheTask() {
    Dispatch.install(new InstrumenterTest.Recording(true));
    assertThat(task("score", () -> 5).run(1, 0)).isEqualTo(5);
  }
}

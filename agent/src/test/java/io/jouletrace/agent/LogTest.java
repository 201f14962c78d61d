package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogTest {

  private final List<String> out = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();

  @Test
  void problemsArePrintedOnceAndHandedToTheReport() {
    Log log = new Log(out::add);
    log.problemsTo(problems::add);
    log.line("no RAPL zones");
    log.line("no RAPL zones");
    log.warn("gpu.share.gpu-0", "share unreadable (first)");
    log.warn("gpu.share.gpu-0", "share unreadable (second)");
    assertThat(out)
        .containsExactly("jouletrace: no RAPL zones", "jouletrace: share unreadable (first)");
    assertThat(problems).isEqualTo(out);
  }

  @Test
  void resultsAndTextAreNotProblems() {
    Log log = new Log(out::add);
    log.problemsTo(problems::add);
    log.info("report /tmp/r.json");
    log.info("report /tmp/r.json");
    log.text("phase  joules\nother  1.0\n");
    assertThat(out)
        .containsExactly(
            "jouletrace: report /tmp/r.json",
            "jouletrace: report /tmp/r.json",
            "phase  joules",
            "other  1.0");
    assertThat(problems).isEmpty();
  }

  @Test
  void debugLinesOnlyAtDebugLevel() {
    new Log(out::add, false).debug("source opened");
    assertThat(out).isEmpty();
    Log debug = new Log(out::add, true);
    debug.problemsTo(problems::add);
    debug.debug("source opened");
    assertThat(out).containsExactly("jouletrace: [debug] source opened");
    assertThat(problems).isEmpty();
    assertThat(debug.debugEnabled()).isTrue();
  }

  @Test
  void textIsSplitIntoTheLinesThatSplitOnLineBreaksGives() {
    char[] alphabet = {'a', 'b', '\n', '\r', '\u2028', '\u0085', '\f', ' '};
    java.util.SplittableRandom r = new java.util.SplittableRandom(7);
    int differ = 0;
    for (int i = 0; i < 50_000; i++) {
      StringBuilder b = new StringBuilder();
      for (int k = r.nextInt(12); k > 0; k--) {
        b.append(alphabet[r.nextInt(alphabet.length)]);
      }
      String text = b.toString();
      if (!Log.splitLines(text).equals(List.of(text.split("\\R")))) {
        differ++;
      }
    }
    assertThat(differ).isZero();
  }
}

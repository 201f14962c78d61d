package io.jouletrace.agent.phase;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PhaseRecorderTest {

  private final List<String> warnings = new ArrayList<>();
  private final PhaseRegistry registry = new PhaseRegistry(8, warnings::add);
  private final PhaseRecorder recorder = new PhaseRecorder(registry, warnings::add);

  private record Event(long time, int slot, String phase) {}

  private List<Event> drain() {
    List<Event> out = new ArrayList<>();
    recorder.drain((t, s, p) -> out.add(new Event(t, s, registry.name(p))), System.nanoTime());
    return out;
  }

  private static List<String> names(List<Event> events) {
    return events.stream().map(Event::phase).toList();
  }

  @Test
  void nestingPublishesTheInnermostPhase() {
    long outer = recorder.enter("outer");
    long inner = recorder.enter("inner");
    recorder.exit(inner);
    recorder.exit(outer);
    List<Event> events = drain();
    assertThat(names(events)).containsExactly("outer", "inner", "outer", "other");
    for (int i = 1; i < events.size(); i++) {
      assertThat(events.get(i).time()).isGreaterThanOrEqualTo(events.get(i - 1).time());
    }
  }

  @Test
  void closingTwiceIsHarmlessAndClosingOuterClosesInner() {
    long a = recorder.enter("a");
    long b = recorder.enter("b");
    recorder.exit(a); // out of order: closes b too
    recorder.exit(b); // already closed
    recorder.exit(a); // twice
    long c = recorder.enter("c");
    recorder.exit(b); // stale token from the same depth as c's parent: ignored
    assertThat(names(drain())).containsExactly("a", "b", "other", "c");
    recorder.exit(c);
    assertThat(names(drain())).containsExactly("other");
  }

  @Test
  void closeFromAnotherThreadIsIgnoredAndReportedOnce() throws Exception {
    long a = recorder.enter("a");
    Thread t =
        new Thread(
            () -> {
              recorder.exit(a);
              recorder.exit(a);
            });
    t.start();
    t.join();
    assertThat(warnings).singleElement().asString().contains("other than the one that opened it");
    recorder.exit(a);
    assertThat(names(drain())).containsExactly("a", "other");
  }

  @Test
  void phasesOfAThreadThatEndsAreClosedAtItsEnd() throws Exception {
    Thread t = new Thread(() -> recorder.enter("never-closed"));
    t.start();
    t.join();
    List<Event> events = drain();
    assertThat(names(events)).containsExactly("never-closed", "other");
    assertThat(events.get(0).slot()).isEqualTo(events.get(1).slot());
    assertThat(drain()).isEmpty();
  }

  @Test
  void ringOverflowDropsEventsButResynchronisesTheCurrentPhase() {
    long outer = recorder.enter("outer");
    for (int i = 0; i < 10_000; i++) {
      recorder.exit(recorder.enter("burst"));
    }
    long last = recorder.enter("last");
    List<Event> events = drain();
    assertThat(events.size()).isLessThan(10_000);
    assertThat(events.get(events.size() - 1).phase()).isEqualTo("last");
    recorder.exit(last);
    recorder.exit(outer);
    assertThat(names(drain())).containsExactly("outer", "other");
  }

  @Test
  void distinctNamesBeyondTheCapGoToOverflowOnce() {
    for (int i = 0; i < 20; i++) {
      recorder.exit(recorder.enter("name-" + i));
    }
    assertThat(registry.size()).isEqualTo(8);
    assertThat(registry.idOf("name-19")).isEqualTo(PhaseRegistry.OVERFLOW);
    assertThat(warnings).singleElement().asString().contains("phases.max", "overflow");
    assertThat(registry.idOf(null)).isEqualTo(registry.idOf("unnamed"));
  }

  @Test
  void reenteringTheInnermostPhaseIsNotANewPhase() {
    long outer = recorder.enter("step");
    long again = recorder.enter("step"); // recursion, or an override calling super
    assertThat(again).isZero();
    long inner = recorder.enter("other-work");
    long back = recorder.enter("step"); // not innermost any more: a real nested phase
    assertThat(back).isNotZero();
    recorder.exit(back);
    recorder.exit(inner);
    recorder.exit(again);
    recorder.exit(outer);
    assertThat(names(drain()))
        .containsExactly("step", "other-work", "step", "other-work", "step", "other");
  }
}

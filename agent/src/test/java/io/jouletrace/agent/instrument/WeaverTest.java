package io.jouletrace.agent.instrument;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jouletrace.bridge.Dispatch;
import io.jouletrace.testapp.Awkward;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tier 1: the weaver's output, defined by a class loader of its own (so the JVM verifies it) and
 * run: each phase opens and closes once on every way out, the method's own handlers still catch
 * first, and results are unchanged.
 */
class WeaverTest {

  /** Defines the woven class itself and delegates everything else. */
  static final class WovenLoader extends ClassLoader {
    private final String name;
    private final byte[] bytes;

    WovenLoader(String name, byte[] bytes) {
      super(WeaverTest.class.getClassLoader());
      this.name = name;
      this.bytes = bytes;
    }

    @Override
    protected Class<?> loadClass(String n, boolean resolve) throws ClassNotFoundException {
      if (n.equals(name)) {
        synchronized (getClassLoadingLock(n)) {
          Class<?> c = findLoadedClass(n);
          return c != null ? c : defineClass(n, bytes, 0, bytes.length);
        }
      }
      return super.loadClass(n, resolve);
    }
  }

  private final InstrumenterTest.Recording recording = new InstrumenterTest.Recording(false);
  private Class<?> woven;
  private Object instance;

  @BeforeEach
  void weave() throws Exception {
    String name = Awkward.class.getName();
    byte[] original;
    try (InputStream in =
        Awkward.class.getClassLoader().getResourceAsStream(name.replace('.', '/') + ".class")) {
      original = in.readAllBytes();
    }
    byte[] bytes =
        Instrumenter.weaver(List.of(), false)
            .transform(
                null, getClass().getClassLoader(), name.replace('.', '/'), null, null, original);
    assertThat(bytes).as("woven").isNotNull();
    woven = new WovenLoader(name, bytes).loadClass(name);
    assertThat(woven).isNotSameAs(Awkward.class);
    instance = woven.getConstructor().newInstance();
    Dispatch.takeFailure(); // one left by an earlier test class is not this one's
    Dispatch.install(recording);
  }

  @AfterEach
  void reset() {
    Dispatch.install(null);
    assertThat(Dispatch.takeFailure()).isNull();
  }

  private Object call(String method, Object... args) throws Throwable {
    for (Method m : woven.getDeclaredMethods()) {
      if (m.getName().equals(method)) {
        m.setAccessible(true);
        try {
          return m.invoke(instance, args);
        } catch (InvocationTargetException e) {
          throw e.getCause();
        }
      }
    }
    throw new NoSuchMethodException(method);
  }

  @Test
  void aLoopAtTheFirstInstructionRunsInsideItsPhase() throws Throwable {
    assertThat(call("spin", 5)).isEqualTo(0);
    assertThat(recording.calls).containsExactly("enter spin", "exit 7");
  }

  @Test
  void theMethodsOwnHandlerCatchesFirstAndThePhaseClosesOnce() throws Throwable {
    assertThat(call("caught", -4.0)).isEqualTo(-1.0);
    assertThat(call("caught", 16.0)).isEqualTo(4.0);
    assertThat(recording.calls).containsExactly("enter caught", "exit 7", "enter caught", "exit 7");
  }

  @Test
  void anExceptionLeavesTheMethodUnchangedWithItsPhaseClosed() {
    assertThatThrownBy(() -> call("thrown", "boom"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("boom");
    assertThat(recording.calls).containsExactly("enter thrown", "exit 7");
  }

  @Test
  void wideArgumentsAndEveryReturnKeepTheirValues() throws Throwable {
    assertThat(call("wide", 10L, 2.5, 3, null)).isEqualTo(15L);
    assertThat(call("wide", 10L, 2.5, 3, "x")).isEqualTo(30L);
    for (int k = 0; k < 4; k++) {
      assertThat(call("pick", k)).isEqualTo(List.of("zero", "one", "two", "many").get(k));
    }
    assertThat(call("locked", 1)).isEqualTo(2);
    assertThat(recording.calls)
        .containsExactly(
            "enter wide",
            "exit 7",
            "enter wide",
            "exit 7",
            "enter switch",
            "exit 7",
            "enter switch",
            "exit 7",
            "enter switch",
            "exit 7",
            "enter switch",
            "exit 7",
            "enter locked",
            "exit 7");
  }

  @Test
  void phasesNestAndAMethodWithoutOneIsLeftAlone() throws Throwable {
    assertThat(call("outer", 4)).isEqualTo(9);
    assertThat(call("plain", 4)).isEqualTo(3);
    assertThat(recording.calls).containsExactly("enter outer", "enter inner", "exit 7", "exit 7");
  }

  @Test
  void withoutTheAgentTheWovenCodeIsInert() throws Throwable {
    Dispatch.install(null);
    assertThat(call("outer", 4)).isEqualTo(9);
    assertThatThrownBy(() -> call("thrown", "x")).isInstanceOf(IllegalStateException.class);
    assertThat(recording.calls).isEmpty();
  }
}

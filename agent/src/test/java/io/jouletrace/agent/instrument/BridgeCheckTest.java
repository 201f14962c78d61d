package io.jouletrace.agent.instrument;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jouletrace.agent.Log;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.testapp.Isolated;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: a class whose loader cannot see the bridge is not woven (its advice could not link, and
 * the phase would vanish silently); the loader is named once.
 */
class BridgeCheckTest {

  /**
   * Defines the {@code io.jouletrace.testapp} classes itself, from this test's class path, and asks
   * only the platform class loader for anything else: like an OSGi bundle or an isolated plugin
   * loader, it never asks the system class loader, which holds the bridge.
   */
  static final class PluginLoader extends ClassLoader {
    PluginLoader() {
      super("plugin", ClassLoader.getPlatformClassLoader());
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
      if (!name.startsWith("io.jouletrace.testapp.")) {
        throw new ClassNotFoundException(name);
      }
      try {
        byte[] b = bytes(name);
        return defineClass(name, b, 0, b.length);
      } catch (IOException e) {
        throw new ClassNotFoundException(name, e);
      }
    }
  }

  static byte[] bytes(String className) throws IOException {
    try (InputStream in =
        BridgeCheckTest.class
            .getClassLoader()
            .getResourceAsStream(className.replace('.', '/') + ".class")) {
      if (in == null) {
        throw new IOException("no class file for " + className);
      }
      return in.readAllBytes();
    }
  }

  private final Instrumentation inst = ByteBuddyAgent.install();
  private final List<String> log = new ArrayList<>();
  private final List<Rule> rules =
      List.of(Rule.parse("iso", "io.jouletrace.testapp.Isolated*#work").get(0));
  private final Instrumenter.Gate gate =
      Instrumenter.install(inst, rules, false, new Log(log::add));

  @AfterEach
  void reset() throws Exception {
    Dispatch.install(null);
    inst.removeTransformer(gate);
    inst.retransformClasses(Isolated.class, Isolated.Again.class);
  }

  @Test
  void aLoaderThatCannotSeeTheBridgeIsNamedOnceAndItsClassesAreLeftAsTheyAre() throws Exception {
    PluginLoader plugin = new PluginLoader();
    // ground truth, without the agent's code: this loader really cannot see the bridge
    assertThatThrownBy(() -> Class.forName(Dispatch.class.getName(), false, plugin))
        .isInstanceOf(ClassNotFoundException.class);
    InstrumenterTest.Recording r = new InstrumenterTest.Recording(false);
    Dispatch.install(r);

    // The rule works where the bridge is visible: the same classes from the application loader.
    assertThat(Isolated.work(1)).isEqualTo(2);
    assertThat(Isolated.Again.work(1)).isEqualTo(3);
    assertThat(r.calls).containsExactly("enter iso", "exit 7", "enter iso", "exit 7");
    assertThat(log).isEmpty();
    r.calls.clear();

    // From the plugin loader: loaded, run, not woven, and the loader is named once.
    Class<?> isolated = Class.forName(Isolated.class.getName(), true, plugin);
    Class<?> again = Class.forName(Isolated.Again.class.getName(), true, plugin);
    assertThat(isolated.getClassLoader()).isSameAs(plugin);
    assertThat(isolated.getMethod("work", int.class).invoke(null, 1)).isEqualTo(2);
    assertThat(again.getMethod("work", int.class).invoke(null, 1)).isEqualTo(3);
    assertThat(r.calls).isEmpty();
    assertThat(log)
        .singleElement()
        .asString()
        .startsWith("jouletrace: class loader " + PluginLoader.class.getName() + " 'plugin'@")
        .contains(
            "cannot see io.jouletrace.bridge.Dispatch",
            Isolated.class.getName() + " and the other classes it loads are not instrumented",
            "bootdelegation=io.jouletrace.bridge.*");
    // what the JVM got back for that loader: nothing, i.e. the class as it was
    assertThat(
            gate.transform(
                null,
                plugin,
                Isolated.class.getName().replace('.', '/'),
                isolated,
                isolated.getProtectionDomain(),
                bytes(Isolated.class.getName())))
        .isNull();
    // while for the application loader the same bytes are woven
    assertThat(
            gate.transform(
                null,
                Isolated.class.getClassLoader(),
                Isolated.class.getName().replace('.', '/'),
                Isolated.class,
                Isolated.class.getProtectionDomain(),
                bytes(Isolated.class.getName())))
        .isNotNull();
    assertThat(log).hasSize(1);
  }

  @Test
  void aLoaderThatSeesAnotherCopyOfTheBridgeIsNamedToo() {
    List<String> lines = new ArrayList<>();
    // stands in for a loader that bundles its own copy: it resolves the name to another class
    BridgeCheck check = new BridgeCheck(Object.class, new Log(lines::add));
    ClassLoader app = BridgeCheckTest.class.getClassLoader();
    assertThat(check.reachable(app, "a/B")).isFalse();
    assertThat(check.reachable(app, "a/C")).isFalse();
    assertThat(lines)
        .singleElement()
        .asString()
        .contains("resolves io.jouletrace.bridge.Dispatch to another copy of it", "a.B");
    assertThat(new BridgeCheck(new Log(lines::add)).reachable(app, "a/B")).isTrue();
  }
}

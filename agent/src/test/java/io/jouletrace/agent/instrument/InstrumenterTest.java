package io.jouletrace.agent.instrument;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jouletrace.agent.Log;
import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import io.jouletrace.bridge.Dispatch;
import io.jouletrace.testapp.Late;
import io.jouletrace.testapp.Shapes;
import io.jouletrace.testapp.Signatures;
import io.jouletrace.testapp.Workload;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Tier 2: the real transformer installed in this JVM through Byte Buddy's agent. */
class InstrumenterTest {

  /** Records calls, or throws on every call when told to. */
  static final class Recording implements Dispatch.Recorder {
    final List<String> calls = new ArrayList<>();
    final boolean explode;

    Recording(boolean explode) {
      this.explode = explode;
    }

    @Override
    public long enter(String phase) {
      if (explode) {
        throw new IllegalStateException("recorder failure");
      }
      calls.add("enter " + phase);
      return 7;
    }

    @Override
    public void exit(long token) {
      if (explode) {
        throw new IllegalStateException("recorder failure");
      }
      calls.add("exit " + token);
    }
  }

  private final Instrumentation inst = ByteBuddyAgent.install();
  private final List<String> log = new ArrayList<>();
  private final Instrumenter.Gate transformer =
      Instrumenter.install(
          inst,
          List.of(
              Rule.exact(Workload.class.getName(), "work", "step", "fail"),
              Rule.subtypes(Shapes.Shape.class.getName(), "area", "area"),
              Rule.parse("count", "io.jouletrace.testapp.Shapes$Tok*#countdown").get(0)),
          true,
          new Log(log::add));

  @AfterEach
  void reset() {
    Dispatch.install(null);
    inst.removeTransformer(transformer);
    try {
      inst.retransformClasses(
          Workload.class,
          JouleTrace.class,
          Shapes.Square.class,
          Shapes.BigSquare.class,
          Shapes.Tokenizer.class);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void instrumentedMethodIsAPhaseEvenWhenLoadedBeforeInstall() throws Exception {
    assertThat(Workload.step(0)).isEqualTo(1); // loaded (and now retransformed) before this test
    Recording r = new Recording(false);
    Dispatch.install(r);
    assertThat(Workload.step(1)).isEqualTo(2);
    assertThat(r.calls).containsExactly("enter work", "exit 7");
    r.calls.clear();
    // the application's own exception goes through the exit advice unchanged, and still closes
    assertThatThrownBy(Workload::fail)
        .isExactlyInstanceOf(IllegalStateException.class)
        .hasMessage("from the application");
    assertThat(r.calls).containsExactly("enter work", "exit 7");
    assertThat(log).isEmpty();
  }

  @Test
  void theRulesThatMatchedAMethodAreKnownSoThatTheOthersCanBeNamedAtExit() throws Exception {
    assertThat(Workload.step(0)).isEqualTo(1); // loaded before the gate below
    Rule used = Rule.exact(Workload.class.getName(), "used", "step");
    Rule noMethod = Rule.exact(Workload.class.getName(), "nomethod", "noSuchMethod");
    Rule noClass = Rule.parse("noclass", "com.none.*#foo").get(0);
    Rule jdk = Rule.parse("jdk", "java.lang.String#length").get(0);
    Instrumenter.Gate gate =
        Instrumenter.install(inst, List.of(used, noMethod, noClass, jdk), false, new Log(log::add));
    try {
      assertThat(gate.matched()).containsExactly(used);
    } finally {
      inst.removeTransformer(gate);
    }
    assertThat(noClass.unmatched())
        .isEqualTo(
            "phase.noclass: no method woven for com.none.* in this run (no class of that name was"
                + " loaded, or no method of it matched)");
    assertThat(jdk.unmatched()).contains("java.lang.String", "boot loader", "never woven");
    assertThat(Rule.parse("sub", "+com.acme.Step#run").get(0).unmatched())
        .contains("for +com.acme.Step in this run");
  }

  @Test
  void anEnergyPhaseOnAMethodWithoutABodyIsNamedWithTheRuleThatWouldMarkItsImplementations()
      throws Exception {
    List<String> said = new ArrayList<>();
    java.lang.instrument.ClassFileTransformer w = Instrumenter.weaver(List.of(), false, said::add);
    // By their class files only: loaded, they would be retransformed by the other tests' gates,
    // whose logs must stay empty.
    ClassLoader loader = InstrumenterTest.class.getClassLoader();
    for (String name : List.of("Marked$Job", "Marked$Step")) {
      String internal = "io/jouletrace/testapp/" + name;
      byte[] bytes;
      try (java.io.InputStream in = loader.getResourceAsStream(internal + ".class")) {
        bytes = in.readAllBytes();
      }
      w.transform(loader.getUnnamedModule(), loader, internal, null, null, bytes);
    }
    assertThat(said)
        .containsExactly(
            "@EnergyPhase(\"job\") on io.jouletrace.testapp.Marked$Job.run, which has no body"
                + " (abstract, an interface's, or native), marks nothing: annotate the methods that"
                + " implement it, or set phase.job=+io.jouletrace.testapp.Marked$Job#run",
            "@EnergyPhase(\"step\") on io.jouletrace.testapp.Marked$Step.apply, which has no body"
                + " (abstract, an interface's, or native), marks nothing: annotate the methods that"
                + " implement it, or set phase.step=+io.jouletrace.testapp.Marked$Step#apply");
    // The rule it names parses, and the annotated method with a body is still woven, unremarked.
    assertThat(Rule.parse("step", "+io.jouletrace.testapp.Marked$Step#apply")).hasSize(1);
  }

  @Test
  void apiHooksReachTheRecorder() {
    Recording r = new Recording(false);
    Dispatch.install(r);
    assertThat(JouleTrace.isRecording()).isTrue();
    Phase p = JouleTrace.phase("manual");
    p.close();
    p.close();
    assertThat(r.calls).containsExactly("enter manual", "exit 7");
  }

  @Test
  void failingRecorderNeverReachesTheApplication() {
    Dispatch.takeFailure();
    Dispatch.install(new Recording(true));
    assertThat(Workload.step(41)).isEqualTo(42);
    try (Phase p = JouleTrace.phase("manual")) {
      assertThat(p).isNotNull();
    }
    // kept for the agent to report on one line, then forgotten
    assertThat(Dispatch.takeFailure()).hasMessage("recorder failure");
    assertThat(Dispatch.takeFailure()).isNull();
  }

  @Test
  void subtypeGlobAndAnnotationRules() {
    Recording r = new Recording(false);
    Dispatch.install(r);
    assertThat(new Shapes.Square().area()).isEqualTo(4);
    assertThat(r.calls).containsExactly("enter area", "exit 7");
    r.calls.clear();
    Shapes.Tokenizer t = new Shapes.Tokenizer();
    assertThat(t.tokenize("a b c")).isEqualTo(3);
    assertThat(r.calls).containsExactly("enter tokenize", "exit 7");
    r.calls.clear();
    assertThat(t.countdown(2)).isEqualTo(2);
    // the glob rule instruments each recursive call; the recorder keeps one phase (see below)
    assertThat(r.calls)
        .containsExactly("enter count", "enter count", "enter count", "exit 7", "exit 7", "exit 7");
  }

  private static byte[] classBytes(Class<?> c) throws java.io.IOException {
    String internal = c.getName().replace('.', '/');
    try (java.io.InputStream in = c.getClassLoader().getResourceAsStream(internal + ".class")) {
      return in.readAllBytes();
    }
  }

  /** The JVM's first-load callback for {@link Late}, as a loading thread makes it. */
  private static byte[] firstLoad(Instrumenter.Gate gate) throws java.io.IOException {
    return gate.transform(
        Late.class.getModule(),
        Late.class.getClassLoader(),
        Late.class.getName().replace('.', '/'),
        null,
        Late.class.getProtectionDomain(),
        classBytes(Late.class));
  }

  /**
   * Opens the gate on the real weaver, runs one round of the instrument thread's work (what its
   * loop does once a deferred class is queued), and returns what {@link Late#tick} records then.
   */
  private List<String> lateCallsOnceReady(Instrumenter.Gate gate, List<Rule> rules)
      throws Exception {
    Recording r = new Recording(false);
    Dispatch.install(r);
    assertThat(Late.tick(2)).isEqualTo(4);
    assertThat(r.calls).as("not instrumented before Byte Buddy is ready").isEmpty();
    inst.addTransformer(gate, true);
    try {
      gate.open(Instrumenter.weaver(rules, false));
      assertThat(gate.retransformPending()).as("nothing left waiting").isFalse();
      assertThat(Late.tick(3)).isEqualTo(6);
      return List.copyOf(r.calls);
    } finally {
      inst.removeTransformer(gate);
      inst.retransformClasses(Late.class);
    }
  }

  @Test
  void aClassFirstLoadedBeforeByteBuddyIsReadyIsRetransformedOnceItIs() throws Exception {
    List<Rule> rules = List.of(Rule.exact(Late.class.getName(), "late", "tick"));
    Instrumenter.Gate gate =
        new Instrumenter.Gate(Instrumenter.filter(rules, false), new Log(log::add), inst, true);
    // Before Byte Buddy is ready, a first load is not held up: the class loads as it is.
    assertThat(firstLoad(gate)).isNull();
    assertThat(lateCallsOnceReady(gate, rules)).containsExactly("enter late", "exit 7");
    assertThat(log).isEmpty();
  }

  @Test
  void aLoadingThreadInterruptedWhileWaitingForByteBuddyKeepsItsInterrupt() throws Exception {
    List<Rule> rules = List.of(Rule.exact(Late.class.getName(), "late", "tick"));
    // Loading threads wait for Byte Buddy (the default); this one is interrupted meanwhile.
    Instrumenter.Gate gate =
        new Instrumenter.Gate(Instrumenter.filter(rules, false), new Log(log::add), inst, false);
    byte[] transformed;
    boolean interruptedAfter;
    Thread.currentThread().interrupt();
    try {
      transformed = firstLoad(gate);
    } finally {
      interruptedAfter = Thread.interrupted(); // reads and clears it, for the tests after this
    }
    assertThat(interruptedAfter).as("the application's interrupt status is kept").isTrue();
    assertThat(transformed).isNull();
    // not lost either: it is retransformed once Byte Buddy is ready
    assertThat(lateCallsOnceReady(gate, rules)).containsExactly("enter late", "exit 7");
    assertThat(log).isEmpty();
  }

  @Test
  void aLoadingThreadThatWaitedPastTheTimeoutHasItsClassRetransformedOnceTheWeaverIsReady()
      throws Exception {
    List<Rule> rules = List.of(Rule.exact(Late.class.getName(), "late", "tick"));
    Instrumenter.Gate gate =
        new Instrumenter.Gate(Instrumenter.filter(rules, false), new Log(log::add), inst, false);
    gate.readyTimeoutMillis(50);
    assertThat(firstLoad(gate)).isNull();
    assertThat(log)
        .containsExactly(
            "jouletrace: instrumentation was not ready in 0.05 s; io.jouletrace.testapp.Late loads"
                + " as it is, and is instrumented once it is ready");
    log.clear();
    assertThat(lateCallsOnceReady(gate, rules)).containsExactly("enter late", "exit 7");
    assertThat(log).isEmpty();
  }

  /** Defines the {@code Signatures} classes itself, and records each name it is asked for. */
  static final class Recorder extends ClassLoader {
    final List<String> asked = java.util.Collections.synchronizedList(new ArrayList<>());

    Recorder() {
      super(InstrumenterTest.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.startsWith(Signatures.class.getName())) {
        return super.loadClass(name, resolve);
      }
      asked.add(name);
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          try (java.io.InputStream in =
              getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
            byte[] b = in.readAllBytes();
            c = defineClass(name, b, 0, b.length);
          } catch (java.io.IOException e) {
            throw new ClassNotFoundException(name, e);
          }
        }
        return c;
      }
    }
  }

  /**
   * The weaver's start looks for classes to retransform among those loaded before the gate only:
   * reflection on the others would load the classes their methods' signatures name.
   */
  @Test
  void theWeaversStartLeavesAloneTheClassesThatWentThroughTheGate() throws Exception {
    inst.removeTransformer(transformer);
    List<Rule> rules = List.of(Rule.exact(Signatures.Target.class.getName(), "sig", "tick"));
    Instrumenter.Gate gate =
        Instrumenter.installInBackground(inst, rules, false, true, new Log(log::add));
    Recorder loader = new Recorder();
    try {
      Class.forName(Signatures.class.getName(), true, loader);
      Class<?> target = Class.forName(Signatures.Target.class.getName(), true, loader);
      assertThat(gate.swept.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      Recording r = new Recording(false);
      Dispatch.install(r);
      assertThat(target.getMethod("tick", int.class).invoke(null, 2)).isEqualTo(6);
      assertThat(r.calls).containsExactly("enter sig", "exit 7");
      assertThat(loader.asked)
          .containsExactly(Signatures.class.getName(), Signatures.Target.class.getName());
      assertThat(log).isEmpty();
    } finally {
      inst.removeTransformer(gate);
    }
  }

  /** A class for the batch below, retransformed on its own. */
  static final class Retransformed {}

  /**
   * The JVM refuses a batch of classes as a whole when one of them cannot be retransformed: the
   * batch is tried again class by class, so the others are still woven, and the one that failed is
   * named.
   */
  @Test
  void aClassThatCannotBeRetransformedCostsOnlyItsOwnPhases() throws Exception {
    List<String> seen = new ArrayList<>();
    java.lang.instrument.ClassFileTransformer t =
        new java.lang.instrument.ClassFileTransformer() {
          @Override
          public byte[] transform(
              Module module,
              ClassLoader loader,
              String className,
              Class<?> redefined,
              java.security.ProtectionDomain domain,
              byte[] bytes) {
            if (redefined != null) {
              seen.add(className);
            }
            return null;
          }
        };
    inst.addTransformer(t, true);
    try {
      log.clear();
      Instrumenter.retransform(inst, List.of(Retransformed.class, int.class), new Log(log::add));
    } finally {
      inst.removeTransformer(t);
    }
    assertThat(seen).contains(Retransformed.class.getName().replace('.', '/'));
    assertThat(log)
        .singleElement()
        .asString()
        .isEqualTo(
            "jouletrace: could not retransform int: java.lang.instrument.UnmodifiableClassException");
  }
}

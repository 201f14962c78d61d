package io.jouletrace.agent.instrument;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import io.jouletrace.agent.Log;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * Installs the automatic phases with Byte Buddy. Classes loaded before the agent (dynamic attach)
 * are retransformed. Failures are reported once per class and never reach the application.
 */
public final class Instrumenter {

  /**
   * One automatic phase: the methods of a type whose execution is the phase.
   *
   * @param type the class, by exact name
   * @param methods which of its methods
   * @param phase the phase name
   */
  public record Rule(String type, ElementMatcher<? super MethodDescription> methods, String phase) {}

  /** The built-in rules for DJL (see the README for why each method was chosen). */
  public static List<Rule> djlRules() {
    return List.of(
        new Rule("ai.djl.training.EasyTrain", named("trainBatch"), "train-step"),
        new Rule("ai.djl.training.EasyTrain", named("validateBatch"), "validation"),
        new Rule("ai.djl.training.EasyTrain", named("evaluateDataset"), "validation"),
        // predict(I) delegates to batchPredict(List): instrumenting both would count twice.
        new Rule("ai.djl.inference.Predictor", named("batchPredict").and(not(isAbstract())),
            "inference"));
  }

  private static final String API = "io.jouletrace.api.JouleTrace";
  static final int READY_TIMEOUT_SECONDS = 10;

  private Instrumenter() {}

  /**
   * Installs the rules without holding up start-up: a plain {@link ClassFileTransformer} (the
   * {@link Gate}) is registered at once and Byte Buddy, which takes a few hundred milliseconds of
   * CPU to load, is prepared on the {@code jouletrace-instrument} daemon thread. Only when a
   * target class is loaded before Byte Buddy is ready does its loading wait for it (at most {@value
   * #READY_TIMEOUT_SECONDS} s), so that no call of an instrumented method is ever missed.
   *
   * @param inst the JVM's instrumentation
   * @param rules automatic phases
   * @param apiBridge also instrument the API's hooks (needed only when attaching to a running JVM)
   * @param log where failures are reported
   * @return the gate, already registered
   */
  public static Gate installInBackground(
      Instrumentation inst, List<Rule> rules, boolean apiBridge, Log log) {
    Gate gate = new Gate(targets(rules, apiBridge), log);
    inst.addTransformer(gate, true);
    Thread t = new Thread(() -> {
      try {
        gate.open(build(rules, apiBridge, log).makeRaw());
        retransformLoaded(inst, gate.targets, log);
      } catch (Throwable e) {
        gate.open(null);
        log.line("automatic phases not installed: " + e);
      }
    }, "jouletrace-instrument");
    t.setDaemon(true);
    t.start();
    return gate;
  }

  /**
   * Installs the rules now, on this thread, and retransforms the matching classes already loaded.
   *
   * @param inst the JVM's instrumentation
   * @param rules automatic phases
   * @param apiBridge also instrument the API's hooks
   * @param log where failures are reported
   * @return the registered transformer; remove it with {@code inst.removeTransformer}
   */
  public static Gate install(Instrumentation inst, List<Rule> rules, boolean apiBridge, Log log) {
    Gate gate = new Gate(targets(rules, apiBridge), log);
    gate.open(build(rules, apiBridge, log).makeRaw());
    inst.addTransformer(gate, true);
    retransformLoaded(inst, gate.targets, log);
    return gate;
  }

  private static Set<String> targets(List<Rule> rules, boolean apiBridge) {
    Set<String> names = new HashSet<>();
    if (apiBridge) {
      names.add(API.replace('.', '/'));
    }
    for (Rule rule : rules) {
      names.add(rule.type().replace('.', '/'));
    }
    return Set.copyOf(names);
  }

  private static AgentBuilder build(List<Rule> rules, boolean apiBridge, Log log) {
    ClassFileLocator advice = ClassFileLocator.ForClassLoader.of(Instrumenter.class.getClassLoader());
    AgentBuilder current =
        newAgentBuilder()
            .disableClassFormatChanges()
            .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
            .with(AgentBuilder.TypeStrategy.Default.DECORATE)
            .with(new FailureListener(log))
            .ignore(nameStartsWith("net.bytebuddy.").or(nameStartsWith("io.jouletrace.agent."))
                .or(nameStartsWith("io.jouletrace.bridge.")));
    if (apiBridge) {
      current =
          current
              .type(named(API))
              .transform(
                  new AgentBuilder.Transformer.ForAdvice()
                      .include(advice)
                      .advice(named("enter").and(isStatic()).and(takesArguments(String.class)),
                          ApiAdvice.Enter.class.getName())
                      .advice(named("exit").and(isStatic()).and(takesArguments(long.class)),
                          ApiAdvice.Exit.class.getName())
                      .advice(named("recording").and(isStatic()).and(takesArguments(0)),
                          ApiAdvice.Recording.class.getName()));
    }
    for (Rule rule : rules) {
      current =
          current
              .type(named(rule.type()))
              .transform(
                  new AgentBuilder.Transformer.ForAdvice(
                          Advice.withCustomMapping().bind(PhaseName.class, rule.phase()))
                      .include(advice)
                      .advice(rule.methods(), PhaseAdvice.class.getName()));
    }
    return current;
  }

  private static void retransformLoaded(Instrumentation inst, Set<String> targets, Log log) {
    List<Class<?>> loaded = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (targets.contains(c.getName().replace('.', '/')) && inst.isModifiableClass(c)) {
        loaded.add(c);
      }
    }
    if (!loaded.isEmpty()) {
      try {
        inst.retransformClasses(loaded.toArray(new Class<?>[0]));
      } catch (Throwable e) {
        log.line("could not retransform " + loaded + ": " + e);
      }
    }
  }

  /**
   * The only transformer the JVM sees. Every class load costs it one set lookup by name; the few
   * target classes are handed to Byte Buddy, waiting for it to be ready if need be.
   */
  public static final class Gate implements ClassFileTransformer {
    private final Set<String> targets;
    private final Log log;
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile ClassFileTransformer delegate;

    Gate(Set<String> targets, Log log) {
      this.targets = targets;
      this.log = log;
    }

    void open(ClassFileTransformer byteBuddy) {
      delegate = byteBuddy;
      ready.countDown();
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className,
        Class<?> redefined, ProtectionDomain domain, byte[] bytes) {
      if (className == null || !targets.contains(className)) {
        return null;
      }
      try {
        ClassFileTransformer t = delegate;
        if (t == null) {
          if (!ready.await(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            log.line("instrumentation was not ready in " + READY_TIMEOUT_SECONDS + " s; "
                + className.replace('/', '.') + " is not instrumented");
            return null;
          }
          t = delegate;
          if (t == null) {
            return null;
          }
        }
        return t.transform(module, loader, className, redefined, domain, bytes);
      } catch (Throwable e) {
        log.line("could not instrument " + className.replace('/', '.') + ": " + e);
        return null;
      }
    }
  }

  /**
   * Creates the builder with Byte Buddy's Nexus turned off. The advice needs no Nexus (no class
   * format changes, no loaded type initializers), and looking it up touches {@code sun.misc.Unsafe},
   * which Java 24+ reports with a warning on the application's stderr. The switch is a system
   * property read once per class loader: it is set only around the construction, which loads the
   * agent's own copy of the Nexus classes, and then put back.
   */
  private static AgentBuilder newAgentBuilder() {
    String key = "net.bytebuddy.nexus.disabled";
    String previous = System.getProperty(key);
    System.setProperty(key, "true");
    try {
      return new AgentBuilder.Default();
    } finally {
      if (previous == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, previous);
      }
    }
  }

  /** Reports each failed transformation once, on one line. */
  private static final class FailureListener extends AgentBuilder.Listener.Adapter {
    private final Log log;

    FailureListener(Log log) {
      this.log = log;
    }

    @Override
    public void onError(
        String typeName,
        ClassLoader classLoader,
        JavaModule module,
        boolean loaded,
        Throwable throwable) {
      log.line("could not instrument " + typeName + ": " + throwable);
    }
  }
}

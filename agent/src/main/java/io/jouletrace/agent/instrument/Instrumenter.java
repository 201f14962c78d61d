package io.jouletrace.agent.instrument;

import static net.bytebuddy.matcher.ElementMatchers.annotationType;
import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.is;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isAnnotatedWith;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import io.jouletrace.agent.Log;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.annotation.AnnotationDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.utility.JavaModule;

/**
 * Installs the automatic phases with Byte Buddy. Classes loaded before the agent (dynamic attach)
 * are retransformed. Failures are reported once per class and never reach the application.
 */
public final class Instrumenter {

  /**
   * The built-in rules for DJL 0.36, from its sources: each phase's choke point, and the methods
   * that call each other counted once (a call nested in a phase of the same name is part of it).
   *
   * <ul>
   *   <li>{@code data-loading}: {@code DataIterable.next} and {@code fetch} (with a prefetching
   *       executor, {@code fetch} runs on pool threads while {@code next} waits), and {@code
   *       prepare} of every {@code Dataset}.
   *   <li>{@code train-step}: {@code EasyTrain.trainBatch} (forward, loss, backward) and {@code
   *       Trainer.step} (the optimizer).
   *   <li>{@code validation}: {@code EasyTrain.validateBatch} and {@code evaluateDataset}.
   *   <li>{@code inference}: {@code Predictor.batchPredict} and {@code streamingPredict}; {@code
   *       predict} calls {@code batchPredict} and is not instrumented.
   *   <li>{@code checkpoint}: {@code save} and {@code load} of every {@code Model}.
   * </ul>
   *
   * @return the rules
   */
  public static List<Rule> djlRules() {
    return List.of(
        Rule.subtypes("ai.djl.training.dataset.DataIterable", "data-loading", "next", "fetch"),
        Rule.subtypes("ai.djl.training.dataset.Dataset", "data-loading", "prepare"),
        Rule.exact("ai.djl.training.EasyTrain", "train-step", "trainBatch"),
        Rule.subtypes("ai.djl.training.Trainer", "train-step", "step"),
        Rule.exact("ai.djl.training.EasyTrain", "validation", "validateBatch", "evaluateDataset"),
        Rule.subtypes("ai.djl.inference.Predictor", "inference", "batchPredict",
            "streamingPredict"),
        Rule.subtypes("ai.djl.Model", "checkpoint", "save", "load"));
  }

  private static final String API = "io.jouletrace.api.JouleTrace";
  static final String ENERGY_PHASE = "io.jouletrace.api.EnergyPhase";
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
    Gate gate = new Gate(filter(rules, apiBridge), log);
    inst.addTransformer(gate, true);
    Thread t = new Thread(() -> {
      try {
        gate.open(build(rules, apiBridge, log).makeRaw());
        retransformLoaded(inst, gate.filter, log);
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
    Gate gate = new Gate(filter(rules, apiBridge), log);
    gate.open(build(rules, apiBridge, log).makeRaw());
    inst.addTransformer(gate, true);
    retransformLoaded(inst, gate.filter, log);
    return gate;
  }

  /**
   * What the gate hands to Byte Buddy: classes named by a rule, classes whose name matches a
   * rule's glob, classes that directly extend or implement a subtype rule's type or a class already
   * handed over for that reason (a superclass is always loaded before its subclasses), and classes
   * that carry {@code @EnergyPhase}. Everything else loads untouched and without waiting.
   */
  record Filter(Set<String> names, List<Pattern> globs, Set<String> roots, Set<String> subtypes,
      byte[] annotation) {

    boolean matches(String internalName, byte[] bytes) {
      if (names.contains(internalName)) {
        return true;
      }
      if (!globs.isEmpty()) {
        String dotted = internalName.replace('/', '.');
        for (Pattern g : globs) {
          if (g.matcher(dotted).matches()) {
            return true;
          }
        }
      }
      if (!roots.isEmpty() && bytes.length > 0 && extendsKnown(bytes)) {
        subtypes.add(internalName);
        return true;
      }
      return bytes.length > 0 && contains(bytes, annotation);
    }

    private boolean extendsKnown(byte[] bytes) {
      ClassReader reader;
      try {
        reader = new ClassReader(bytes);
      } catch (RuntimeException malformed) {
        return false;
      }
      if (known(reader.getSuperName())) {
        return true;
      }
      for (String i : reader.getInterfaces()) {
        if (known(i)) {
          return true;
        }
      }
      return false;
    }

    private boolean known(String type) {
      return type != null && (roots.contains(type) || subtypes.contains(type));
    }

    static boolean contains(byte[] haystack, byte[] needle) {
      int n = needle.length;
      outer:
      for (int i = 0, end = haystack.length - n; i <= end; i++) {
        if (haystack[i] != needle[0]) {
          continue;
        }
        for (int k = 1; k < n; k++) {
          if (haystack[i + k] != needle[k]) {
            continue outer;
          }
        }
        return true;
      }
      return false;
    }
  }

  /**
   * The gate's filter for a set of rules.
   */
  static Filter filter(List<Rule> rules, boolean apiBridge) {
    Set<String> names = new HashSet<>();
    List<Pattern> globs = new ArrayList<>();
    Set<String> roots = new HashSet<>();
    if (apiBridge) {
      names.add(API.replace('.', '/'));
    }
    for (Rule rule : rules) {
      switch (rule.kind()) {
        case EXACT -> names.add(rule.type().replace('.', '/'));
        case GLOB -> globs.add(Pattern.compile(Rule.globToRegex(rule.type())));
        case SUBTYPES -> {
          names.add(rule.type().replace('.', '/'));
          roots.add(rule.type().replace('.', '/'));
        }
      }
    }
    return new Filter(Set.copyOf(names), List.copyOf(globs), Set.copyOf(roots),
        ConcurrentHashMap.newKeySet(),
        ("L" + ENERGY_PHASE.replace('.', '/') + ";").getBytes(StandardCharsets.UTF_8));
  }

  private static AgentBuilder build(List<Rule> rules, boolean apiBridge, Log log) {
    ClassFileLocator advice = ClassFileLocator.ForClassLoader.of(Instrumenter.class.getClassLoader());
    AgentBuilder current =
        newAgentBuilder()
            .disableClassFormatChanges()
            .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
            .with(AgentBuilder.TypeStrategy.Default.DECORATE)
            // Subtype rules resolve class hierarchies: parse each class file once.
            .with(new AgentBuilder.PoolStrategy.WithTypePoolCache.Simple(new ConcurrentHashMap<>()))
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
              .type(rule.typeMatcher())
              .transform(
                  new AgentBuilder.Transformer.ForAdvice(
                          Advice.withCustomMapping().bind(PhaseName.class, rule.phase()))
                      .include(advice)
                      .advice(rule.methodMatcher(), PhaseAdvice.class.getName()));
    }
    current = current
        .type(declaresMethod(isAnnotatedWith(named(ENERGY_PHASE))))
        .transform(Instrumenter::annotated);
    return current;
  }

  private static void retransformLoaded(Instrumentation inst, Filter filter, Log log) {
    List<Class<?>> loaded = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (c.getClassLoader() != null && inst.isModifiableClass(c) && candidate(c, filter)) {
        loaded.add(c);
      }
    }
    if (!loaded.isEmpty()) {
      try {
        inst.retransformClasses(loaded.toArray(new Class<?>[0]));
      } catch (Throwable e) {
        log.line("could not retransform " + loaded.size() + " loaded classes: " + e);
      }
    }
  }

  /** Loaded classes have no bytes at hand: judge them by name and super types instead. */
  private static boolean candidate(Class<?> c, Filter filter) {
    if (filter.matches(c.getName().replace('.', '/'), new byte[0])) {
      return true;
    }
    // Loaded before the gate: walk the hierarchy instead of reading the class file.
    for (Class<?> k = c; k != null; k = k.getSuperclass()) {
      if (filter.names().contains(k.getName().replace('.', '/'))) {
        return true;
      }
      for (Class<?> i : k.getInterfaces()) {
        if (filter.names().contains(i.getName().replace('.', '/'))) {
          return true;
        }
      }
    }
    try {
      for (java.lang.reflect.Method m : c.getDeclaredMethods()) {
        for (java.lang.annotation.Annotation a : m.getDeclaredAnnotations()) {
          if (a.annotationType().getName().equals(ENERGY_PHASE)) {
            return true;
          }
        }
      }
    } catch (Throwable e) {
      return false;
    }
    return false;
  }

  /** Each method annotated with {@code @EnergyPhase} becomes the phase its annotation names. */
  private static DynamicType.Builder<?> annotated(DynamicType.Builder<?> builder,
      TypeDescription type, ClassLoader loader, JavaModule module, ProtectionDomain domain) {
    DynamicType.Builder<?> b = builder;
    for (MethodDescription.InDefinedShape m : type.getDeclaredMethods()
        .filter(isAnnotatedWith(named(ENERGY_PHASE)).and(not(isAbstract())))) {
      AnnotationDescription a = m.getDeclaredAnnotations()
          .filter(annotationType(named(ENERGY_PHASE))).getOnly();
      String phase = a.getValue("value").resolve(String.class);
      b = b.visit(Advice.withCustomMapping().bind(PhaseName.class, phase)
          .to(PhaseAdvice.class).on(is(m)));
    }
    return b;
  }

  /**
   * The only transformer the JVM sees. Every class load costs it one set lookup by name; the few
   * target classes are handed to Byte Buddy, waiting for it to be ready if need be.
   */
  public static final class Gate implements ClassFileTransformer {
    private final Filter filter;
    private final Log log;
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile ClassFileTransformer delegate;

    Gate(Filter filter, Log log) {
      this.filter = filter;
      this.log = log;
    }

    /**
     * Waits until Byte Buddy is ready (or has failed), at most the given time.
     *
     * @return {@code true} when ready
     */
    public boolean awaitReady(long millis) {
      try {
        return ready.await(millis, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    void open(ClassFileTransformer byteBuddy) {
      delegate = byteBuddy;
      ready.countDown();
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className,
        Class<?> redefined, ProtectionDomain domain, byte[] bytes) {
      if (className == null || loader == null || !filter.matches(className, bytes)) {
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

package io.jouletrace.agent.instrument;

import io.jouletrace.agent.AgentThreads;
import io.jouletrace.agent.Log;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import net.bytebuddy.jar.asm.ClassReader;

/**
 * Installs the automatic phases with the {@link Weaver}. Classes loaded before the agent (dynamic
 * attach) are retransformed. Failures are reported once per class and never reach the application.
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
        Rule.subtypes(
            "ai.djl.inference.Predictor", "inference", "batchPredict", "streamingPredict"),
        Rule.subtypes("ai.djl.Model", "checkpoint", "save", "load"));
  }

  static final String API = "io.jouletrace.api.JouleTrace";
  static final String ENERGY_PHASE = "io.jouletrace.api.EnergyPhase";
  static final int READY_TIMEOUT_SECONDS = 10;

  private Instrumenter() {}

  /**
   * Installs the rules without holding up start-up: a plain {@link ClassFileTransformer} (the
   * {@link Gate}) is registered at once, and the weaver is made ready on the {@code
   * jouletrace-instrument} daemon thread when the first target class loads.
   *
   * <p>With {@code wait}, a thread that loads a target class before the weaver is ready waits for
   * it (at most {@value #READY_TIMEOUT_SECONDS} s), so that no call is missed. Without, the class
   * loads as it is and is queued, and the {@code jouletrace-instrument} thread retransforms it as
   * soon as the weaver is ready; a call that starts before then is not a phase, and its energy goes
   * to the phase around it, or {@code other}. Either way, classes loaded later are transformed as
   * they load.
   *
   * @param inst the JVM's instrumentation
   * @param rules automatic phases
   * @param apiBridge also instrument the API's hooks (needed only when attaching to a running JVM)
   * @param wait make a thread that loads a target class wait for its instrumentation
   * @param log where failures are reported
   * @return the gate, already registered
   */
  public static Gate installInBackground(
      Instrumentation inst, List<Rule> rules, boolean apiBridge, boolean wait, Log log) {
    Gate gate = new Gate(filter(rules, apiBridge), log, inst, !wait);
    gate.starter(new Starter(gate, inst, rules, apiBridge, log));
    inst.addTransformer(gate, true);
    if (apiBridge) {
      gate.start(); // attached: classes to instrument may be loaded already
    } else {
      // Every class loaded from here on goes through the gate: the weaver's start has to look
      // only at these for classes to retransform.
      gate.loadedBefore = inst.getAllLoadedClasses();
    }
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
    Gate gate = new Gate(filter(rules, apiBridge), log, inst, false);
    gate.open(new Weaver(rules, apiBridge, gate.matched, new Lines(log)));
    inst.addTransformer(gate, true);
    retransformLoaded(inst, gate.filter, log);
    Thread t = AgentThreads.daemon("instrument", new Deferred(gate));
    t.start();
    return gate;
  }

  /**
   * What the gate hands to the weaver: classes named by a rule, classes whose name matches a rule's
   * glob, classes that directly extend or implement a subtype rule's type or a class already handed
   * over for that reason (a superclass is always loaded before its subclasses), and classes that
   * carry {@code @EnergyPhase}. Everything else loads untouched and without waiting.
   */
  record Filter(
      Set<String> names,
      List<Pattern> globs,
      Set<String> roots,
      Set<String> subtypes,
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

  /** The gate's filter for a set of rules. */
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
    return new Filter(
        Set.copyOf(names),
        List.copyOf(globs),
        Set.copyOf(roots),
        ConcurrentHashMap.newKeySet(),
        ("L" + ENERGY_PHASE.replace('.', '/') + ";").getBytes(StandardCharsets.UTF_8));
  }

  /** The weaver for the rules, for a gate built by hand (tests). */
  static ClassFileTransformer weaver(List<Rule> rules, boolean apiBridge) {
    return new Weaver(rules, apiBridge);
  }

  /** The weaver for the rules, its problem lines to {@code warn} (tests). */
  static ClassFileTransformer weaver(
      List<Rule> rules, boolean apiBridge, java.util.function.Consumer<String> warn) {
    return new Weaver(rules, apiBridge, ConcurrentHashMap.newKeySet(), warn);
  }

  private static void retransformLoaded(Instrumentation inst, Filter filter, Log log) {
    retransformLoaded(inst, inst.getAllLoadedClasses(), filter, log);
  }

  /**
   * Retransforms those of the given classes that the filter would have handed to the weaver. A
   * class loaded before the gate may carry {@code @EnergyPhase}, which only reflection can tell
   * without its class file; reflection on a class's methods loads the classes their signatures name
   * (on a DJL job, about fifty it would never load), so it is kept to classes the gate did not see.
   */
  private static void retransformLoaded(
      Instrumentation inst, Class<?>[] classes, Filter filter, Log log) {
    List<Class<?>> loaded = new ArrayList<>();
    for (Class<?> c : classes) {
      ClassLoader l = c.getClassLoader();
      // the boot loader's classes and the agent's own (its libraries among them) are never woven
      if (l != null
          && l != Gate.AGENT_LOADER
          && inst.isModifiableClass(c)
          && candidate(c, filter)) {
        loaded.add(c);
      }
    }
    retransform(inst, loaded, log);
  }

  /**
   * Retransforms classes in one batch (one safepoint). The JVM refuses a batch as a whole when one
   * class fails, so a refused batch is tried again class by class: one class that cannot be
   * retransformed costs its own phases, not those of the others. A failure is one line per class,
   * never thrown.
   */
  static void retransform(Instrumentation inst, List<Class<?>> classes, Log log) {
    if (classes.isEmpty()) {
      return;
    }
    try {
      inst.retransformClasses(classes.toArray(new Class<?>[0]));
      if (log.debugEnabled()) {
        log.debug("retransformed " + classes.size() + " classes: " + names(classes));
      }
      return;
    } catch (Throwable e) {
      if (classes.size() == 1) {
        log.line("could not retransform " + classes.get(0).getName() + ": " + e);
        return;
      }
      log.debug("retransforming " + classes.size() + " classes at once failed (" + e + ")");
    }
    for (Class<?> c : classes) {
      try {
        inst.retransformClasses(c);
      } catch (Throwable e) {
        log.line("could not retransform " + c.getName() + ": " + e);
      }
    }
  }

  private static String names(List<Class<?>> classes) {
    StringBuilder b = new StringBuilder();
    for (Class<?> c : classes) {
      b.append(b.length() == 0 ? "" : ", ").append(c.getName());
    }
    return b.toString();
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

  /**
   * The only transformer the JVM sees. Every class load costs it one set lookup by name; the few
   * target classes are handed to the weaver, waiting for it to be ready if need be.
   */
  public static final class Gate implements ClassFileTransformer {
    /**
     * The agent's own class loader, which holds its classes and libraries apart from the
     * application's; null when the agent's classes are on the class path (tests).
     */
    private static final ClassLoader AGENT_LOADER =
        Gate.class.getClassLoader() == ClassLoader.getSystemClassLoader()
            ? null
            : Gate.class.getClassLoader();

    /** Rounds after which a queued class that never showed up among the loaded ones is dropped. */
    private static final int MAX_ROUNDS = 50;

    private final Filter filter;
    private final Log log;
    private final BridgeCheck bridge;

    /** The rules that matched a method of a class woven so far. */
    private final Set<Rule> matched = ConcurrentHashMap.newKeySet();

    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile ClassFileTransformer delegate;
    private final Instrumentation inst;

    /** Whether first loads before the weaver is ready are deferred instead of waiting for it. */
    private final boolean deferEarly;

    private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();

    /**
     * The classes already loaded when the gate was registered in a JVM started with the agent; null
     * when attached, or until then (every loaded class is looked at).
     */
    volatile Class<?>[] loadedBefore;

    /** How long a loading thread waits for the weaver. */
    private volatile long readyTimeoutMillis = READY_TIMEOUT_SECONDS * 1000L;

    /** Counted down once the weaver's start has retransformed what loaded before it. */
    final CountDownLatch swept = new CountDownLatch(1);

    private volatile Thread worker;

    /** Starts the weaver's thread; run once, at the first class to instrument. */
    private volatile Runnable starter;

    private final java.util.concurrent.atomic.AtomicBoolean started =
        new java.util.concurrent.atomic.AtomicBoolean();

    /** A class loaded untouched, to be found among the loaded classes and retransformed. */
    private record Pending(String name, WeakReference<ClassLoader> loader, int rounds) {}

    /**
     * The rules that matched a method of a class handed to the weaver so far.
     *
     * @return a live view
     */
    public Set<Rule> matched() {
      return java.util.Collections.unmodifiableSet(matched);
    }

    Gate(Filter filter, Log log, Instrumentation inst, boolean deferEarly) {
      this.filter = filter;
      this.log = log;
      this.bridge = new BridgeCheck(log);
      this.inst = inst;
      this.deferEarly = deferEarly;
    }

    /** Sets how long a loading thread waits for the weaver (tests). */
    void readyTimeoutMillis(long millis) {
      this.readyTimeoutMillis = millis;
    }

    /** Sets what {@link #start()} runs (the installer's thread start). */
    void starter(Runnable start) {
      this.starter = start;
    }

    /**
     * Starts the weaver, once: at the first class that needs it, so that a JVM that never loads one
     * (most that are not training with DJL or running Spark tasks) never pays for it.
     */
    void start() {
      Runnable s = starter;
      if (s != null && started.compareAndSet(false, true)) {
        s.run();
      }
    }

    /** Whether the weaver was started (a class to instrument was seen). */
    public boolean started() {
      return started.get() || starter == null;
    }

    /**
     * Waits until the weaver is ready (or has failed), at most the given time.
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

    /**
     * On the instrument thread, for as long as the JVM runs (or until the thread is interrupted):
     * retransforms the classes whose first load was deferred, in batches (one safepoint each), and
     * parks while there are none.
     */
    void retransformDeferred() {
      if (inst == null || delegate == null) {
        return;
      }
      worker = Thread.currentThread();
      while (!Thread.currentThread().isInterrupted()) {
        if (pending.isEmpty()) {
          LockSupport.park(this);
          continue;
        }
        // Let the loading threads finish defining what they just handed over, and gather more.
        LockSupport.parkNanos(2_000_000L);
        if (retransformPending()) {
          LockSupport.parkNanos(20_000_000L); // still being defined (or never will be)
        }
      }
    }

    /**
     * One round of {@link #retransformDeferred}: retransforms, in one batch, the queued classes
     * that are loaded by now, and queues the others again (at most {@value #MAX_ROUNDS} rounds).
     *
     * @return whether some queued class is still waiting to be defined
     */
    boolean retransformPending() {
      Map<String, List<Pending>> wanted = new HashMap<>();
      for (Pending p; (p = pending.poll()) != null; ) {
        wanted.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(p);
      }
      if (wanted.isEmpty()) {
        return false;
      }
      List<Class<?>> found = new ArrayList<>();
      for (Class<?> c : inst.getAllLoadedClasses()) {
        List<Pending> ps = wanted.get(c.getName());
        if (ps == null) {
          continue;
        }
        for (java.util.Iterator<Pending> it = ps.iterator(); it.hasNext(); ) {
          if (it.next().loader().get() == c.getClassLoader()) {
            it.remove();
            if (inst.isModifiableClass(c)) {
              found.add(c);
            }
          }
        }
      }
      retransform(inst, found, log);
      boolean waiting = false;
      for (List<Pending> ps : wanted.values()) {
        for (Pending p : ps) {
          if (p.loader().get() != null && p.rounds() < MAX_ROUNDS) {
            pending.add(new Pending(p.name(), p.loader(), p.rounds() + 1));
            waiting = true;
          } else {
            log.debug(p.name() + " was never defined (or its loader is gone): not retransformed");
          }
        }
      }
      return waiting;
    }

    /** Queues a class that loads untouched, for the instrument thread to retransform. */
    private void defer(String className, ClassLoader loader) {
      pending.add(new Pending(className.replace('/', '.'), new WeakReference<>(loader), 0));
      Thread w = worker;
      if (w != null) {
        LockSupport.unpark(w);
      }
    }

    @Override
    public byte[] transform(
        Module module,
        ClassLoader loader,
        String className,
        Class<?> redefined,
        ProtectionDomain domain,
        byte[] bytes) {
      // The agent's own classes (its libraries among them) are never instrumented: not even
      // scanned.
      if (className == null
          || loader == null
          || loader == AGENT_LOADER
          || !filter.matches(className, bytes)) {
        return null;
      }
      try {
        if (!bridge.reachable(loader, className)) {
          return null; // its advice could not link: left as it is, the loader named once
        }
        start();
        ClassFileTransformer t = delegate;
        // A first load while the weaver is still starting: unless loading threads are to wait,
        // the class loads as it is and is retransformed as soon as the weaver is ready.
        if (redefined == null && t == null && deferEarly) {
          defer(className, loader);
          return null;
        }
        if (t == null) {
          boolean isReady;
          try {
            isReady = ready.await(readyTimeoutMillis, TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            // The interrupt is the application's: keep it for its own code to see. The class
            // loads as it is and is retransformed once the weaver is ready, as without waiting.
            Thread.currentThread().interrupt();
            if (redefined == null) {
              defer(className, loader);
            }
            return null;
          }
          if (!isReady) {
            log.line(
                "instrumentation was not ready in "
                    + java.math.BigDecimal.valueOf(readyTimeoutMillis, 3)
                        .stripTrailingZeros()
                        .toPlainString()
                    + " s; "
                    + className.replace('/', '.')
                    + " loads as it is, and is instrumented once it is ready");
            if (redefined == null) {
              defer(className, loader);
            }
            return null;
          }
          t = delegate;
          if (t == null) {
            return null;
          }
        }
        // Weaving on the application's thread: counted with the agent's own cost.
        long cpu = AgentThreads.cpuNow();
        try {
          return t.transform(module, loader, className, redefined, domain, bytes);
        } finally {
          AgentThreads.spentHere("transform", cpu);
        }
      } catch (Throwable e) {
        log.line("could not instrument " + className.replace('/', '.') + ": " + e);
        return null;
      }
    }
  }

  // Classes rather than lambdas: the JVM spins a class for each lambda at its first use, which
  // premain would pay.

  /** The weaver's problem lines, to the log. */
  private static final class Lines implements java.util.function.Consumer<String> {
    private final Log log;

    Lines(Log log) {
      this.log = log;
    }

    @Override
    public void accept(String line) {
      log.line(line);
    }
  }

  /** Starts the weaver's thread when the first class to instrument starts loading. */
  private static final class Starter implements Runnable {
    private final Gate gate;
    private final Instrumentation inst;
    private final List<Rule> rules;
    private final boolean apiBridge;
    private final Log log;

    Starter(Gate gate, Instrumentation inst, List<Rule> rules, boolean apiBridge, Log log) {
      this.gate = gate;
      this.inst = inst;
      this.rules = rules;
      this.apiBridge = apiBridge;
      this.log = log;
    }

    @Override
    public void run() {
      AgentThreads.daemon("instrument", new Weaving(this)).start();
    }
  }

  /** The weaver's thread: builds the weaver, opens the gate, retransforms what waited. */
  private static final class Weaving implements Runnable {
    private final Starter s;

    Weaving(Starter s) {
      this.s = s;
    }

    @Override
    public void run() {
      try {
        long t0 = System.nanoTime();
        s.gate.open(new Weaver(s.rules, s.apiBridge, s.gate.matched, new Lines(s.log)));
        if (s.log.debugEnabled()) { // the queue counts its entries one by one
          s.log.debug(
              "weaver ready in "
                  + (System.nanoTime() - t0) / 1_000_000
                  + " ms; classes loaded before then: "
                  + s.gate.pending.size());
        }
        // Classes loaded before the gate was registered (attached: before the agent). Those
        // loaded since went through the gate: woven, or queued and retransformed below.
        Class<?>[] before = s.apiBridge ? null : s.gate.loadedBefore;
        if (before == null) {
          retransformLoaded(s.inst, s.gate.filter, s.log);
        } else {
          retransformLoaded(s.inst, before, s.gate.filter, s.log);
        }
        s.gate.loadedBefore = null;
      } catch (Throwable e) {
        s.gate.open(null);
        s.log.line("automatic phases not installed: " + e);
        return;
      } finally {
        s.gate.swept.countDown();
      }
      s.gate.retransformDeferred();
    }
  }

  /** Retransforms the classes whose first load came before the weaver was ready. */
  private static final class Deferred implements Runnable {
    private final Gate gate;

    Deferred(Gate gate) {
      this.gate = gate;
    }

    @Override
    public void run() {
      gate.retransformDeferred();
    }
  }
}

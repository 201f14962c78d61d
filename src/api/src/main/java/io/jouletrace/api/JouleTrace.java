package io.jouletrace.api;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Entry point for marking energy phases from application code.
 *
 * <p>This class has no dependencies and does nothing while no JouleTrace agent is attached: {@link
 * #phase(String)} then returns a shared no-op {@link Phase}, and the JIT reduces the call to
 * nothing. When the agent was started with {@code -javaagent:}, this class finds the agent's bridge
 * when it is initialised and calls it through constant method handles; when the agent is attached
 * to a running JVM later, it instruments the hooks below instead.
 *
 * <pre>{@code
 * try (Phase p = JouleTrace.phase("tokenize")) {
 *   tokenize(corpus);
 * }
 * }</pre>
 */
public final class JouleTrace {

  private static final MethodHandle ENTER;
  private static final MethodHandle EXIT;
  private static final MethodHandle RECORDING;
  private static final MethodHandle COUNT;

  static {
    MethodHandle enter = null;
    MethodHandle exit = null;
    MethodHandle recording = null;
    MethodHandle count = null;
    try {
      // The agent jar is on the system class path exactly when an agent was loaded.
      Class<?> bridge =
          Class.forName("io.jouletrace.bridge.Dispatch", true, ClassLoader.getSystemClassLoader());
      MethodHandles.Lookup lookup = MethodHandles.publicLookup();
      enter = lookup.findStatic(bridge, "enter", MethodType.methodType(long.class, String.class));
      exit = lookup.findStatic(bridge, "exit", MethodType.methodType(void.class, long.class));
      recording = lookup.findStatic(bridge, "isRecording", MethodType.methodType(boolean.class));
      try {
        count =
            lookup.findStatic(
                bridge, "count", MethodType.methodType(void.class, String.class, long.class));
      } catch (ReflectiveOperationException olderAgent) {
        count = null;
      }
    } catch (Throwable noAgent) {
      enter = null;
      exit = null;
      recording = null;
      count = null;
    }
    ENTER = enter;
    EXIT = exit;
    RECORDING = recording;
    COUNT = count;
  }

  private JouleTrace() {}

  /**
   * Opens a phase on the current thread.
   *
   * @param name the phase name, as it will appear in metrics ({@code phase} label) and in the
   *     report; a {@code null} or blank name is recorded as {@code unnamed}
   * @return the open phase; close it on the same thread
   */
  public static Phase phase(String name) {
    long token = enter(name);
    return token == 0L ? NoopPhase.INSTANCE : new AgentPhase(token);
  }

  /**
   * The Spark local property that carries a phase from the driver to its tasks: Spark ships a
   * thread's local properties with every task of the jobs that thread submits, and the agent in
   * each executor opens a phase of that name around each such task.
   */
  public static final String SPARK_PHASE_PROPERTY = "jouletrace.phase";

  /**
   * Marks the Spark jobs this thread submits until the phase is closed: sets the local property
   * {@value #SPARK_PHASE_PROPERTY} on the context, so that every task of those jobs runs as phase
   * {@code name} in the executors, and opens the same phase on this (driver) thread. Closing it
   * restores the property's previous value (none, or an outer phase's) and closes the driver's
   * phase. The property is set even without an agent; it costs Spark nothing.
   *
   * <pre>{@code
   * try (Phase p = JouleTrace.sparkPhase(spark.sparkContext(), "featurize")) {
   *   features = raw.map(...).collect();
   * }
   * }</pre>
   *
   * <p>Reflection keeps this API free of any Spark dependency: {@code context} is anything with
   * Spark's {@code setLocalProperty(String, String)} and {@code getLocalProperty(String)} (a {@code
   * SparkContext} or {@code JavaSparkContext}), or a {@code SparkSession} (its {@code
   * sparkContext()} is used).
   *
   * @param context the driver's {@code SparkContext}, {@code JavaSparkContext} or {@code
   *     SparkSession}
   * @param name the phase name: not blank, at most 128 characters, no control characters (the agent
   *     ignores other values, with one warning)
   * @return the open phase; close it on the same thread
   * @throws IllegalArgumentException when {@code context} has no local properties
   */
  public static Phase sparkPhase(Object context, String name) {
    Object sc = context;
    java.lang.reflect.Method set = localPropertyMethod(sc, "setLocalProperty", 2);
    if (set == null && sc != null) {
      java.lang.reflect.Method inner = localPropertyMethod(sc, "sparkContext", 0);
      if (inner != null) {
        try {
          sc = inner.invoke(sc);
        } catch (ReflectiveOperationException e) {
          sc = null;
        }
        set = localPropertyMethod(sc, "setLocalProperty", 2);
      }
    }
    java.lang.reflect.Method get = localPropertyMethod(sc, "getLocalProperty", 1);
    if (set == null || get == null) {
      throw new IllegalArgumentException(
          "not a SparkContext, JavaSparkContext or SparkSession: "
              + (context == null ? "null" : context.getClass().getName()));
    }
    try {
      Object previous = get.invoke(sc, SPARK_PHASE_PROPERTY);
      set.invoke(sc, SPARK_PHASE_PROPERTY, name);
      return new SparkPhase(phase(name), sc, set, (String) previous);
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException("cannot set a local property on " + sc, e);
    }
  }

  private static java.lang.reflect.Method localPropertyMethod(Object o, String name, int args) {
    if (o == null) {
      return null;
    }
    for (java.lang.reflect.Method m : o.getClass().getMethods()) {
      if (m.getName().equals(name) && m.getParameterCount() == args) {
        boolean strings = true;
        for (Class<?> p : m.getParameterTypes()) {
          strings &= p == String.class;
        }
        if (strings) {
          return m;
        }
      }
    }
    return null;
  }

  /** The driver's phase, and the local property to restore when it closes. */
  private static final class SparkPhase implements Phase {
    private final Phase driver;
    private final Object context;
    private final java.lang.reflect.Method set;
    private final String previous;
    private boolean closed;

    SparkPhase(Phase driver, Object context, java.lang.reflect.Method set, String previous) {
      this.driver = driver;
      this.context = context;
      this.set = set;
      this.previous = previous;
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        set.invoke(context, SPARK_PHASE_PROPERTY, previous);
      } catch (ReflectiveOperationException | RuntimeException e) {
        // never into the application
      }
      driver.close();
    }
  }

  /**
   * Tells whether an agent is recording phases in this JVM.
   *
   * @return {@code true} when the JouleTrace agent is attached
   */
  public static boolean isRecording() {
    return recording();
  }

  /**
   * Counts units of work (tokens, samples, requests) in the calling thread's current phase, for the
   * per-unit efficiency figures and {@code jouletrace_work_units_total}. Does nothing without the
   * agent; allocates nothing.
   *
   * <pre>{@code
   * JouleTrace.count("tokens", batch.tokenCount());
   * }</pre>
   *
   * @param unit the unit's name, as it will appear in the {@code unit} label; use a constant
   * @param n how many units, ignored when not positive
   */
  public static void count(String unit, long n) {
    if (COUNT == null) {
      return;
    }
    try {
      COUNT.invokeExact(unit, n);
    } catch (Throwable t) {
      // never into the application
    }
  }

  // The three hooks below are also the agent's instrumentation points when it is attached after
  // this class was initialised. They must stay static and package-private, and never throw.

  static long enter(String name) {
    if (ENTER == null) {
      return 0L;
    }
    try {
      return (long) ENTER.invokeExact(name);
    } catch (Throwable t) {
      return 0L;
    }
  }

  static void exit(long token) {
    if (EXIT == null) {
      return;
    }
    try {
      EXIT.invokeExact(token);
    } catch (Throwable t) {
      // never into the application
    }
  }

  static boolean recording() {
    if (RECORDING == null) {
      return false;
    }
    try {
      return (boolean) RECORDING.invokeExact();
    } catch (Throwable t) {
      return false;
    }
  }

  private enum NoopPhase implements Phase {
    INSTANCE;

    @Override
    public void close() {}
  }

  private static final class AgentPhase implements Phase {
    private final long token;
    private boolean closed;

    AgentPhase(long token) {
      this.token = token;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        exit(token);
      }
    }
  }
}

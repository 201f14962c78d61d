package io.jouletrace.bridge;

/**
 * The bridge for phases that a distributed engine hands to its tasks (Spark's {@code
 * jouletrace.phase} local property). Defined once, by the class loader that loaded the agent jar,
 * like {@link Dispatch}; advice inlined into the engine's task class calls it. It holds nothing but
 * a reference to the agent's handler and never depends on the agent's other classes.
 */
public final class TaskPhases {

  /** Receives the phase of each task that starts. Implemented by the agent. */
  public interface Handler {

    /**
     * A task starts on the current thread with this phase property.
     *
     * @param phase the property's raw value, not {@code null}
     * @return a token for {@link Dispatch#exit(long)}, or 0 when no phase was opened
     */
    long taskStarts(String phase);
  }

  private static volatile Handler handler;

  private TaskPhases() {}

  /**
   * Installs or removes the handler.
   *
   * @param h the handler, or {@code null}
   */
  public static void install(Handler h) {
    handler = h;
  }

  /**
   * Opens the task's phase, if any; never throws.
   *
   * @param phase the property's value, or {@code null} when the task has none
   * @return a token for {@link Dispatch#exit(long)}; 0 when nothing was opened
   */
  public static long taskStarts(String phase) {
    Handler h = handler;
    if (h == null || phase == null) {
      return 0L;
    }
    try {
      return h.taskStarts(phase);
    } catch (Throwable t) {
      return 0L; // the task never sees it
    }
  }

  /**
   * Opens the phase that a task's local properties name, if any; never throws. Called from the code
   * woven into the engine's task class.
   *
   * @param localProperties the task's local properties, or {@code null}
   * @return a token for {@link Dispatch#exit(long)}; 0 when nothing was opened
   */
  public static long taskStartsWith(java.util.Properties localProperties) {
    try {
      return localProperties == null
          ? 0L
          : taskStarts(localProperties.getProperty("jouletrace.phase"));
    } catch (Throwable t) {
      return 0L;
    }
  }
}

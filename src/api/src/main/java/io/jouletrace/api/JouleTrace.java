package io.jouletrace.api;

/**
 * Entry point for marking energy phases from application code.
 *
 * <p>This class has no dependencies and does nothing while no JouleTrace agent is attached: {@link
 * #phase(String)} then returns a shared no-op {@link Phase}, and the JIT reduces the call to
 * nothing. When the agent is attached (at start-up with {@code -javaagent:} or later by pid), it
 * instruments the two package-private hooks below so that phases reach its timeline.
 *
 * <pre>{@code
 * try (Phase p = JouleTrace.phase("tokenize")) {
 *   tokenize(corpus);
 * }
 * }</pre>
 */
public final class JouleTrace {

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
   * Tells whether an agent is recording phases in this JVM.
   *
   * @return {@code true} when the JouleTrace agent is attached
   */
  public static boolean isRecording() {
    return recording();
  }

  // The agent replaces the results of the three hooks below. They must stay static, package-private
  // and free of logic so that they cost nothing when no agent is attached.

  static long enter(String name) {
    return 0L;
  }

  static void exit(long token) {}

  static boolean recording() {
    return false;
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

package io.jouletrace.api;

/**
 * An open energy phase. Energy consumed while a phase is the innermost open phase of a thread is
 * attributed to it. Close it exactly once, ideally with try-with-resources:
 *
 * <pre>{@code
 * try (Phase p = JouleTrace.phase("feature-extraction")) {
 *   extractFeatures();
 * }
 * }</pre>
 *
 * <p>Closing twice is harmless; closing an outer phase also closes the phases opened inside it that
 * are still open.
 */
public interface Phase extends AutoCloseable {

  /** Ends the phase. Never throws. */
  @Override
  void close();
}

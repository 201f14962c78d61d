package io.jouletrace.sources;

/**
 * Receives one-line problem reports from sources. Implementations print each distinct {@code key}
 * once, so a source may report the same condition on every sample without flooding the log.
 */
@FunctionalInterface
public interface Diagnostics {

  /**
   * Reports a problem.
   *
   * @param key identifies the condition, for de-duplication (e.g. {@code rapl.reset.package-0})
   * @param message one line that names the culprit and, where possible, the fix
   */
  void warn(String key, String message);

  /** Diagnostics that drop everything; for tests and probes that collect nothing. */
  Diagnostics NONE = (key, message) -> {};
}

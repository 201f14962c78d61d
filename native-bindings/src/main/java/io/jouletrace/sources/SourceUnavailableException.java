package io.jouletrace.sources;

/**
 * Thrown when a source cannot be opened on this machine; the message says why and how to fix it.
 */
public final class SourceUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  public SourceUnavailableException(String message) {
    super(message);
  }

  public SourceUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}

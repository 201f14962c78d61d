package io.jouletrace.bridge;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The bridge between instrumented code and the agent. It is defined once, by the class loader that
 * loaded the agent jar (the system class loader), so that advice inlined into application classes
 * and the agent's own class loader see the same class. It holds nothing but a reference to the
 * agent's recorder and must never depend on the agent's other classes.
 */
public final class Dispatch {

  /** Receives phase boundaries. Implemented by the agent in its own class loader. */
  public interface Recorder {

    /**
     * Opens a phase on the current thread.
     *
     * @param phase the phase name
     * @return a non-zero token to pass to {@link #exit(long)}, or 0 when the phase is not recorded
     */
    long enter(String phase);

    /**
     * Closes the phase opened with {@code token} (and any phase opened inside it still open).
     *
     * @param token a value returned by {@link #enter(String)}
     */
    void exit(long token);
  }

  /** Receives work units (samples, inferences, tokens). Implemented by the agent. */
  public interface Counter {

    /**
     * Counts units in the calling thread's current phase.
     *
     * @param unit the unit's name
     * @param n how many
     */
    void count(String unit, long n);

    /**
     * Counts units in a named phase.
     *
     * @param phase the phase name
     * @param unit the unit's name
     * @param n how many
     */
    void countIn(String phase, String unit, long n);

    /**
     * Counts the size of a batch object ({@code getSize()}, as DJL's {@code Batch}) in a phase.
     *
     * @param phase the phase name
     * @param unit the unit's name
     * @param batch the batch
     */
    void countSize(String phase, String unit, Object batch);
  }

  private static volatile Counter counter;

  private static final AtomicBoolean CLAIMED = new AtomicBoolean();
  private static volatile Recorder recorder;
  private static volatile Throwable failure;

  private Dispatch() {}

  /**
   * Claims this JVM for one agent. Later attaches find it taken.
   *
   * @return {@code true} for the first caller only
   */
  public static boolean claim() {
    return CLAIMED.compareAndSet(false, true);
  }

  /**
   * Installs or removes the recorder.
   *
   * @param r the recorder, or {@code null} to stop recording
   */
  public static void install(Recorder r) {
    recorder = r;
  }

  /**
   * Returns and forgets the last failure of the recorder, for the agent to report.
   *
   * @return the failure, or {@code null}
   */
  public static Throwable takeFailure() {
    Throwable t = failure;
    if (t != null) {
      failure = null;
    }
    return t;
  }

  /** Tells whether a recorder is installed. */
  public static boolean isRecording() {
    return recorder != null;
  }

  /**
   * Opens a phase; never throws.
   *
   * @param phase the phase name
   * @return a token for {@link #exit(long)}; 0 when nothing is recorded
   */
  public static long enter(String phase) {
    Recorder r = recorder;
    if (r == null) {
      return 0L;
    }
    try {
      return r.enter(phase);
    } catch (Throwable t) {
      failure = t;
      return 0L;
    }
  }

  /**
   * Closes a phase; never throws.
   *
   * @param token the value {@link #enter(String)} returned
   */
  public static void exit(long token) {
    Recorder r = recorder;
    if (r == null || token == 0L) {
      return;
    }
    try {
      r.exit(token);
    } catch (Throwable t) {
      failure = t; // the application never sees it; the agent reports it
    }
  }

  /**
   * Installs or removes the work-unit counter.
   *
   * @param c the counter, or {@code null}
   */
  public static void installCounter(Counter c) {
    counter = c;
  }

  /**
   * Counts work units in the calling thread's current phase; never throws.
   *
   * @param unit the unit's name, e.g. {@code tokens}
   * @param n how many
   */
  public static void count(String unit, long n) {
    Counter c = counter;
    if (c == null) {
      return;
    }
    try {
      c.count(unit, n);
    } catch (Throwable t) {
      failure = t;
    }
  }

  /**
   * Counts work units in a named phase; never throws.
   *
   * @param phase the phase name
   * @param unit the unit's name
   * @param n how many
   */
  public static void countIn(String phase, String unit, long n) {
    Counter c = counter;
    if (c == null) {
      return;
    }
    try {
      c.countIn(phase, unit, n);
    } catch (Throwable t) {
      failure = t;
    }
  }

  /**
   * Counts the size of a batch in a named phase; never throws.
   *
   * @param phase the phase name
   * @param unit the unit's name
   * @param batch an object with a public {@code getSize()} method
   */
  public static void countSize(String phase, String unit, Object batch) {
    Counter c = counter;
    if (c == null || batch == null) {
      return;
    }
    try {
      c.countSize(phase, unit, batch);
    } catch (Throwable t) {
      failure = t;
    }
  }

  /**
   * Counts the size of a list of inputs in a named phase; anything else than a {@link
   * java.util.List} is not counted. Never throws.
   *
   * @param phase the phase name
   * @param unit the unit's name
   * @param inputs the inputs, usually a list
   */
  public static void countList(String phase, String unit, Object inputs) {
    try {
      if (inputs instanceof java.util.List<?> list) {
        countIn(phase, unit, list.size());
      }
    } catch (Throwable t) {
      failure = t; // a list whose size() throws: the application's own call will see it
    }
  }
}

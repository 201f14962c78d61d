package io.jouletrace.agent.instrument;

import io.jouletrace.bridge.Dispatch;
import io.jouletrace.bridge.TaskPhases;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Phases set on a Spark driver, opened around each task in the executors: {@code
 * sc.setLocalProperty("jouletrace.phase", "featurize")} makes every task of the jobs submitted
 * afterwards from that thread a phase {@code featurize}, and DJL phases inside a task nest under
 * it. Counts the tasks per phase for the report and {@code jouletrace_tasks_total}.
 *
 * <p>A malformed value (empty, longer than {@value #MAX_LENGTH} characters, or holding control
 * characters) opens no phase; it is reported once per distinct value (at most {@value
 * #MAX_WARNINGS}), and the task runs as it would without the property. The task's thread only
 * queues the line: the agent prints it from its own threads ({@link #drainWarnings()}, at each
 * scrape and at exit), so no task waits on standard error.
 */
public final class SparkTasks implements TaskPhases.Handler {

  /** The local property read from each task. */
  public static final String PROPERTY = "jouletrace.phase";

  /** The field of Spark's task that holds its local properties. */
  static final String LOCAL_PROPERTIES = "localProperties";

  /** The longest phase name taken from a task. */
  public static final int MAX_LENGTH = 128;

  static final int MAX_WARNINGS = 8;

  /** Spark's task class; its {@code run} is the choke point of every task on an executor. */
  static final String TASK_CLASS = "org.apache.spark.scheduler.Task";

  private final Consumer<String> warn;
  private final int maxPhases;
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final Map<String, Boolean> warned = new ConcurrentHashMap<>();
  private final java.util.Queue<String> pending =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  /**
   * Creates the handler.
   *
   * @param warn where a malformed value is reported (once per value), from {@link #drainWarnings()}
   * @param maxPhases most distinct phase names counted; later ones count as {@code overflow}
   */
  public SparkTasks(Consumer<String> warn, int maxPhases) {
    this.warn = warn;
    this.maxPhases = maxPhases;
  }

  /** The rule that opens each task's phase around {@code Task.run}. */
  public static Rule rule() {
    return Rule.exact(TASK_CLASS, PROPERTY, "run").with(Rule.Around.SPARK_TASK);
  }

  @Override
  public long taskStarts(String phase) {
    String problem = problem(phase);
    if (problem != null) {
      if (warned.size() < MAX_WARNINGS && warned.putIfAbsent(phase, Boolean.TRUE) == null) {
        pending.add(
            "Spark local property "
                + PROPERTY
                + "="
                + quote(phase)
                + " ignored: "
                + problem
                + "; its tasks run in no Spark phase");
      }
      return 0L;
    }
    LongAdder n = counts.get(phase);
    if (n == null) {
      String key = counts.size() < maxPhases ? phase : "overflow";
      n = counts.get(key);
      if (n == null) {
        LongAdder added = new LongAdder();
        n = counts.putIfAbsent(key, added);
        n = n == null ? added : n;
      }
    }
    n.increment();
    return Dispatch.enter(phase);
  }

  /** Reports the malformed values queued by tasks; called on the agent's threads. */
  public void drainWarnings() {
    for (String line; (line = pending.poll()) != null; ) {
      warn.accept(line);
    }
  }

  /** Returns why a value is not a phase name, or {@code null} when it is one. */
  static String problem(String phase) {
    if (phase.isBlank()) {
      return "it is empty";
    }
    if (phase.length() > MAX_LENGTH) {
      return "longer than " + MAX_LENGTH + " characters";
    }
    for (int i = 0; i < phase.length(); i++) {
      if (Character.isISOControl(phase.charAt(i))) {
        return "it holds control characters";
      }
    }
    return null;
  }

  /** The value as a Java string literal of at most 40 characters, control characters escaped. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length() && i < 40; i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c)) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append(s.length() > 40 ? "...\"" : "\"").toString();
  }

  /**
   * Returns the tasks started so far per phase, in name order.
   *
   * @return phase name to task count
   */
  public Map<String, Long> counts() {
    Map<String, Long> out = new TreeMap<>();
    for (Map.Entry<String, LongAdder> c : counts.entrySet()) {
      out.put(c.getKey(), c.getValue().sum());
    }
    return out;
  }
}

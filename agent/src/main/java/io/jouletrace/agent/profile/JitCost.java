package io.jouletrace.agent.profile;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;

/**
 * The JIT compilers' CPU time spent on the agent's code, told apart with JFR's {@code
 * jdk.Compilation} events while {@code profile=true} has JFR running anyway: the time each
 * compilation of an agent's method took (its own classes, the bridge, and, while JFR runs for the
 * profile alone, JFR's own code), times the CPU time its compiler thread used per second of
 * compiling while it ran. A compilation's duration is wall time, and a compiler thread that other
 * threads keep off the CPU takes longer than it computes, so that rate is measured per compiler
 * thread and per delivery of JFR's events (about one a second): the thread's CPU time since the
 * last delivery against the durations of the compilations delivered now (at most one second per
 * second). The CPU time of a delivery that its compilations did not take goes on to the next one: a
 * compilation still running at a reading has its event in the next delivery, and without this the
 * count came out low, by up to a third of itself on a busy machine. A compiler thread that the JVM
 * started and stopped again before its CPU time was read (it starts more of them on a machine with
 * many cores, and stops those it no longer needs) gets the rate of the other threads of its
 * compiler. Compilations of application methods into which the compiler inlined agent code are the
 * application's: the two cannot be told apart there. Neither can compilations of the JDK's methods
 * that the agent's code calls, nor the JIT's work during JFR's start, before its recording runs.
 *
 * <p>Thread-safe: the profiler's thread starts the count and adds compilations and readings, the
 * report's thread reads the total.
 */
final class JitCost {

  /** What a compiled method is. */
  enum Code {
    /** The agent's own, or the bridge. */
    AGENT,
    /** JFR's: the agent's while JFR runs for the profile alone. */
    JFR,
    /** The application's, or the JDK's. */
    OTHER
  }

  private static final class Compiler {
    /** C1, C2, ...: the name of its compiler (its thread's name without the number). */
    final String kind;

    /**
     * Its CPU time at the reading that closed its last batch; at first its CPU time when the
     * recording started running, 0 for a compiler thread started after that.
     */
    long cpu;

    /** Durations of the compilations delivered since that reading: all, the agent's, JFR's. */
    long all;

    long agent;
    long jfr;

    /** What the closed batches come to: CPU time on the agent's code, on JFR's, and in all. */
    double agentCpu;

    double jfrCpu;
    long closedCpu;
    long closedAll;

    /**
     * CPU time of the last batch that its compilations did not take: a compilation still running at
     * a reading, whose event comes with the next batch (or a thread's events that JFR hands out
     * late). It is the next batch's to take, and only the next one's.
     */
    long carried;

    Compiler(String kind, long cpu) {
      this.kind = kind;
      this.cpu = cpu;
    }

    /** Closes the batch with a reading of its CPU time (a batch without compilations waits). */
    void close(long now) {
      if (all == 0 || now < 0) {
        return;
      }
      long own = Math.max(0, now - cpu);
      long spent = own + carried;
      double rate = Math.min(1, (double) spent / all);
      agentCpu += agent * rate;
      jfrCpu += jfr * rate;
      carried = Math.max(0, own - all);
      closedCpu += own;
      closedAll += all;
      all = 0;
      agent = 0;
      jfr = 0;
      cpu = now;
    }
  }

  private final LongUnaryOperator cpuOfTid;
  private final Supplier<Map<Long, Long>> listCompilers;
  private Map<Long, Long> baseline;
  private final Map<Long, Compiler> compilers = new HashMap<>();
  private boolean jfrOurs = true;

  /**
   * Prepares the count.
   *
   * @param cpuOfTid a Linux thread's CPU time in nanoseconds, -1 when it cannot be read (ended)
   * @param listCompilers the compiler threads alive now, by Linux thread id with their CPU time;
   *     {@code null} when they cannot be listed (nothing is counted then)
   */
  JitCost(LongUnaryOperator cpuOfTid, Supplier<Map<Long, Long>> listCompilers) {
    this.cpuOfTid = cpuOfTid;
    this.listCompilers = listCompilers;
  }

  /**
   * Starts the count: call it when the recording runs, so that every compilation from then on has
   * its event. The compilations under way then have none, but their CPU time from then on counts:
   * the rate of their threads comes out a little high.
   */
  synchronized void start() {
    if (baseline == null) {
      baseline = listCompilers.get();
    }
  }

  /**
   * Whether JFR runs for the profile alone: its code's compilations are the agent's only then. Once
   * it is not, they are not counted at all.
   */
  synchronized void jfrOurs(boolean ours) {
    jfrOurs &= ours;
  }

  /**
   * Counts one compilation.
   *
   * @param tid the Linux thread id of the compiler thread that did it
   * @param kind its compiler (C1, C2, ...)
   * @param nanos how long it took
   * @param code whose method it compiled
   */
  synchronized void compiled(long tid, String kind, long nanos, Code code) {
    if (baseline == null || tid <= 0 || nanos <= 0) {
      return;
    }
    Compiler c = compilers.get(tid);
    if (c == null) {
      c = new Compiler(kind, baseline.getOrDefault(tid, 0L));
      compilers.put(tid, c);
    }
    c.all += nanos;
    if (code == Code.AGENT) {
      c.agent += nanos;
    } else if (code == Code.JFR) {
      c.jfr += nanos;
    }
  }

  /**
   * Reads the CPU time of the compiler threads seen so far and closes their batches: call it each
   * time JFR has delivered the compilations up to now, so that the time and the compilations cover
   * the same span. A thread that has ended keeps its open batch.
   */
  synchronized void refresh() {
    for (Map.Entry<Long, Compiler> e : compilers.entrySet()) {
      e.getValue().close(cpuOfTid.applyAsLong(e.getKey()));
    }
  }

  /**
   * The compilers' CPU time spent on the agent's code, as of the last reading.
   *
   * @return nanoseconds
   */
  synchronized long agentNanos() {
    Map<String, long[]> pooled = new HashMap<>(); // per compiler: CPU time, compiling time
    for (Compiler c : compilers.values()) {
      long[] p = pooled.computeIfAbsent(c.kind, k -> new long[2]);
      p[0] += c.closedCpu;
      p[1] += c.closedAll;
    }
    double total = 0;
    for (Compiler c : compilers.values()) {
      total += c.agentCpu + (jfrOurs ? c.jfrCpu : 0);
      long open = c.agent + (jfrOurs ? c.jfr : 0);
      if (open > 0) { // never read since these were delivered: its compiler's other threads' rate
        long[] p = pooled.get(c.kind);
        total += p[1] == 0 ? 0 : open * Math.min(1, (double) p[0] / p[1]);
      }
    }
    return (long) total;
  }
}

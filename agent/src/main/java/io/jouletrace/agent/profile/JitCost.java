package io.jouletrace.agent.profile;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongUnaryOperator;

/**
 * The JIT compilers' CPU time spent on the agent's code, told apart with JFR's {@code
 * jdk.Compilation} events while {@code profile=true} has JFR running anyway: the time each
 * compilation of an agent's method took (its own classes, the bridge, and JFR's consumer code that
 * the profile runs), times the CPU time its compiler thread used per second of compiling. A
 * compilation's duration is wall time, and a compiler thread that other threads keep off the CPU
 * takes longer than it computes, so that rate is measured per compiler thread: its CPU time since
 * the recording started running against the durations of all its compilations since (at most one
 * second per second). Compilations of application methods into which the compiler inlined agent
 * code are the application's: the two cannot be told apart there. Neither can compilations of the
 * JDK's methods that the agent's code calls, nor those of JFR's start, before its recording runs.
 *
 * <p>Thread-safe: the profiler's thread starts the count and adds compilations and readings, the
 * report's thread reads the total.
 */
final class JitCost {

  private static final class Compiler {
    /** CPU time when the recording started running; 0 for a compiler thread started after that. */
    final long baseCpu;

    /** Durations of all its compilations since, and of the agent's. */
    long all;

    long agent;

    /** Its CPU time at the latest {@link #refresh()}; -1 before. */
    long lastCpu = -1;

    Compiler(long baseCpu) {
      this.baseCpu = baseCpu;
    }

    /** CPU time per second of compiling. */
    double rate() {
      return lastCpu > baseCpu && all > 0 ? Math.min(1, (double) (lastCpu - baseCpu) / all) : 0;
    }
  }

  private final LongUnaryOperator cpuOfTid;
  private final Set<Long> known;
  private Map<Long, Long> baseline;
  private final Map<Long, Compiler> compilers = new HashMap<>();

  /**
   * Prepares the count.
   *
   * @param cpuOfTid a Linux thread's CPU time in nanoseconds, -1 when it cannot be read (ended)
   * @param compilerThreads the Linux thread ids of the compiler threads alive now; {@code null}
   *     when they could not be listed (nothing is counted then)
   */
  JitCost(LongUnaryOperator cpuOfTid, Set<Long> compilerThreads) {
    this.cpuOfTid = cpuOfTid;
    this.known = compilerThreads;
  }

  /** Starts the count: call it when the recording runs, so that every compilation has its event. */
  synchronized void start() {
    if (known == null || baseline != null) {
      return;
    }
    Map<Long, Long> cpu = new HashMap<>();
    for (long tid : known) {
      long nanos = cpuOfTid.applyAsLong(tid);
      if (nanos >= 0) {
        cpu.put(tid, nanos);
      }
    }
    baseline = cpu;
  }

  /**
   * Counts one compilation.
   *
   * @param tid the Linux thread id of the compiler thread that did it
   * @param nanos how long it took
   * @param agents whether the compiled method is the agent's
   */
  synchronized void compiled(long tid, long nanos, boolean agents) {
    if (baseline == null || tid <= 0 || nanos <= 0) {
      return;
    }
    Compiler c = compilers.get(tid);
    if (c == null) {
      c = new Compiler(baseline.getOrDefault(tid, 0L));
      compilers.put(tid, c);
    }
    c.all += nanos;
    if (agents) {
      c.agent += nanos;
    }
  }

  /**
   * Reads the CPU time of the compiler threads seen so far: call it each time JFR has delivered the
   * compilations up to now, so that the time and the compilations cover the same span. A thread
   * that has ended (the JVM stops compiler threads it no longer needs) keeps its last reading.
   */
  synchronized void refresh() {
    for (Map.Entry<Long, Compiler> e : compilers.entrySet()) {
      long cpu = cpuOfTid.applyAsLong(e.getKey());
      if (cpu >= 0) {
        e.getValue().lastCpu = cpu;
      }
    }
  }

  /**
   * The compilers' CPU time spent on the agent's code, as of the last {@link #refresh()}.
   *
   * @return nanoseconds
   */
  synchronized long agentNanos() {
    double total = 0;
    for (Compiler c : compilers.values()) {
      total += c.agent * c.rate();
    }
    return (long) total;
  }
}

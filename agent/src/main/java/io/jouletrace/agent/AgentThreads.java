package io.jouletrace.agent;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one place the agent makes threads, so that what measuring costs can be told: every thread
 * made here is a daemon named {@code jouletrace-<name>}, and its CPU time is counted while it runs
 * and kept when it ends. {@link #cpuNanosByThread()} is what the report's {@code agent} section and
 * {@code jouletrace_agent_cpu_seconds_total} show.
 */
public final class AgentThreads {

  private static final List<Thread> LIVE = new ArrayList<>();
  private static final Map<String, Long> ENDED = new TreeMap<>();
  private static final AtomicInteger POOL = new AtomicInteger();

  private AgentThreads() {}

  /**
   * Makes (does not start) a daemon thread whose CPU time is counted.
   *
   * @param name the part after {@code jouletrace-}
   * @param body what it runs
   * @return the thread
   */
  public static Thread daemon(String name, Runnable body) {
    Thread[] self = new Thread[1];
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } finally {
                ended(self[0]);
              }
            },
            "jouletrace-" + name);
    self[0] = t;
    t.setDaemon(true);
    synchronized (LIVE) {
      LIVE.add(t);
    }
    return t;
  }

  /**
   * A factory of counted daemon threads, for executors (the HTTP server's).
   *
   * @param name the part after {@code jouletrace-}; a number is appended per thread
   * @return the factory
   */
  public static ThreadFactory factory(String name) {
    return r -> daemon(name + "-" + POOL.incrementAndGet(), r);
  }

  private static void ended(Thread t) {
    long cpu = currentThreadCpu();
    synchronized (LIVE) {
      LIVE.remove(t);
      if (cpu > 0) {
        ENDED.merge(t.getName(), cpu, Long::sum);
      }
    }
  }

  private static long currentThreadCpu() {
    try {
      ThreadMXBean b = ManagementFactory.getThreadMXBean();
      return b.isCurrentThreadCpuTimeSupported() ? b.getCurrentThreadCpuTime() : -1;
    } catch (RuntimeException | LinkageError e) {
      return -1;
    }
  }

  /**
   * Returns the CPU time of every thread made here, ended or running, by thread name.
   *
   * @return nanoseconds per thread name; empty where the JVM cannot tell thread CPU time
   */
  public static Map<String, Long> cpuNanosByThread() {
    Map<String, Long> out;
    List<Thread> live;
    synchronized (LIVE) {
      out = new TreeMap<>(ENDED);
      live = new ArrayList<>(LIVE);
    }
    try {
      ThreadMXBean b = ManagementFactory.getThreadMXBean();
      if (!b.isThreadCpuTimeSupported()) {
        return out;
      }
      for (Thread t : live) {
        long cpu = b.getThreadCpuTime(t.getId());
        if (cpu > 0) {
          out.merge(t.getName(), cpu, Long::sum);
        }
      }
    } catch (RuntimeException | LinkageError e) {
      // counted as far as known
    }
    return out;
  }
}

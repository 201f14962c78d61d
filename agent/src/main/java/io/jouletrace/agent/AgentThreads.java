package io.jouletrace.agent;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadFactory;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The one place the agent makes threads, so that what measuring costs can be told: every thread
 * made here is a daemon named {@code jouletrace-<name>}, and its CPU time is counted while it runs
 * and kept when it ends. CPU time the agent causes elsewhere joins it where it can be told: its
 * weaving on the threads that load classes ({@link #spentHere}) and what others count ({@link
 * #countElsewhere}: the JIT's work on its code, JFR's threads). {@link #cpuNanosByThread()} is what
 * the report's {@code agent} section and {@code jouletrace_agent_cpu_seconds_total} show.
 */
public final class AgentThreads {

  /** Live threads made here, with what they run. */
  private static final Map<Thread, Counted> LIVE = new IdentityHashMap<>();

  private static final Map<String, Long> ENDED = new TreeMap<>();

  /** CPU time the agent caused on threads not its own, counted by whoever can tell it. */
  private static final Map<String, LongSupplier> ELSEWHERE = new TreeMap<>();

  private AgentThreads() {}

  /**
   * Makes (does not start) a daemon thread whose CPU time is counted.
   *
   * @param name the part after {@code jouletrace-}
   * @param body what it runs
   * @return the thread
   */
  public static Thread daemon(String name, Runnable body) {
    Counted counted = new Counted(body);
    Thread t = new Thread(counted, "jouletrace-" + name);
    t.setDaemon(true);
    synchronized (LIVE) {
      LIVE.put(t, counted);
    }
    return t;
  }

  /**
   * A factory of counted daemon threads, for executors (the HTTP server's, the pushes'). Its
   * threads share one name, so that the report shows one figure for all of them.
   *
   * @param name the part after {@code jouletrace-}
   * @return the factory
   */
  public static ThreadFactory factory(String name) {
    return r -> daemon(name, r);
  }

  /**
   * The calling thread's CPU time, to pass to {@link #spentHere} after the agent's work on a thread
   * that is not its own; -1 on a thread made here, whose time is counted already.
   *
   * @return nanoseconds, or -1
   */
  public static long cpuNow() {
    synchronized (LIVE) {
      if (LIVE.containsKey(Thread.currentThread())) {
        return -1;
      }
    }
    return ThreadCpuClock.currentWithoutStartingJmx();
  }

  /**
   * Counts CPU time the agent spent on a thread of the application's (weaving a class as it loads)
   * under {@code name}, beside its own threads.
   *
   * @param name the entry's name after {@code jouletrace-}
   * @param since {@link #cpuNow()} before the work; nothing is counted when it is negative
   */
  public static void spentHere(String name, long since) {
    if (since < 0) {
      return;
    }
    long now = ThreadCpuClock.currentWithoutStartingJmx();
    long cpu = now < 0 ? -1 : now - since;
    if (cpu > 0) {
      synchronized (LIVE) {
        String key = "jouletrace-" + name;
        ENDED.put(key, ENDED.getOrDefault(key, 0L) + cpu); // no lambda to spin on this path
      }
    }
  }

  /**
   * Counts CPU time the agent causes on threads it did not make and cannot time itself (the JIT's
   * compilations of its code), under {@code name}, beside its own threads; replaces an earlier
   * count of that name.
   *
   * @param name the entry's name after {@code jouletrace-}
   * @param nanos the time so far, asked for each time the agent's cost is read; a negative or zero
   *     value counts nothing
   */
  public static void countElsewhere(String name, LongSupplier nanos) {
    synchronized (LIVE) {
      ELSEWHERE.put("jouletrace-" + name, nanos);
    }
  }

  /**
   * A thread of this process by its Linux thread id: its CPU time.
   *
   * @param tid the thread id
   * @return nanoseconds, or -1 where it cannot be read (ended, or not Linux)
   */
  public static long cpuOfTask(long tid) {
    return ThreadCpuClock.ofTask(tid);
  }

  /**
   * This process's threads whose Linux name ({@code comm}, at most 15 characters) passes a test,
   * with their CPU time now.
   *
   * @param name the test
   * @param max how many threads to look at, at most
   * @return CPU nanoseconds by Linux thread id; {@code null} where the threads cannot be listed, or
   *     there are more than {@code max}
   */
  public static Map<Long, Long> cpuOfTasksNamed(Predicate<String> name, int max) {
    return ThreadCpuClock.tasksNamed(name, max);
  }

  /** A thread's body, between the reading of its thread id and the count of its CPU time. */
  private static final class Counted implements Runnable {
    private final Runnable body;

    /** Its thread's Linux thread id once it runs, -1 until then; under {@link #LIVE}'s lock. */
    private long tid = -1;

    Counted(Runnable body) {
      this.body = body;
    }

    @Override
    public void run() {
      long id = ThreadCpuClock.currentTid();
      synchronized (LIVE) {
        tid = id;
      }
      try {
        body.run();
      } finally {
        ended(Thread.currentThread());
      }
    }
  }

  private static void ended(Thread t) {
    long cpu = ThreadCpuClock.current();
    synchronized (LIVE) {
      LIVE.remove(t);
      if (cpu > 0) {
        ENDED.put(t.getName(), ENDED.getOrDefault(t.getName(), 0L) + cpu);
      }
    }
  }

  /**
   * Returns the CPU time of every thread made here, ended or running, by thread name.
   *
   * @return nanoseconds per thread name; empty where the JVM cannot tell thread CPU time
   */
  public static Map<String, Long> cpuNanosByThread() {
    Map<String, Long> out;
    Map<Thread, Long> live = new IdentityHashMap<>();
    Map<String, LongSupplier> elsewhere;
    synchronized (LIVE) {
      out = new TreeMap<>(ENDED);
      elsewhere = new TreeMap<>(ELSEWHERE);
      for (Map.Entry<Thread, Counted> e : LIVE.entrySet()) {
        live.put(e.getKey(), e.getValue().tid);
      }
    }
    try {
      for (Map.Entry<Thread, Long> e : live.entrySet()) {
        long cpu = ThreadCpuClock.of(e.getKey(), e.getValue());
        if (cpu > 0) {
          out.put(e.getKey().getName(), out.getOrDefault(e.getKey().getName(), 0L) + cpu);
        }
      }
    } catch (RuntimeException | LinkageError e) {
      // counted as far as known
    }
    for (Map.Entry<String, LongSupplier> e : elsewhere.entrySet()) {
      try {
        long cpu = e.getValue().getAsLong();
        if (cpu > 0) {
          out.merge(e.getKey(), cpu, Long::sum);
        }
      } catch (RuntimeException | LinkageError ex) {
        // not counted
      }
    }
    return out;
  }
}

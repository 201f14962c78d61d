package io.jouletrace.agent.profile;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/** Per-thread CPU time from the JVM, in one call where the JDK offers it. */
final class ThreadCpu {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** Up to this many live threads, all are read; beyond it, only those sampled lately. */
  static final int ALL_UP_TO = 256;

  private ThreadCpu() {}

  /**
   * All live platform threads when there are few, so that a thread's first samples already have
   * readings around them; else null, and the threads to read are those the profiler sampled lately.
   *
   * @return thread ids, or null
   */
  static long[] allThreadsIfFew() {
    return THREADS.getThreadCount() <= ALL_UP_TO ? THREADS.getAllThreadIds() : null;
  }

  /**
   * Reads the CPU time (user and system) of threads.
   *
   * @param ids {@link Thread#getId()} of platform threads
   * @return nanoseconds per thread, {@code -1} for one that ended, is virtual, or cannot be read
   */
  static long[] read(long[] ids) {
    long[] out = new long[ids.length];
    if (ids.length == 0) {
      return out;
    }
    if (!THREADS.isThreadCpuTimeSupported() || !THREADS.isThreadCpuTimeEnabled()) {
      Arrays.fill(out, -1);
      return out;
    }
    if (THREADS instanceof com.sun.management.ThreadMXBean bulk) {
      return bulk.getThreadCpuTime(ids);
    }
    for (int i = 0; i < ids.length; i++) {
      out[i] = THREADS.getThreadCpuTime(ids[i]);
    }
    return out;
  }
}

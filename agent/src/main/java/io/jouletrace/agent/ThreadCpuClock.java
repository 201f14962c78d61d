package io.jouletrace.agent;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The CPU time of the agent's own threads. The JVM's {@link ThreadMXBean} reads it in well under a
 * microsecond, but its first use starts JMX's platform beans (about 30 ms of a cold JVM's CPU, on
 * whichever thread asks first), which a short job would pay for in full. Until {@link #warmUp()}
 * has run (the init thread calls it once the job leaves a core idle), a thread's time is read from
 * Linux's {@code /proc/self/task/<tid>/schedstat} (the scheduler's run time, in nanoseconds) at
 * tens of microseconds a read; where there is no such file, from JMX at once.
 */
final class ThreadCpuClock {

  private static final Path THREAD_SELF = Path.of("/proc/thread-self");
  private static final Path TASKS = Path.of("/proc/self/task");

  private static volatile ThreadMXBean jmx;

  private ThreadCpuClock() {}

  /** Starts JMX's thread bean, so that reads from now on cost what the JVM's clock costs. */
  static void warmUp() {
    jmx();
  }

  /**
   * The calling thread's Linux thread id, to pass to {@link #of(Thread, long)} later.
   *
   * @return the id, or -1 where {@code /proc/thread-self} is missing
   */
  static long currentTid() {
    try {
      // "<pid>/task/<tid>"
      String link = Files.readSymbolicLink(THREAD_SELF).toString();
      return Long.parseLong(link.substring(link.lastIndexOf('/') + 1));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The calling thread's CPU time.
   *
   * @return nanoseconds, or -1 where the JVM cannot tell
   */
  static long current() {
    long nanos = currentWithoutStartingJmx();
    if (nanos >= 0 || jmx != null) {
      return nanos;
    }
    ThreadMXBean b = jmx(); // no /proc: JMX is the clock left
    return b.isCurrentThreadCpuTimeSupported() ? b.getCurrentThreadCpuTime() : -1;
  }

  /**
   * The calling thread's CPU time, without starting JMX for it: for reads on the application's
   * threads (a class-file transformer), where starting JMX would load its classes there.
   *
   * @return nanoseconds, or -1 where neither {@code /proc} nor a started JMX can tell
   */
  static long currentWithoutStartingJmx() {
    ThreadMXBean b = jmx;
    if (b == null) {
      return runTime(THREAD_SELF.resolve("schedstat"));
    }
    return b.isCurrentThreadCpuTimeSupported() ? b.getCurrentThreadCpuTime() : -1;
  }

  /**
   * A live thread's CPU time.
   *
   * @param t the thread
   * @param tid its Linux thread id from {@link #currentTid()}, or -1
   * @return nanoseconds, or -1 where it cannot be told (ended, or no clock)
   */
  static long of(Thread t, long tid) {
    ThreadMXBean b = jmx;
    if (b == null && tid > 0) {
      long nanos = runTime(TASKS.resolve(Long.toString(tid)).resolve("schedstat"));
      if (nanos >= 0) {
        return nanos;
      }
    }
    if (b == null && !t.isAlive()) {
      return -1; // not started, or ended: its time is counted where it ends
    }
    if (b == null) {
      b = jmx();
    }
    return b.isThreadCpuTimeSupported() ? b.getThreadCpuTime(t.getId()) : -1;
  }

  /**
   * A thread of this process by its Linux thread id, whichever made it (the JVM's compiler threads
   * too): its CPU time from {@code /proc/self/task/<tid>/schedstat}.
   *
   * @param tid the thread id
   * @return nanoseconds, or -1 where it cannot be read (ended, or no such file)
   */
  static long ofTask(long tid) {
    return tid > 0 ? runTime(TASKS.resolve(Long.toString(tid)).resolve("schedstat")) : -1;
  }

  /**
   * This process's threads whose Linux name ({@code comm}, at most 15 characters) passes a test,
   * with their CPU time now.
   *
   * @param name the test
   * @param max how many threads to look at, at most
   * @return CPU nanoseconds by thread id; {@code null} where the threads cannot be listed, or there
   *     are more than {@code max}
   */
  static Map<Long, Long> tasksNamed(Predicate<String> name, int max) {
    Map<Long, Long> out = new HashMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      int seen = 0;
      for (Path task : tasks) {
        if (++seen > max) {
          return null;
        }
        long tid;
        String comm;
        try {
          tid = Long.parseLong(task.getFileName().toString());
          comm = Files.readString(task.resolve("comm")).strip();
        } catch (IOException | RuntimeException e) {
          continue; // ended meanwhile
        }
        if (name.test(comm)) {
          long cpu = runTime(task.resolve("schedstat"));
          if (cpu >= 0) {
            out.put(tid, cpu);
          }
        }
      }
      return out;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static ThreadMXBean jmx() {
    ThreadMXBean b = jmx;
    if (b == null) {
      b = ManagementFactory.getThreadMXBean();
      jmx = b;
    }
    return b;
  }

  /**
   * The first field of a {@code schedstat} file: time spent on a CPU, in nanoseconds.
   *
   * @param file the file
   * @return nanoseconds, or -1 where it is missing or not as Linux writes it
   */
  static long runTime(Path file) {
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(64);
      c.read(b);
      long v = 0;
      int n = 0;
      for (int i = 0; i < b.position(); i++, n++) {
        byte d = b.get(i);
        if (d == ' ') {
          break;
        }
        if (d < '0' || d > '9' || n > 18) {
          return -1;
        }
        v = v * 10 + (d - '0');
      }
      return n == 0 ? -1 : v;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}

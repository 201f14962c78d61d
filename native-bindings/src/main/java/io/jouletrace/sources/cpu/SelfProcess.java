package io.jouletrace.sources.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's id and CPU time, read from Linux's {@code /proc} where it is mounted, else from
 * {@link ProcessHandle}. The first call to {@code ProcessHandle.current()} initializes the JDK's
 * process support (a reaper executor and its classes, about 20 ms of a cold JVM's time), which
 * {@code premain} would spend on the application's thread; a read of {@code /proc} costs tens of
 * microseconds.
 */
public final class SelfProcess {

  private static final Path PROC = Path.of("/proc");

  private static volatile long pid;

  private SelfProcess() {}

  /**
   * This process's id.
   *
   * @return the pid
   */
  public static long pid() {
    long p = pid;
    if (p == 0) {
      p = pidFrom(PROC);
      if (p <= 0) {
        p = ProcessHandle.current().pid();
      }
      pid = p;
    }
    return p;
  }

  /**
   * This process's CPU time (user and system, all threads).
   *
   * @return nanoseconds, in clock ticks' resolution where read from {@code /proc}; -1 where unknown
   */
  public static long cpuNanos() {
    long nanos = cpuNanosFrom(PROC);
    if (nanos >= 0) {
      return nanos;
    }
    return ProcessHandle.current()
        .info()
        .totalCpuDuration()
        .map(java.time.Duration::toNanos)
        .orElse(-1L);
  }

  /**
   * The pid that {@code proc/self} names.
   *
   * @param proc a {@code /proc} mount
   * @return the pid, or -1 where the link is missing or not a number
   */
  static long pidFrom(Path proc) {
    try {
      long p = Long.parseLong(Files.readSymbolicLink(proc.resolve("self")).toString());
      return p > 0 ? p : -1;
    } catch (IOException | RuntimeException e) {
      return -1; // no link, or not a number
    }
  }

  /**
   * The process CPU time in {@code proc/self/stat}.
   *
   * @param proc a {@code /proc} mount
   * @return nanoseconds, or -1 where the file is missing or not as Linux writes it
   */
  static long cpuNanosFrom(Path proc) {
    Path stat = proc.resolve("self").resolve("stat");
    if (!Files.isReadable(stat)) {
      return -1;
    }
    try {
      return ProcHost.processCpuNanos(stat);
    } catch (RuntimeException e) {
      return -1;
    }
  }
}

package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThreadCpuClockTest {

  @TempDir Path tmp;

  @Test
  void runTimeIsTheFirstFieldOfSchedstat() throws Exception {
    Path f = Files.writeString(tmp.resolve("schedstat"), "123456789 2048 17\n");
    assertThat(ThreadCpuClock.runTime(f)).isEqualTo(123_456_789L);
    assertThat(ThreadCpuClock.runTime(Files.writeString(tmp.resolve("bad"), "x12 3\n")))
        .isEqualTo(-1);
    assertThat(ThreadCpuClock.runTime(Files.writeString(tmp.resolve("empty"), ""))).isEqualTo(-1);
    assertThat(ThreadCpuClock.runTime(tmp.resolve("missing"))).isEqualTo(-1);
  }

  /**
   * Before JMX is started, a thread's time comes from /proc; it must follow the JVM's own thread
   * clock to within the scheduler's tick at each end (schedstat is brought up to date at ticks and
   * switches; a tick is 10 ms at HZ=100).
   */
  @Test
  void procTimeFollowsTheJvmsThreadClock() {
    assumeThat(Files.isReadable(Path.of("/proc/thread-self/schedstat"))).isTrue();
    ThreadMXBean jvm = ManagementFactory.getThreadMXBean();
    long jvmBefore = jvm.getCurrentThreadCpuTime();
    long procBefore = ThreadCpuClock.runTime(Path.of("/proc/thread-self/schedstat"));
    double x = 0;
    while (jvm.getCurrentThreadCpuTime() - jvmBefore < 80_000_000L) {
      for (int i = 0; i < 10_000; i++) {
        x += Math.sqrt(x + i);
      }
    }
    long procAfter = ThreadCpuClock.runTime(Path.of("/proc/thread-self/schedstat"));
    long jvmAfter = jvm.getCurrentThreadCpuTime();
    assertThat(x).isPositive();
    assertThat(procBefore).isPositive();
    assertThat(procAfter - procBefore).isCloseTo(jvmAfter - jvmBefore, within(25_000_000L));
    // the thread's total time as well, not only its differences
    assertThat(procAfter).isCloseTo(jvmAfter, within(25_000_000L));
  }

  @Test
  void tidOfTheCallingThreadNamesItsTaskFolder() {
    assumeThat(Files.isDirectory(Path.of("/proc/thread-self"))).isTrue();
    long tid = ThreadCpuClock.currentTid();
    assertThat(tid).isPositive();
    assertThat(Path.of("/proc/self/task/" + tid)).isDirectory();
    long[] other = new long[1];
    Thread t = new Thread(() -> other[0] = ThreadCpuClock.currentTid());
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    assertThat(other[0]).isPositive().isNotEqualTo(tid);
  }

  private static org.assertj.core.data.Offset<Long> within(long nanos) {
    return org.assertj.core.data.Offset.offset(nanos);
  }
}

package io.jouletrace.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AgentThreadsTest {

  /** Burns at least {@code nanos} of this thread's CPU time and returns what it measured. */
  private static long burn(long nanos) {
    var bean = ManagementFactory.getThreadMXBean();
    long start = bean.getCurrentThreadCpuTime();
    double x = 0;
    while (bean.getCurrentThreadCpuTime() - start < nanos) {
      for (int i = 0; i < 10_000; i++) {
        x += Math.sqrt(x + i);
      }
    }
    return bean.getCurrentThreadCpuTime() - start + (x > 0 ? 0 : 1);
  }

  @Test
  void cpuOfEndedAndLiveThreadsIsCounted() throws Exception {
    AtomicLong ended = new AtomicLong();
    Thread t = AgentThreads.daemon("test-ended", () -> ended.set(burn(30_000_000L)));
    assertThat(t.isDaemon()).isTrue();
    assertThat(t.getName()).isEqualTo("jouletrace-test-ended");
    t.start();
    t.join();
    // A thread reads its own time as it ends; from /proc (before JMX is started) that reading may
    // lag the JVM's clock by one scheduler tick, 10 ms at most.
    assertThat(AgentThreads.cpuNanosByThread().get("jouletrace-test-ended"))
        .isGreaterThanOrEqualTo(ended.get() - 10_000_000L);

    CountDownLatch burnt = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong live = new AtomicLong();
    Thread l =
        AgentThreads.daemon(
            "test-live",
            () -> {
              live.set(burn(20_000_000L));
              burnt.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    l.start();
    burnt.await();
    assertThat(AgentThreads.cpuNanosByThread().get("jouletrace-test-live"))
        .isGreaterThanOrEqualTo(live.get());
    release.countDown();
    l.join();
    assertThat(AgentThreads.cpuNanosByThread()).containsKey("jouletrace-test-live");
  }

  @Test
  void factoryThreadsAreCountedDaemonsUnderOneName() throws Exception {
    java.util.concurrent.ThreadFactory pool = AgentThreads.factory("test-pool");
    AtomicLong burnt = new AtomicLong();
    Thread a = pool.newThread(() -> burnt.addAndGet(burn(10_000_000L)));
    Thread b = pool.newThread(() -> burnt.addAndGet(burn(10_000_000L)));
    assertThat(a.isDaemon()).isTrue();
    assertThat(a.getName()).isEqualTo(b.getName()).isEqualTo("jouletrace-test-pool");
    a.start();
    b.start();
    a.join();
    b.join();
    // both threads' time under the one name; each read may lag by a scheduler tick from /proc
    assertThat(AgentThreads.cpuNanosByThread().get("jouletrace-test-pool"))
        .isGreaterThanOrEqualTo(burnt.get() - 20_000_000L)
        .isGreaterThanOrEqualTo(15_000_000L);
  }

  /**
   * Work of the agent's on another thread (weaving on a loading thread) is counted beside its own
   * threads; on one of its own threads it is not counted twice.
   */
  @Test
  void workOnOtherThreadsIsCountedOnce() throws Exception {
    long since = AgentThreads.cpuNow();
    assertThat(since).isNotNegative();
    long spent = burn(15_000_000L);
    AgentThreads.spentHere("test-elsewhere", since);
    assertThat(AgentThreads.cpuNanosByThread().get("jouletrace-test-elsewhere"))
        .isGreaterThanOrEqualTo(spent - 10_000_000L)
        .isGreaterThanOrEqualTo(5_000_000L);

    AtomicLong onOwn = new AtomicLong(Long.MAX_VALUE);
    Thread own =
        AgentThreads.daemon(
            "test-own",
            () -> {
              long s = AgentThreads.cpuNow();
              onOwn.set(s);
              burn(5_000_000L);
              AgentThreads.spentHere("test-not-twice", s);
            });
    own.start();
    own.join();
    assertThat(onOwn.get()).isEqualTo(-1);
    assertThat(AgentThreads.cpuNanosByThread()).doesNotContainKey("jouletrace-test-not-twice");
  }
}

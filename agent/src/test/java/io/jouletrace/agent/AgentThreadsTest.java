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
  void factoryThreadsAreCountedDaemons() {
    Thread t = AgentThreads.factory("http").newThread(() -> {});
    assertThat(t.isDaemon()).isTrue();
    assertThat(t.getName()).startsWith("jouletrace-http-");
  }
}

package io.jouletrace.agent.profile;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.agent.profile.JitCost.Code;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JitCostTest {

  private static final long MS = 1_000_000L;
  private static final String C1 = "C1 CompilerThread";
  private static final String C2 = "C2 CompilerThread";

  /**
   * A count over compiler threads whose CPU time is {@code cpu}'s (all of them listed), started.
   */
  private static JitCost started(Map<Long, Long> cpu) {
    JitCost cost = new JitCost(tid -> cpu.getOrDefault(tid, -1L), () -> Map.copyOf(cpu));
    cost.start();
    return cost;
  }

  /** A delivery of JFR's events, at which thread {@code tid} has used {@code nanos}. */
  private static void deliveredAt(JitCost cost, Map<Long, Long> cpu, long tid, long nanos) {
    cpu.put(tid, nanos);
    cost.refresh();
  }

  @Test
  void theAgentsCompilationsCountAtTheirCompilersCpuRateSinceTheStart() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(11L, 5 * MS, 12L, 7 * MS));
    JitCost cost = new JitCost(tid -> cpu.getOrDefault(tid, -1L), () -> Map.copyOf(cpu));
    cost.compiled(11, C1, 50 * MS, Code.AGENT); // before the recording runs: not counted
    cpu.put(11L, 9 * MS);
    cost.start();
    cost.compiled(11, C1, 8 * MS, Code.AGENT);
    cost.compiled(11, C1, 32 * MS, Code.OTHER); // 40 ms of compiling
    cost.compiled(12, C2, 6 * MS, Code.OTHER);
    cost.compiled(13, C2, 4 * MS, Code.AGENT); // a compiler thread started since: from 0
    cpu.put(11L, 29 * MS); // in 20 ms of CPU time
    cpu.put(12L, 10 * MS);
    deliveredAt(cost, cpu, 13, 2 * MS);
    // 11: 8 ms at 20/40; 12: none of the agent's; 13: 4 ms at 2/4
    assertThat(cost.agentNanos()).isEqualTo(4 * MS + 2 * MS);
    cpu.put(11L, 90 * MS); // compiled since, not delivered yet: not counted
    assertThat(cost.agentNanos()).isEqualTo(6 * MS);
  }

  @Test
  void eachDeliveryHasTheRateOfItsOwnSpan() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(14L, 0L));
    JitCost cost = started(cpu);
    cost.compiled(14, C2, 10 * MS, Code.AGENT); // while the machine was busy: 5 ms of CPU
    deliveredAt(cost, cpu, 14, 5 * MS);
    cost.compiled(14, C2, 30 * MS, Code.OTHER); // later, on a quiet machine: 30 ms of CPU
    deliveredAt(cost, cpu, 14, 35 * MS);
    // not 10 ms at the whole run's 35/40
    assertThat(cost.agentNanos()).isEqualTo(5 * MS);
  }

  @Test
  void aDeliveryWithoutCompilationsLeavesItsCpuTimeToTheNextAndARateIsAtMostOne() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(15L, 0L));
    JitCost cost = started(cpu);
    deliveredAt(cost, cpu, 15, 4 * MS); // a compilation under way, delivered later
    cost.compiled(15, C1, 16 * MS, Code.AGENT);
    deliveredAt(cost, cpu, 15, 8 * MS); // 16 ms of compiling in 8 ms of CPU
    cost.compiled(15, C1, 25 * MS, Code.AGENT);
    deliveredAt(cost, cpu, 15, 68 * MS); // 25 ms of compiling in 60 ms of CPU: at most 25
    assertThat(cost.agentNanos()).isEqualTo(8 * MS + 25 * MS);
  }

  @Test
  void cpuTimeThatTheNextDeliverysCompilationTookBeforeItsReadingIsItsAndOnlyThatDeliverys() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(16L, 0L));
    JitCost cost = started(cpu);
    cost.compiled(16, C2, 50 * MS, Code.OTHER);
    // 100 ms of CPU: the 50 ms compilation, and 50 ms of one still running at the reading
    deliveredAt(cost, cpu, 16, 100 * MS);
    cost.compiled(16, C2, 70 * MS, Code.AGENT); // that one: 50 ms before the reading, 20 after
    deliveredAt(cost, cpu, 16, 120 * MS);
    assertThat(cost.agentNanos()).isEqualTo(70 * MS); // not 70 ms at 20/70
    cost.compiled(16, C2, 10 * MS, Code.AGENT); // 5 ms of CPU: nothing left over to take
    deliveredAt(cost, cpu, 16, 125 * MS);
    assertThat(cost.agentNanos()).isEqualTo(75 * MS);
  }

  @Test
  void aCompilerThreadThatEndedKeepsItsLastReading() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(21L, 0L));
    JitCost cost = started(cpu);
    cost.compiled(21, C2, 10 * MS, Code.AGENT);
    cost.compiled(21, C2, 30 * MS, Code.OTHER);
    deliveredAt(cost, cpu, 21, 20 * MS);
    cpu.remove(21L); // ended: its file is gone
    cost.refresh();
    // 10 ms at 20/40
    assertThat(cost.agentNanos()).isEqualTo(5 * MS);
  }

  @Test
  void aCompilerThreadNeverReadGetsTheRateOfItsCompilersOtherThreads() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(31L, 0L, 32L, 0L));
    JitCost cost = started(cpu);
    cost.compiled(31, C2, 40 * MS, Code.OTHER);
    cost.compiled(32, C2, 10 * MS, Code.OTHER);
    cost.compiled(33, C1, 10 * MS, Code.OTHER);
    cost.compiled(34, C2, 6 * MS, Code.AGENT); // started and ended between two readings
    cpu.put(31L, 30 * MS);
    cpu.put(32L, 10 * MS);
    deliveredAt(cost, cpu, 33, 1 * MS);
    // 34: 6 ms at C2's (30 + 10) / (40 + 10)
    assertThat(cost.agentNanos()).isEqualTo(6 * MS * 4 / 5);
  }

  @Test
  void jfrsCodeCountsOnlyWhileJfrRunsForTheProfileAlone() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(41L, 0L));
    JitCost cost = started(cpu);
    cost.compiled(41, C1, 10 * MS, Code.JFR);
    cost.compiled(41, C1, 10 * MS, Code.AGENT);
    deliveredAt(cost, cpu, 41, 20 * MS);
    assertThat(cost.agentNanos()).isEqualTo(20 * MS);
    cost.jfrOurs(false); // another recording runs
    assertThat(cost.agentNanos()).isEqualTo(10 * MS);
    cost.jfrOurs(true); // not again for this run
    assertThat(cost.agentNanos()).isEqualTo(10 * MS);
  }

  @Test
  void nothingIsCountedWhenTheCompilerThreadsCouldNotBeListed() {
    JitCost cost = new JitCost(tid -> 1_000 * MS, () -> null);
    cost.start();
    cost.compiled(51, C2, 10 * MS, Code.AGENT);
    cost.refresh();
    assertThat(cost.agentNanos()).isZero();
  }
}

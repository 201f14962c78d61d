package io.jouletrace.agent.profile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JitCostTest {

  private static final long MS = 1_000_000L;

  /** A count over compiler threads whose CPU time is {@code cpu}'s, started. */
  private static JitCost started(Map<Long, Long> cpu) {
    JitCost cost = new JitCost(tid -> cpu.getOrDefault(tid, -1L), Set.copyOf(cpu.keySet()));
    cost.start();
    return cost;
  }

  @Test
  void theAgentsCompilationsCountAtTheirCompilersCpuRateSinceTheStart() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(11L, 5 * MS, 12L, 7 * MS));
    JitCost cost = new JitCost(tid -> cpu.getOrDefault(tid, -1L), Set.of(11L, 12L));
    cost.compiled(11, 50 * MS, true); // before the recording runs: no such events, none counted
    cpu.put(11L, 9 * MS);
    cost.start();
    cost.compiled(11, 8 * MS, true);
    cost.compiled(11, 32 * MS, false); // 40 ms of compiling
    cost.compiled(12, 6 * MS, false);
    cost.compiled(13, 4 * MS, true); // a compiler thread started since: from 0
    cpu.put(11L, 29 * MS); // in 20 ms of CPU time
    cpu.put(12L, 10 * MS);
    cpu.put(13L, 2 * MS);
    assertThat(cost.agentNanos()).as("before any reading").isZero();
    cost.refresh();
    // 11: 8 ms at 20/40; 12: none of the agent's; 13: 4 ms at 2/4
    assertThat(cost.agentNanos()).isEqualTo(4 * MS + 2 * MS);
    cpu.put(11L, 90 * MS); // compiled since, not delivered yet: not counted
    assertThat(cost.agentNanos()).isEqualTo(6 * MS);
  }

  @Test
  void aCompilerThreadNeverUsesMoreThanASecondASecond() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(12L, 0L));
    JitCost cost = started(cpu);
    cost.compiled(12, 25 * MS, true); // 25 ms of compiling in 60 ms of CPU (some not delivered)
    cpu.put(12L, 60 * MS);
    cost.refresh();
    assertThat(cost.agentNanos()).isEqualTo(25 * MS);
  }

  @Test
  void aCompilerThreadThatEndedKeepsItsLastReading() {
    Map<Long, Long> cpu = new HashMap<>(Map.of(21L, 0L));
    JitCost cost = started(cpu);
    cost.compiled(21, 10 * MS, true);
    cost.compiled(21, 30 * MS, false);
    cpu.put(21L, 20 * MS);
    cost.refresh();
    cpu.remove(21L); // ended: its file is gone
    cost.refresh();
    // 10 ms at 20/40
    assertThat(cost.agentNanos()).isEqualTo(5 * MS);
  }

  @Test
  void nothingIsCountedWhenTheCompilerThreadsCouldNotBeListed() {
    JitCost cost = new JitCost(tid -> 1_000 * MS, null);
    cost.start();
    cost.compiled(31, 10 * MS, true);
    cost.refresh();
    assertThat(cost.agentNanos()).isZero();
  }
}

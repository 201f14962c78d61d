package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EventLogTest {

  private record Event(long time, int slot, int phase) {}

  /**
   * Random appends (some late, which take the last time) and trims, against a plain list of the
   * same events: every kept event reads back as appended, at its sequence number.
   */
  @Test
  void readsBackWhatWasAppendedAcrossChunksAndTrims() {
    Random r = new Random(3);
    EventLog log = new EventLog();
    List<Event> all = new ArrayList<>(); // by sequence number
    long first = 0;
    long time = 0;
    for (int round = 0; round < 300; round++) {
      int n = r.nextInt(r.nextBoolean() ? 50 : 3 * EventLog.CHUNK);
      for (int i = 0; i < n; i++) {
        time += r.nextInt(5) == 0 ? -r.nextInt(100) : r.nextInt(1000); // some late
        int slot = r.nextInt(1 << 20);
        int phase = r.nextInt(1 << 15);
        log.append(time, slot, phase);
        long last = all.isEmpty() ? Long.MIN_VALUE : all.get(all.size() - 1).time();
        all.add(new Event(Math.max(time, last), slot, phase));
      }
      long end = all.size();
      assertThat(log.end()).isEqualTo(end);
      if (end > first) {
        first += r.nextInt((int) Math.min(Integer.MAX_VALUE, end - first + 1));
      }
      log.trimBefore(first);
      assertThat(log.size()).isEqualTo(end - first);
      for (long seq = first; seq < end; seq += 1 + r.nextInt(7)) {
        Event e = all.get((int) seq);
        assertThat(log.time(seq)).isEqualTo(e.time());
        assertThat(log.slot(seq)).isEqualTo(e.slot());
        assertThat(log.phase(seq)).isEqualTo(e.phase());
      }
      if (end > 0) {
        assertThat(log.lastTime()).isEqualTo(all.get((int) end - 1).time());
      }
      // only the chunks that hold kept events, plus a few kept for reuse
      int[] counts = log.chunkCounts();
      long holding = end == first ? 0 : ((end - 1) / EventLog.CHUNK) - (first / EventLog.CHUNK) + 1;
      assertThat(counts[0]).isBetween((int) holding, (int) holding + 1);
      assertThat(counts[1]).isBetween(0, EventLog.SPARE_CHUNKS);
    }
  }

  /** A log that each sample empties reuses its chunks instead of allocating new ones. */
  @Test
  void aLogThatIsEmptiedAgainAndAgainReusesItsChunks() {
    EventLog log = new EventLog();
    long t = 0;
    for (int i = 0; i < 2 * EventLog.CHUNK; i++) {
      log.append(t++, 1, 2);
    }
    log.trimBefore(log.end());
    assertThat(log.chunkCounts()).containsExactly(0, 2);
    for (int i = 0; i < EventLog.CHUNK + 5; i++) {
      log.append(t++, 1, 2);
    }
    assertThat(log.chunkCounts()).containsExactly(2, 0);
    assertThat(log.size()).isEqualTo(EventLog.CHUNK + 5);
  }
}

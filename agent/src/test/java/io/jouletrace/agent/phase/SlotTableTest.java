package io.jouletrace.agent.phase;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Lock-free slots: never one slot for two holders, freed slots come back, bounded by the cap. */
class SlotTableTest {

  @Test
  void theThreadHalfWayThroughAChunkMakesTheNextSoThatNoneWaitsForIt() {
    SlotTable table = new SlotTable(3 * SlotTable.CHUNK);
    assertThat(table.hasChunk(0)).isTrue();
    for (int i = 0; i < SlotTable.CHUNK / 2; i++) {
      assertThat(table.take()).isEqualTo(i);
    }
    assertThat(table.hasChunk(1)).isFalse();
    assertThat(table.take()).isEqualTo(SlotTable.CHUNK / 2);
    assertThat(table.hasChunk(1)).isTrue();
    assertThat(table.hasChunk(2)).isFalse();
    while (table.take() < SlotTable.CHUNK + SlotTable.CHUNK / 2) {
      // the first slots of chunk 1, up to its half-way one
    }
    assertThat(table.hasChunk(2)).isTrue();
    for (int i = table.highWater(); i < 3 * SlotTable.CHUNK; i++) {
      assertThat(table.take()).isEqualTo(i); // the last chunk makes none beyond the table
    }
    assertThat(table.take()).isEqualTo(-1);
  }

  @Test
  void manyTakersAndOneReleaserNeverShareASlot() throws Exception {
    int max = 3 * SlotTable.CHUNK + 17;
    SlotTable table = new SlotTable(max);
    AtomicIntegerArray held = new AtomicIntegerArray(max);
    ConcurrentLinkedQueue<Integer> toRelease = new ConcurrentLinkedQueue<>();
    AtomicBoolean shared = new AtomicBoolean();
    int takers = 4;
    int rounds = 50_000;
    CountDownLatch done = new CountDownLatch(takers);
    List<Thread> threads = new ArrayList<>();
    for (int k = 0; k < takers; k++) {
      Thread t =
          new Thread(
              () -> {
                for (int i = 0; i < rounds; i++) {
                  int slot = table.take();
                  if (slot < 0) {
                    Thread.onSpinWait(); // all taken: wait for the releaser
                    continue;
                  }
                  if (!held.compareAndSet(slot, 0, 1)) {
                    shared.set(true);
                  }
                  held.set(slot, 0);
                  toRelease.add(slot);
                }
                done.countDown();
              });
      threads.add(t);
      t.start();
    }
    // the single releaser, as the sampler is, giving back what it finds in batches
    int[] batch = new int[max];
    while (done.getCount() > 0 || !toRelease.isEmpty()) {
      int n = 0;
      for (Integer slot; n < batch.length && (slot = toRelease.poll()) != null; ) {
        batch[n++] = slot;
      }
      table.release(batch, n);
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(shared).as("a slot was handed to two holders").isFalse();
    assertThat(table.inUse()).isZero();
    assertThat(table.highWater()).isLessThanOrEqualTo(max);
  }

  @Test
  void slotsBeyondTheCapAreRefusedUntilOneIsFreed() {
    SlotTable table = new SlotTable(3);
    assertThat(table.take()).isEqualTo(0);
    assertThat(table.take()).isEqualTo(1);
    assertThat(table.take()).isEqualTo(2);
    assertThat(table.take()).isEqualTo(-1);
    table.release(new int[] {1}, 1);
    assertThat(table.take()).isEqualTo(1);
    assertThat(table.take()).isEqualTo(-1);
    assertThat(table.inUse()).isEqualTo(3);
  }

  @Test
  void slotsGivenBackTogetherAreEachHandedOutOnceAgain() {
    SlotTable table = new SlotTable(6);
    for (int i = 0; i < 6; i++) {
      table.take();
    }
    table.release(new int[] {4}, 1);
    table.release(new int[] {1, 3, 5, 99}, 3); // only the first three count
    assertThat(table.inUse()).isEqualTo(2);
    List<Integer> again = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      again.add(table.take());
    }
    assertThat(again).containsExactly(1, 3, 5, 4);
    assertThat(table.take()).isEqualTo(-1);
    assertThat(table.inUse()).isEqualTo(6);
    table.release(new int[0], 0);
    assertThat(table.inUse()).isEqualTo(6);
  }

  @Test
  void aPublishedThreadIsFoundByItsSlotAndGoneOnceCleared() {
    SlotTable table = new SlotTable(5000);
    int slot = -1;
    for (int i = 0; i < 2500; i++) {
      slot = table.take(); // across chunks
    }
    ThreadPhases t = new ThreadPhases(slot, Thread.currentThread(), 16, 0);
    table.set(slot, t);
    assertThat(table.get(slot)).isSameAs(t);
    assertThat(table.get(slot + 1)).isNull();
    assertThat(table.get(4999)).isNull();
    table.set(slot, null);
    assertThat(table.get(slot)).isNull();
  }
}

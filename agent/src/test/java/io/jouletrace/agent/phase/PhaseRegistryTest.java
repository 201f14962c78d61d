package io.jouletrace.agent.phase;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PhaseRegistryTest {

  /**
   * Regression: the overflow warning was given while the registry's lock was held. The warning goes
   * to the ledger, whose lock a snapshot holds while it asks the registry for names: an application
   * thread naming its 101st phase and the init thread taking its first snapshot deadlocked, and the
   * application hung (StressIT, a million distinct names).
   */
  @Test
  void theOverflowWarningIsGivenWithoutTheRegistrysLock() throws Exception {
    Object ledger = new Object(); // stands for the ledger's lock
    List<Boolean> heldWhileWarning = new ArrayList<>();
    PhaseRegistry[] registry = new PhaseRegistry[1];
    CountDownLatch snapshotHoldsLedger = new CountDownLatch(1);
    CountDownLatch warned = new CountDownLatch(1);
    registry[0] =
        new PhaseRegistry(
            3,
            line -> {
              heldWhileWarning.add(Thread.holdsLock(registry[0]));
              synchronized (ledger) {
                warned.countDown();
              }
            });
    registry[0].idOf("a");
    // A "snapshot" that holds the ledger's lock and asks for a name, as EnergyLedger.snapshot does.
    Thread snapshot =
        new Thread(
            () -> {
              synchronized (ledger) {
                snapshotHoldsLedger.countDown();
                try {
                  Thread.sleep(200); // the application thread overflows meanwhile
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                registry[0].name(0);
              }
            });
    snapshot.setDaemon(true);
    snapshot.start();
    snapshotHoldsLedger.await();
    Thread app = new Thread(() -> registry[0].idOf("b"));
    app.setDaemon(true);
    app.start();
    app.join(5_000);
    snapshot.join(5_000);
    assertThat(warned.await(5, TimeUnit.SECONDS)).as("deadlocked").isTrue();
    assertThat(app.isAlive()).isFalse();
    assertThat(heldWhileWarning).containsExactly(false);
    assertThat(registry[0].idOf("c")).isEqualTo(PhaseRegistry.OVERFLOW);
  }
}

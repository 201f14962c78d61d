package io.jouletrace.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongToDoubleFunction;

/**
 * A powercap tree in a temporary folder whose {@code energy_uj} files advance at known powers, like
 * RAPL counters (updated every millisecond, wrapping at {@code max_energy_range_uj}). The counter
 * of each zone at time t is {@code (offset + joules(t) x 10^6) mod max}, with t from {@link
 * System#nanoTime()}, the same clock the agent's JVM uses; joules(t) is {@code watts x (t - t0)}
 * for a constant zone, or a {@link PowerScript}'s energy.
 */
final class FakePowercap implements AutoCloseable {

  record Zone(String dir, String name, LongToDoubleFunction joulesAt, long maxUj, long offsetUj) {}

  private final Path root;
  private final List<Zone> zones = new ArrayList<>();
  private final long t0 = System.nanoTime();
  private volatile boolean running = true;
  private volatile Throwable failure;
  private Thread writer;
  private final WriterLag lag = new WriterLag();

  FakePowercap(Path root) {
    this.root = root;
  }

  FakePowercap zone(String dir, String name, double watts, long maxUj, long offsetUj)
      throws IOException {
    return zone(dir, name, t -> watts * (t - t0) * 1e-9, maxUj, offsetUj);
  }

  /** A zone whose power follows a script (its energy is zero at the script's origin). */
  FakePowercap zone(String dir, String name, PowerScript script, long maxUj) throws IOException {
    return zone(dir, name, script::joulesAt, maxUj, 0);
  }

  private FakePowercap zone(
      String dir, String name, LongToDoubleFunction joulesAt, long maxUj, long offsetUj)
      throws IOException {
    Zone z = new Zone(dir, name, joulesAt, maxUj, offsetUj);
    Path d = Files.createDirectories(root.resolve(dir));
    Files.writeString(d.resolve("name"), name + "\n");
    Files.writeString(d.resolve("max_energy_range_uj"), maxUj + "\n");
    zones.add(z);
    write(z, System.nanoTime());
    return this;
  }

  Path root() {
    return root;
  }

  /** The instant every zone's energy counts from, {@link System#nanoTime()}. */
  long t0() {
    return t0;
  }

  FakePowercap start() {
    writer =
        new Thread(
            () -> {
              while (running) {
                long now = System.nanoTime();
                for (Zone z : zones) {
                  try {
                    write(z, now);
                  } catch (IOException e) {
                    failure = e; // reported by close(): frozen counters make any lag look fine
                    return;
                  }
                }
                lag.pass(now, System.nanoTime());
                LockSupport.parkNanos(1_000_000L);
              }
            },
            "fake-rapl-writer");
    writer.setDaemon(true);
    writer.start();
    return this;
  }

  private void write(Zone z, long now) throws IOException {
    long uj = z.offsetUj() + (long) Math.floor(z.joulesAt().applyAsDouble(now) * 1e6);
    long value = Math.floorMod(uj, z.maxUj());
    Path d = root.resolve(z.dir());
    Path tmp = d.resolve("energy_uj.tmp");
    Files.writeString(tmp, value + "\n", StandardCharsets.US_ASCII);
    Files.move(
        tmp,
        d.resolve("energy_uj"),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /** How far the files lagged behind real time (the writer thread can be descheduled). */
  WriterLag lag() {
    return lag;
  }

  /**
   * Stops the writer. Throws when it had stopped by itself: its counters froze, and a test that
   * bounds its readings by the writer's lag would then accept anything.
   */
  @Override
  public void close() {
    boolean ranToTheEnd = writer == null || writer.isAlive();
    running = false;
    if (writer != null) {
      try {
        writer.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (failure != null || !ranToTheEnd) {
      throw new AssertionError("the fake powercap writer stopped early", failure);
    }
  }
}

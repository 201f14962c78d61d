package io.jouletrace.sources;

import java.util.function.LongSupplier;

/**
 * The JVM's clocks as {@link LongSupplier}s, for the code that takes a clock so that tests can pass
 * their own. Classes, not method references: the JVM spins a class for each method reference at its
 * first use, about a millisecond each in a cold JVM, which the agent's start-up and exit would pay.
 */
public final class SystemClocks {

  /** {@link System#nanoTime()}. */
  public static final LongSupplier NANO_TIME = new NanoTime();

  /** {@link System#currentTimeMillis()}. */
  public static final LongSupplier CURRENT_TIME_MILLIS = new CurrentTimeMillis();

  private SystemClocks() {}

  private static final class NanoTime implements LongSupplier {
    @Override
    public long getAsLong() {
      return System.nanoTime();
    }
  }

  private static final class CurrentTimeMillis implements LongSupplier {
    @Override
    public long getAsLong() {
      return System.currentTimeMillis();
    }
  }
}

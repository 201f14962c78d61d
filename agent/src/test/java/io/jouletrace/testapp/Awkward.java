package io.jouletrace.testapp;

import io.jouletrace.api.EnergyPhase;

/**
 * Methods whose bytecode is awkward to wrap: a loop at the first instruction (a stack map frame
 * there), the method's own handler, a throw, wide arguments, a switch, monitors, nesting.
 */
public final class Awkward {

  /** A loop whose head is the method's first instruction. */
  @EnergyPhase("spin")
  public static int spin(int n) {
    for (; ; ) {
      if (--n <= 0) {
        return n;
      }
    }
  }

  /** Catches its own exception, which must not reach the woven handler first. */
  @EnergyPhase("caught")
  public double caught(double x) {
    try {
      if (x < 0) {
        throw new IllegalArgumentException("negative");
      }
      return Math.sqrt(x);
    } catch (IllegalArgumentException e) {
      return -1;
    }
  }

  /** Throws out of the method. */
  @EnergyPhase("thrown")
  public void thrown(String message) {
    throw new IllegalStateException(message);
  }

  /** Two-slot arguments before others, and two ways out. */
  @EnergyPhase("wide")
  public long wide(long a, double b, int c, Object d) {
    long r = a + (long) b + c;
    if (d == null) {
      return r;
    }
    return r * 2;
  }

  /** A table switch with a return in each branch. */
  @EnergyPhase("switch")
  public static String pick(int k) {
    switch (k) {
      case 0:
        return "zero";
      case 1:
        return "one";
      case 2:
        return "two";
      default:
        return "many";
    }
  }

  /** A monitor, whose exit javac guards with its own catch-all handler. */
  @EnergyPhase("locked")
  public int locked(int x) {
    synchronized (this) {
      return x + 1;
    }
  }

  /** A phase inside a phase. */
  @EnergyPhase("outer")
  public int outer(int x) {
    return inner(x) + 1;
  }

  @EnergyPhase("inner")
  private int inner(int x) {
    return x * 2;
  }

  /** Not a phase: left as it is. */
  public int plain(int x) {
    return x - 1;
  }
}

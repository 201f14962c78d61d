package io.jouletrace.testapp;

/**
 * A stand-in for a framework class, outside the agent's packages (which are never instrumented).
 */
public final class Workload {

  private Workload() {}

  public static int step(int x) {
    return x + 1;
  }

  public static int fail() {
    throw new IllegalStateException("from the application");
  }
}

package io.jouletrace.testapp;

/**
 * A plugin's class: a test loads it through a class loader that does not delegate to the system
 * class loader, and so cannot see the agent's bridge. It names nothing outside {@code java.*}.
 */
public final class Isolated {

  private Isolated() {}

  public static int work(int x) {
    return x + 1;
  }

  /** A second class of the same plugin. */
  public static final class Again {
    private Again() {}

    public static int work(int x) {
      return x + 2;
    }
  }
}

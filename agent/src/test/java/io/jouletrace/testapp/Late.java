package io.jouletrace.testapp;

/** A class whose first load a test hands to the gate before Byte Buddy is ready. */
public final class Late {

  private Late() {}

  public static int tick(int x) {
    return x * 2;
  }
}

package io.jouletrace.bench;

/** The smallest application: measures what the agent adds to JVM start-up and exit. */
public final class Hello {

  private Hello() {}

  public static void main(String[] args) {
    System.out.println("hello");
  }
}

package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;

/**
 * Ends abruptly inside an open phase: {@code exit} calls {@code System.exit(3)}, {@code wait}
 * blocks until the process is killed.
 */
public final class ExitApp {

  private ExitApp() {}

  public static void main(String[] args) throws Exception {
    JouleTrace.phase("unfinished");
    Thread.sleep(400);
    System.out.println("ready");
    System.out.flush();
    if (args[0].equals("exit")) {
      System.exit(3);
    }
    Thread.sleep(60_000);
  }
}

package io.jouletrace.agent.cli;

import java.io.PrintStream;

/** {@code java -jar jouletrace-agent.jar <command>}. */
public final class Cli {

  private Cli() {}

  /**
   * Runs a command.
   *
   * @param args the command and its arguments
   * @return the process exit status
   */
  public static int run(String[] args) {
    PrintStream out = System.out;
    String command = args.length == 0 ? "help" : args[0];
    switch (command) {
      case "help", "--help", "-h" -> {
        out.println("JouleTrace agent " + version());
        out.println("Use as: java -javaagent:jouletrace-agent.jar[=key=value,...] -jar app.jar");
        out.println("Commands: help, version");
        return 0;
      }
      case "version", "--version" -> {
        out.println(version());
        return 0;
      }
      default -> {
        System.err.println("jouletrace: unknown command '" + command + "'; try 'help'");
        return 2;
      }
    }
  }

  static String version() {
    String v = Cli.class.getPackage() == null ? null : Cli.class.getPackage().getImplementationVersion();
    return v == null ? "development" : v;
  }
}

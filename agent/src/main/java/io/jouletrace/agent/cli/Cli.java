package io.jouletrace.agent.cli;

import java.io.PrintStream;

/**
 * {@code java -jar jouletrace-agent.jar <command>}. {@code attach} and {@code list} are run by the
 * boot package's {@code Attacher} before this class is loaded, and only listed here.
 */
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
        out.println("Commands:");
        out.println("  attach <pid> [key=value,...]");
        out.println(
            "                         load the agent into a running JVM;"
                + " exit 2 when it already has the agent");
        out.println("  list                   the JVMs it can be loaded into, and which have it");
        out.println(
            "  probe [key=value,...]  what this machine offers and what the agent would use;"
                + " exit 0 when a counter is readable, 3 when only estimation is possible");
        out.println("  version                the agent's version");
        return 0;
      }
      case "probe" -> {
        return io.jouletrace.agent.Probe.run(args.length > 1 ? args[1] : null, out);
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

  /**
   * Checks agent arguments the way the agent will, for {@code attach}: the agent's own errors
   * appear on the target JVM's stderr, where whoever attaches may not look.
   *
   * @param agentArgs {@code key=value,...}
   * @return one line per problem, empty when none
   */
  public static java.util.List<String> configurationErrors(String agentArgs) {
    return io.jouletrace.agent.config.ConfigLoader.load(
            agentArgs, new java.util.Properties(), java.util.Map.of())
        .errors();
  }

  static String version() {
    String v =
        Cli.class.getPackage() == null ? null : Cli.class.getPackage().getImplementationVersion();
    return v == null ? "development" : v;
  }
}

package io.jouletrace.agent.boot;

import java.lang.reflect.Method;

/**
 * {@code java -jar jouletrace-agent.jar <command>}: a command-line tool beside the agent, never run
 * inside an application. {@code attach} and {@code list} run here, in the system class loader (they
 * need the module {@code jdk.attach}); the others run in the agent's own class loader.
 */
public final class CommandLine {

  private static final String CLI = "io.jouletrace.agent.cli.Cli";

  private CommandLine() {}

  /**
   * {@code java -jar jouletrace-agent.jar <command>}; commands are listed by {@code help}.
   *
   * @param args the command and its arguments
   */
  public static void main(String[] args) throws Exception {
    String command = args.length == 0 ? "" : args[0];
    int code;
    if (command.equals("attach") || command.equals("list")) {
      // These need the module jdk.attach, which the agent's own loader cannot see.
      if (command.equals("attach") && args.length == 3) {
        // The agent reports configuration errors on the target's stderr; say them here too.
        ClassLoader loader = AgentEntry.agentLoader(AgentEntry.agentJar());
        Method check = loader.loadClass(CLI).getMethod("configurationErrors", String.class);
        @SuppressWarnings("unchecked")
        java.util.List<String> errors = (java.util.List<String>) check.invoke(null, args[2]);
        errors.forEach(System.err::println);
      }
      code =
          command.equals("attach")
              ? Attacher.attach(args, AgentEntry.agentJar(), System.out, System.err)
              : Attacher.list(System.out, System.err);
    } else {
      ClassLoader loader = AgentEntry.agentLoader(AgentEntry.agentJar());
      Method run = loader.loadClass(CLI).getMethod("run", String[].class);
      code = (Integer) run.invoke(null, (Object) args);
    }
    if (code != 0) {
      // A command-line tool, not the agent: its exit status is its answer.
      System.exit(code);
    }
  }
}

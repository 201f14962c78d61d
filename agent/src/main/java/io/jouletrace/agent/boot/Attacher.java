package io.jouletrace.agent.boot;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar jouletrace-agent.jar attach <pid> [key=value,...]} and {@code list}: loads the
 * agent into a running JVM, and shows the JVMs it could be loaded into.
 *
 * <p>This class lives in the boot package because it needs the module {@code jdk.attach}, which the
 * agent's own class loader (its parent is the platform loader) cannot see. It uses JDK APIs only,
 * and it is never loaded inside a JVM that runs the agent.
 */
final class Attacher {

  /**
   * System property set in every JVM where the agent has started, to the agent's version. It is not
   * under the {@code jouletrace.} prefix, which holds configuration keys only.
   */
  static final String RUNNING_PROPERTY = "io.jouletrace.agent.running";

  /** Exit status of {@code attach} for bad usage and for a JVM that already has the agent. */
  static final int REFUSED = 2;

  /** How long {@code list} waits, in all, for the JVMs to answer. */
  private static final long LIST_WAIT_MS = 5_000;

  private static final String FLAG = "EnableDynamicAgentLoading";

  private Attacher() {}

  /**
   * Loads the agent jar into the JVM with the given pid.
   *
   * @param args {@code attach}, the pid, optionally the agent arguments
   * @param agentJar the agent jar, as the target JVM will open it
   * @param out where progress goes
   * @param err where errors go, one line each
   * @return 0 when the agent started in the target, 2 for bad usage or a JVM that already has the
   *     agent, 1 when the target cannot be attached or the agent not loaded
   */
  static int attach(String[] args, File agentJar, PrintStream out, PrintStream err) {
    if (args.length < 2 || args.length > 3) {
      err.println("jouletrace: usage: attach <pid> [key=value,...]");
      return REFUSED;
    }
    long pid = parsePid(args[1]);
    if (pid <= 0) {
      err.println("jouletrace: '" + args[1] + "' is not a process id; 'list' shows the JVMs");
      return REFUSED;
    }
    if (ProcessHandle.of(pid).isEmpty()) {
      err.println("jouletrace: no process " + pid + "; 'list' shows the JVMs");
      return 1;
    }
    VirtualMachine vm;
    try {
      vm = VirtualMachine.attach(Long.toString(pid));
    } catch (AttachNotSupportedException | IOException | RuntimeException e) {
      err.println(
          "jouletrace: cannot attach to process "
              + pid
              + ": "
              + oneLine(e)
              + (isListed(pid) ? "" : " (it is not among the JVMs 'list' shows)"));
      return 1;
    }
    try {
      Properties system = vm.getSystemProperties();
      String running = system.getProperty(RUNNING_PROPERTY);
      if (running != null) {
        err.println(
            "jouletrace: JVM "
                + pid
                + " already runs the JouleTrace agent ("
                + running
                + "); not attached again");
        return REFUSED;
      }
      Properties agent = vm.getAgentProperties();
      String note =
          dynamicLoadingNote(
              system.getProperty("java.specification.version"),
              agent.getProperty("sun.jvm.flags"),
              agent.getProperty("sun.jvm.args"));
      if (note != null) {
        out.println("jouletrace: JVM " + pid + " " + note);
      }
      vm.loadAgent(agentJar.getAbsolutePath(), args.length == 3 ? args[2] : null);
      // loadAgent returns after agentmain has run; the property says whether the agent started.
      if (vm.getSystemProperties().getProperty(RUNNING_PROPERTY) == null) {
        err.println(
            "jouletrace: agent loaded into JVM "
                + pid
                + " but not started; that JVM's standard error says why");
        return 1;
      }
      out.println(
          "jouletrace: agent started in JVM "
              + pid
              + " ("
              + describe(system)
              + "); it"
              + " measures from now, prints to that JVM's standard error and writes its report when"
              + " that JVM exits");
      return 0;
    } catch (Exception e) {
      err.println("jouletrace: agent not loaded into JVM " + pid + ": " + oneLine(e));
      return 1;
    } finally {
      try {
        vm.detach();
      } catch (IOException | RuntimeException ignored) {
        // the answer is already given
      }
    }
  }

  /**
   * Prints the JVMs this user can attach to: pid, Java version, whether JouleTrace runs there, and
   * the main class with its arguments. JVMs that do not answer are listed with {@code ?}.
   *
   * @param out where the table goes
   * @param err where an error goes
   * @return 0, or 1 when the JVMs cannot be listed at all
   */
  static int list(PrintStream out, PrintStream err) {
    long self = ProcessHandle.current().pid();
    List<VirtualMachineDescriptor> vms = new ArrayList<>();
    try {
      for (VirtualMachineDescriptor d : VirtualMachine.list()) {
        if (parsePid(d.id()) != self) {
          vms.add(d);
        }
      }
    } catch (RuntimeException e) {
      err.println("jouletrace: cannot list the JVMs: " + oneLine(e));
      return 1;
    }
    vms.sort(Comparator.comparingLong(d -> parsePid(d.id())));
    // Asked in parallel, so that one JVM that does not answer (attach waits 10 s for it) holds up
    // the list by LIST_WAIT_MS at most.
    ExecutorService pool =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "jouletrace-list");
              t.setDaemon(true);
              return t;
            });
    List<Future<Properties>> answers = new ArrayList<>();
    for (VirtualMachineDescriptor d : vms) {
      answers.add(pool.submit(() -> systemProperties(d)));
    }
    pool.shutdown();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LIST_WAIT_MS);
    List<String[]> rows = new ArrayList<>();
    boolean unknown = false;
    for (int i = 0; i < vms.size(); i++) {
      Properties p = null;
      try {
        p = answers.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (Exception notReadable) {
        unknown = true;
      }
      rows.add(row(vms.get(i).id(), vms.get(i).displayName(), p));
    }
    out.print(table(rows));
    if (vms.isEmpty()) {
      out.println("no other JVM of this user found");
    }
    if (unknown) {
      out.println(
          "?: its properties could not be read (attach refused, or no answer in "
              + LIST_WAIT_MS / 1000
              + " s)");
    }
    return 0;
  }

  private static Properties systemProperties(VirtualMachineDescriptor d) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(d);
    try {
      return vm.getSystemProperties();
    } finally {
      vm.detach();
    }
  }

  private static boolean isListed(long pid) {
    try {
      return VirtualMachine.list().stream().anyMatch(d -> parsePid(d.id()) == pid);
    } catch (RuntimeException e) {
      return true;
    }
  }

  /**
   * One row of {@code list}.
   *
   * @param id the pid
   * @param displayName the main class and its arguments, as the JVM reports them
   * @param system the JVM's system properties, or {@code null} when they could not be read
   * @return pid, Java version, JouleTrace state, main class
   */
  static String[] row(String id, String displayName, Properties system) {
    String name =
        displayName == null || displayName.isBlank() || displayName.equals(id)
            ? "(unknown)"
            : displayName;
    if (system == null) {
      return new String[] {id, "?", "?", name};
    }
    String java = system.getProperty("java.specification.version", "?");
    String running = system.getProperty(RUNNING_PROPERTY);
    return new String[] {id, java, running == null ? "no" : "yes " + running, name};
  }

  /**
   * Lays out the rows under a header, columns padded to their widest cell; the last column is not
   * padded.
   */
  static String table(List<String[]> rows) {
    List<String[]> all = new ArrayList<>();
    all.add(new String[] {"pid", "java", "jouletrace", "main class and arguments"});
    all.addAll(rows);
    int[] width = new int[4];
    for (String[] r : all) {
      for (int c = 0; c < 3; c++) {
        width[c] = Math.max(width[c], r[c].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] r : all) {
      for (int c = 0; c < 3; c++) {
        sb.append(r[c]).append(" ".repeat(width[c] - r[c].length() + 2));
      }
      sb.append(r[3]).append(System.lineSeparator());
    }
    return sb.toString();
  }

  /**
   * The line to print before loading into a JVM of Java 21 or later that will warn about it: such a
   * JVM prints a warning when an agent is loaded at run time unless it was started with {@code
   * -XX:+EnableDynamicAgentLoading}.
   *
   * @param specVersion the target's {@code java.specification.version} ({@code 1.8}, {@code 17},
   *     {@code 25}), or {@code null}
   * @param jvmFlags the target's flags from a flags file ({@code sun.jvm.flags}), or {@code null}
   * @param jvmArgs the target's JVM options, {@code JAVA_TOOL_OPTIONS} included ({@code
   *     sun.jvm.args}), or {@code null}
   * @return the note, or {@code null} when the target will not warn, or was told explicitly
   */
  static String dynamicLoadingNote(String specVersion, String jvmFlags, String jvmArgs) {
    int feature = featureVersion(specVersion);
    if (feature < 21 || explicitSetting(jvmFlags) != null || explicitSetting(jvmArgs) != null) {
      return null;
    }
    return "runs Java "
        + feature
        + ": it prints a warning about this dynamically loaded agent"
        + " (start it with -XX:+"
        + FLAG
        + " to avoid that)";
  }

  /**
   * The last explicit setting of the flag among whitespace-separated options: {@code -XX:+Flag} or
   * {@code +Flag} (as in a flags file) gives {@code true}, the {@code -} forms {@code false}.
   *
   * @return the setting, or {@code null} when the options do not set it
   */
  static Boolean explicitSetting(String options) {
    if (options == null) {
      return null;
    }
    Boolean last = null;
    for (String o : options.trim().split("\\s+")) {
      String s = o.startsWith("-XX:") ? o.substring(4) : o;
      if (s.equals("+" + FLAG)) {
        last = Boolean.TRUE;
      } else if (s.equals("-" + FLAG)) {
        last = Boolean.FALSE;
      }
    }
    return last;
  }

  /**
   * The feature version from a {@code java.specification.version}: {@code 1.8} gives 8, {@code 21}
   * gives 21.
   *
   * @return the version, or -1 when it cannot be read
   */
  static int featureVersion(String specVersion) {
    if (specVersion == null) {
      return -1;
    }
    String s = specVersion.trim();
    if (s.startsWith("1.")) {
      s = s.substring(2);
    }
    int dot = s.indexOf('.');
    try {
      return Integer.parseInt(dot < 0 ? s : s.substring(0, dot));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Reads a pid.
   *
   * @return the pid, or -1 when the text is not a positive number
   */
  static long parsePid(String text) {
    try {
      long pid = Long.parseLong(text.trim());
      return pid > 0 ? pid : -1;
    } catch (NumberFormatException | NullPointerException e) {
      return -1;
    }
  }

  private static String describe(Properties system) {
    String command = system.getProperty("sun.java.command", "");
    String main = command.isBlank() ? "unknown main class" : command.split("\\s+")[0];
    return main + ", Java " + system.getProperty("java.version", "?");
  }

  private static String oneLine(Throwable t) {
    String m = t.getMessage();
    return (m == null || m.isBlank() ? t.getClass().getName() : m).replaceAll("\\s+", " ").trim();
  }
}

package io.jouletrace.agent.boot;

import io.jouletrace.bridge.Dispatch;
import java.io.File;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.util.jar.JarFile;

/**
 * Entry point of the agent: {@code -javaagent:jouletrace-agent.jar[=key=value,...]} and dynamic
 * attach. ({@code java -jar jouletrace-agent.jar <command>} is {@link CommandLine}.)
 *
 * <p>This class is loaded by the application's system class loader and must stay small: it puts the
 * bridge in place, creates the isolated {@link AgentClassLoader} and hands over. Nothing here may
 * throw into the JVM or end it.
 */
public final class AgentEntry {

  private static final String RUNTIME = "io.jouletrace.agent.AgentRuntime";

  /** The isolated loader's class that offers the agent's start when initialized. */
  private static final String START = "io.jouletrace.agent.AgentStart";

  private AgentEntry() {}

  /** Called by the JVM for {@code -javaagent:}. */
  public static void premain(String args, Instrumentation inst) {
    start(args, inst, false);
  }

  /** Called by the JVM when the agent is loaded into a running JVM. */
  public static void agentmain(String args, Instrumentation inst) {
    start(args, inst, true);
  }

  private static void start(String args, Instrumentation inst, boolean attached) {
    try {
      // The JVM put this jar on the system class path, so the bridge (io.jouletrace.bridge) is
      // defined once, by the system class loader, and shared by instrumented application classes
      // and by the agent's own loader, which delegates that package here. The bootstrap class path
      // is left alone: appending to it turns off class data sharing for application classes.
      File jarFile = agentJar();
      if (!Dispatch.claim()) {
        System.err.println(
            "jouletrace: agent already running in this JVM; this "
                + (attached ? "attach" : "-javaagent")
                + " is ignored");
        return;
      }
      // Tells 'attach' and 'list', which read it through the Attach API, that this JVM has the
      // agent. Not under the jouletrace. prefix, which holds configuration keys only.
      System.setProperty(Attacher.RUNNING_PROPERTY, version());
      ClassLoader loader = agentLoader(jarFile);
      handOver(loader, args, inst, attached);
    } catch (Throwable t) {
      Throwable cause =
          t instanceof java.lang.reflect.InvocationTargetException && t.getCause() != null
              ? t.getCause()
              : t;
      System.err.println("jouletrace: agent not started: " + cause);
    }
  }

  /**
   * Starts the runtime that {@code loader} holds: through the start its {@value #START} offers when
   * initialized (see {@link Handover}), or, for an agent jar older than these boot classes, through
   * {@code AgentRuntime.start} called by reflection.
   */
  static void handOver(ClassLoader loader, String args, Instrumentation inst, boolean attached)
      throws Exception {
    Handover.Start start = null;
    try {
      Class.forName(START, true, loader);
      start = Handover.take();
    } catch (ClassNotFoundException e) {
      // an agent jar older than these boot classes (a copy of them on the application's class
      // path): its runtime is started as it was then
    }
    if (start != null) {
      start.start(args, inst, attached);
    } else {
      loader
          .loadClass(RUNTIME)
          .getMethod("start", String.class, Instrumentation.class, boolean.class)
          .invoke(null, args, inst, attached);
    }
  }

  /** The agent's version from the jar's manifest, or {@code true} when it has none. */
  private static String version() {
    Package p = AgentEntry.class.getPackage();
    String v = p == null ? null : p.getImplementationVersion();
    return v == null ? "true" : v;
  }

  static ClassLoader agentLoader(File jarFile) throws Exception {
    // Not verified: the agent jar is not signed, and the classes it defines carry no certificates.
    return new AgentClassLoader(
        new JarFile(jarFile, false), jarFile.toURI().toURL(), AgentEntry.class.getClassLoader());
  }

  /**
   * Finds the agent jar: the one on the system class path that holds the agent's {@code inst/}
   * folder. This class's own location is not enough: an application may carry a copy of the boot
   * classes ahead of the agent jar on its class path.
   */
  static File agentJar() throws Exception {
    String marker =
        AgentClassLoader.PREFIX + RUNTIME.replace('.', '/') + AgentClassLoader.CLASS_SUFFIX;
    ClassLoader system = ClassLoader.getSystemClassLoader();
    for (URL url : java.util.Collections.list(system.getResources(marker))) {
      String s = url.toString();
      if (s.startsWith("jar:") && s.contains("!/")) {
        return new File(new java.net.URI(s.substring(4, s.indexOf("!/"))));
      }
    }
    URL location = AgentEntry.class.getProtectionDomain().getCodeSource().getLocation();
    return new File(location.toURI());
  }
}

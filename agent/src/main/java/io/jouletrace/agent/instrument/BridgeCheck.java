package io.jouletrace.agent.instrument;

import io.jouletrace.agent.Log;
import io.jouletrace.bridge.Dispatch;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Tells whether the advice woven into a class can reach the agent: the advice calls the bridge,
 * {@code io.jouletrace.bridge.Dispatch}, which the system class loader defines from the agent jar,
 * so the class's loader must resolve that name to that very class. A loader that does not delegate
 * to the system class loader (OSGi bundles, application servers, isolated plugin loaders) cannot;
 * the woven call would then fail to link, the advice would suppress the error, and the phase would
 * vanish without a word. Such a class is left as it is, and the loader is named once, with the fix.
 *
 * <p>The question is asked once per loader, with {@code Class.forName(name, false, loader)}: no
 * static initialiser runs, a delegating loader answers with the class already loaded, and one that
 * cannot see the bridge answers {@link ClassNotFoundException}. Answers are held weakly, so no
 * loader is kept alive by the agent.
 */
final class BridgeCheck {

  static final String BRIDGE = Dispatch.class.getName();

  private final Class<?> bridge;
  private final Log log;
  private final Map<ClassLoader, Boolean> answers =
      Collections.synchronizedMap(new WeakHashMap<>());

  BridgeCheck(Log log) {
    this(Dispatch.class, log);
  }

  BridgeCheck(Class<?> bridge, Log log) {
    this.bridge = bridge;
    this.log = log;
  }

  /**
   * Whether advice woven into classes of {@code loader} reaches the agent's bridge; the first time
   * a loader is found not to, one line names it and the class that was being woven.
   *
   * @param loader the loader of the class to weave
   * @param className the class, in internal form ({@code a/b/C})
   * @return {@code true} when the loader resolves the bridge to the agent's
   */
  boolean reachable(ClassLoader loader, String className) {
    Boolean known = answers.get(loader);
    if (known != null) {
      return known;
    }
    String problem;
    try {
      Class<?> seen = Class.forName(BRIDGE, false, loader);
      problem = seen == bridge ? null : "resolves " + BRIDGE + " to another copy of it";
    } catch (ClassNotFoundException | LinkageError e) {
      problem = "cannot see " + BRIDGE;
    } catch (RuntimeException e) {
      problem = "failed looking up " + BRIDGE + " (" + e + ")";
    }
    boolean ok = problem == null;
    if (answers.putIfAbsent(loader, ok) == null && !ok) {
      log.line(
          "class loader "
              + describe(loader)
              + " "
              + problem
              + " (the agent's bridge, on the system class path): "
              + className.replace('/', '.')
              + " and the other classes it loads are not instrumented, their phases would be"
              + " lost; make the loader delegate io.jouletrace.bridge.* to the system class"
              + " loader (OSGi: org.osgi.framework.bootdelegation=io.jouletrace.bridge.*)");
    }
    return ok;
  }

  /** The loader's class, name and identity; never its {@code toString()}, which is its own code. */
  static String describe(ClassLoader loader) {
    String name = loader.getName();
    return loader.getClass().getName()
        + (name == null ? "" : " '" + name + "'")
        + "@"
        + Integer.toHexString(System.identityHashCode(loader));
  }
}

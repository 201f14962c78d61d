package io.jouletrace.bench;

/**
 * A system class loader that hides the agent's bridge ({@code io.jouletrace.bridge.*}) and
 * delegates everything else to the built-in application class loader. With {@code
 * -Djava.system.class.loader=io.jouletrace.bench.NoBridgeClassLoader}, {@code JouleTrace} (which
 * looks the bridge up through {@link ClassLoader#getSystemClassLoader()} when it is initialised)
 * finds no bridge, exactly as in a JVM started without the agent, although the bridge classes are
 * in the benchmark jar. Used by {@link ApiNoAgentBenchmark}.
 */
public final class NoBridgeClassLoader extends ClassLoader {

  static final String HIDDEN = "io.jouletrace.bridge.";

  static {
    registerAsParallelCapable();
  }

  /**
   * Called by the JVM when it sets up the system class loader.
   *
   * @param parent the built-in application class loader
   */
  public NoBridgeClassLoader(ClassLoader parent) {
    super(parent);
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (name.startsWith(HIDDEN)) {
      throw new ClassNotFoundException(name + " (hidden: this JVM stands for one without agent)");
    }
    return super.loadClass(name, resolve);
  }
}

package io.jouletrace.agent.boot;

import java.lang.instrument.Instrumentation;

/**
 * How the agent's isolated class loader hands its entry point to {@link AgentEntry}: a class of
 * that loader offers it here when it is initialized, and the entry calls it through {@link Start}.
 * A reflective call would do the same, but from Java 18 on {@code Method.invoke} runs through
 * method handles that the JVM spins at the first call: about 14 ms of a cold JVM's start-up on Java
 * 25, on the application's main thread.
 *
 * <p>Defined by the class loader that loaded the agent jar (the system class loader); the isolated
 * loader delegates this class to it, as it does the bridge (see {@link AgentClassLoader}).
 */
public final class Handover {

  /** The agent's start, as {@code AgentRuntime.start} takes it. */
  public interface Start {

    /**
     * Starts the agent; never throws.
     *
     * @param args agent arguments
     * @param inst the JVM's instrumentation
     * @param attached {@code true} when loaded into a running JVM
     */
    void start(String args, Instrumentation inst, boolean attached);
  }

  private static volatile Start offered;

  private Handover() {}

  /**
   * Offers the agent's start; called by the isolated loader's class when it is initialized.
   *
   * @param start the start
   */
  public static void offer(Start start) {
    offered = start;
  }

  /** Takes what was offered, once. */
  static synchronized Start take() {
    Start s = offered;
    offered = null;
    return s;
  }
}

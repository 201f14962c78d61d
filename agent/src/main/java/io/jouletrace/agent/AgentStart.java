package io.jouletrace.agent;

import io.jouletrace.agent.boot.Handover;
import java.lang.instrument.Instrumentation;

/**
 * Offers {@link AgentRuntime#start} to the boot classes when this class is initialized ({@code
 * AgentEntry} initializes it through the isolated class loader), so that the agent starts through
 * an interface call instead of reflection (see {@link Handover}).
 */
final class AgentStart implements Handover.Start {

  static {
    Handover.offer(new AgentStart());
  }

  private AgentStart() {}

  @Override
  public void start(String args, Instrumentation inst, boolean attached) {
    AgentRuntime.start(args, inst, attached);
  }
}

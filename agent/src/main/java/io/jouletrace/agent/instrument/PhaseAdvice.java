package io.jouletrace.agent.instrument;

import io.jouletrace.bridge.Dispatch;
import net.bytebuddy.asm.Advice;

/**
 * Inlined around an instrumented method: the method's execution is a phase. Only the bridge class
 * bridge is referenced, so the inlined code resolves in any class loader.
 */
public final class PhaseAdvice {

  private PhaseAdvice() {}

  @Advice.OnMethodEnter(suppress = Throwable.class)
  public static long enter(@PhaseName String phase) {
    return Dispatch.enter(phase);
  }

  @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
  public static void exit(@Advice.Enter long token) {
    Dispatch.exit(token);
  }
}

package io.jouletrace.agent.instrument;

import io.jouletrace.bridge.Dispatch;
import net.bytebuddy.asm.Advice;

/**
 * Connects the hooks of {@code io.jouletrace.api.JouleTrace} to the bridge when the agent is
 * attached to a running JVM, where the API class may have been initialised before the bridge
 * existed. Each advice does the hook's work and skips the original body, so a hook that also found
 * the bridge itself does not record twice.
 */
public final class ApiAdvice {

  private ApiAdvice() {}

  /** On {@code static long enter(String)}: return the recorder's token. */
  public static final class Enter {
    private Enter() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static long enter(@Advice.Argument(0) String name) {
      return Dispatch.enter(name);
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.Enter long token, @Advice.Return(readOnly = false) long returned) {
      if (token != 0L) {
        returned = token;
      }
    }
  }

  /** On {@code static void exit(long)}: close the phase. */
  public static final class Exit {
    private Exit() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static boolean enter(@Advice.Argument(0) long token) {
      Dispatch.exit(token);
      return true;
    }
  }

  /** On {@code static boolean recording()}: report whether a recorder is installed. */
  public static final class Recording {
    private Recording() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.Return(readOnly = false) boolean recording) {
      recording = Dispatch.isRecording();
    }
  }

  /** On {@code static void count(String, long)}: count the units. */
  public static final class Count {
    private Count() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static boolean enter(@Advice.Argument(0) String unit, @Advice.Argument(1) long n) {
      Dispatch.count(unit, n);
      return true;
    }
  }
}

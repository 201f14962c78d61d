package io.jouletrace.agent.instrument;

import io.jouletrace.bridge.Dispatch;
import net.bytebuddy.asm.Advice;

/** Connects the hooks of {@code io.jouletrace.api.JouleTrace} to the bridge. */
public final class ApiAdvice {

  private ApiAdvice() {}

  /** On {@code static long enter(String)}: return the recorder's token. */
  public static final class Enter {
    private Enter() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.Argument(0) String name, @Advice.Return(readOnly = false) long token) {
      token = Dispatch.enter(name);
    }
  }

  /** On {@code static void exit(long)}: close the phase. */
  public static final class Exit {
    private Exit() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.Argument(0) long token) {
      Dispatch.exit(token);
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
}

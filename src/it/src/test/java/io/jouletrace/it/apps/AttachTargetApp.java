package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A JVM to attach the agent to: it writes its pid, then runs a busy phase of 20 ms over and over.
 * Once the agent records (it was attached), it runs the phase for one more second and exits 0. If
 * no agent comes within 60 s, it exits 1.
 *
 * <p>Arguments: pid file, phase name.
 */
public final class AttachTargetApp {

  private static final long RECORDED_NANOS = 1_000_000_000L;
  private static final long GIVE_UP_NANOS = 60_000_000_000L;

  private AttachTargetApp() {}

  public static void main(String[] args) throws Exception {
    Path pidFile = Path.of(args[0]);
    Path tmp = pidFile.resolveSibling(pidFile.getFileName() + ".tmp");
    Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
    Files.move(tmp, pidFile, StandardCopyOption.ATOMIC_MOVE);

    long start = System.nanoTime();
    long recordedSince = 0;
    long sink = 0;
    while (true) {
      try (Phase p = JouleTrace.phase(args[1])) {
        long end = System.nanoTime() + 20_000_000L;
        while (System.nanoTime() < end) {
          sink += Long.numberOfTrailingZeros(sink ^ System.nanoTime());
        }
      }
      long now = System.nanoTime();
      if (recordedSince == 0 && JouleTrace.isRecording()) {
        recordedSince = now;
        System.out.println("recording after " + (now - start) / 1_000_000 + " ms");
      }
      if (recordedSince != 0 && now - recordedSince >= RECORDED_NANOS) {
        System.out.println("done " + (sink & 1));
        return;
      }
      if (recordedSince == 0 && now - start > GIVE_UP_NANOS) {
        System.out.println("no agent came");
        System.exit(1);
      }
    }
  }
}

package io.jouletrace.it.apps;

import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs named phases of given lengths through the API and writes, per phase, its name and four
 * {@link System#nanoTime()} instants to a file, as the ground truth of when each phase ran: before
 * opening the phase, after opening it, before closing it and after closing it.
 *
 * <p>Arguments: output file, then {@code name:millis} pairs, each phase followed by a 50 ms gap
 * outside any phase. Or: output file, {@code @origin} (a {@link System#nanoTime()} value shared
 * with a fake whose power follows the same schedule), then {@code name:startMillis:endMillis}
 * triples relative to it: each phase opens once that instant is reached and closes at its end.
 */
public final class PhasesApp {

  private PhasesApp() {}

  public static void main(String[] args) throws Exception {
    List<String> lines = new ArrayList<>();
    lines.add("recording " + JouleTrace.isRecording());
    if (args.length > 1 && args[1].startsWith("@")) {
      long origin = Long.parseLong(args[1].substring(1));
      for (int i = 2; i < args.length; i++) {
        String[] spec = args[i].split(":");
        waitUntil(origin + Long.parseLong(spec[1]) * 1_000_000L);
        long outerStart = System.nanoTime();
        Phase p = JouleTrace.phase(spec[0]);
        long start = System.nanoTime();
        waitUntil(origin + Long.parseLong(spec[2]) * 1_000_000L);
        long end = System.nanoTime();
        p.close();
        long outerEnd = System.nanoTime();
        lines.add(spec[0] + " " + outerStart + " " + start + " " + end + " " + outerEnd);
      }
      Files.write(Path.of(args[0]), lines);
      System.out.println("phases done");
      return;
    }
    for (int i = 1; i < args.length; i++) {
      String[] spec = args[i].split(":");
      long nanos = Long.parseLong(spec[1]) * 1_000_000L;
      long outerStart = System.nanoTime();
      Phase p = JouleTrace.phase(spec[0]);
      long start = System.nanoTime();
      while (System.nanoTime() - start < nanos) {
        LockSupport.parkNanos(Math.min(2_000_000L, nanos - (System.nanoTime() - start)));
      }
      long end = System.nanoTime();
      p.close();
      long outerEnd = System.nanoTime();
      lines.add(spec[0] + " " + outerStart + " " + start + " " + end + " " + outerEnd);
      // a gap outside any phase
      LockSupport.parkNanos(50_000_000L);
    }
    Files.write(Path.of(args[0]), lines);
    System.out.println("phases done");
  }

  /** Parks until {@link System#nanoTime()} reaches {@code deadline}, in steps of at most 2 ms. */
  private static void waitUntil(long deadline) {
    long left;
    while ((left = deadline - System.nanoTime()) > 0) {
      LockSupport.parkNanos(Math.min(2_000_000L, left));
    }
  }
}

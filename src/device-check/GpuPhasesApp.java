import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives a GPU load through power levels and opens one phase per step, each with its own name
 * ({@code len<ms>-lvl<k>-r<i>}), so that every phase instance can be compared with an independent
 * reading. Before opening a phase it has the child switch level and waits for its acknowledgement,
 * so the work of the previous level is done. Prints {@code PHASE <name> <open ns> <close ns>} with
 * the instants (System.nanoTime) at which each phase opened and closed.
 *
 * <p>Schedule: 1 s, 500 ms and 200 ms phases cycling through levels 1, 2, 3 and 0, {@code reps}
 * times each, then a training-loop rhythm: 120 ms "step" at level 3 and 40 ms "data" at level 1,
 * alternating for about 10 s, named once each as a training loop names them ({@code len120-step}
 * and {@code len40-data}), so that the agent learns each one's power over the rhythm.
 *
 * <p>Usage: {@code java -javaagent:... GpuPhasesApp <reps> <command...>}
 */
public final class GpuPhasesApp {

  private GpuPhasesApp() {}

  public static void main(String[] args) throws Exception {
    int reps = Integer.parseInt(args[0]);
    List<String> command = List.of(args).subList(1, args.length);
    Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    PrintWriter out = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8);
    expect(in, "READY");
    List<String> lines = new ArrayList<>();
    int[] levels = {1, 2, 3, 0};
    for (int len : new int[] {1000, 500, 200}) {
      for (int r = 0; r < reps; r++) {
        for (int level : levels) {
          lines.add(step(in, out, "len" + len + "-lvl" + level + "-r" + r, level, len));
        }
      }
    }
    for (int r = 0; r < 60; r++) {
      lines.add(step(in, out, "len120-step", 3, 120));
      lines.add(step(in, out, "len40-data", 1, 40));
    }
    out.println("QUIT");
    String line;
    while ((line = in.readLine()) != null) {
      System.out.println(line);
    }
    System.out.println("child exit " + child.waitFor());
    lines.forEach(System.out::println);
  }

  private static String step(BufferedReader in, PrintWriter out, String name, int level, int ms)
      throws Exception {
    out.println("LEVEL " + level);
    expect(in, "ACK " + level);
    long open = System.nanoTime();
    try (Phase p = JouleTrace.phase(name)) {
      long end = open + ms * 1_000_000L;
      while (System.nanoTime() < end) {
        Thread.sleep(Math.max(0, Math.min(5, (end - System.nanoTime()) / 1_000_000L)));
      }
    }
    long close = System.nanoTime();
    return "PHASE " + name + " " + open + " " + close;
  }

  private static void expect(BufferedReader in, String prefix) throws Exception {
    String line;
    while ((line = in.readLine()) != null) {
      if (line.startsWith(prefix)) {
        return;
      }
      System.out.println(line);
    }
    throw new IllegalStateException("child ended before '" + prefix + "'");
  }
}

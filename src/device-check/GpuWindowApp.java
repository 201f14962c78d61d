import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Runs a GPU load as a child process and marks the phase {@code gpu-load} exactly between the
 * child's {@code START} and {@code END} lines, the instants at which the child read the GPU's
 * energy counter through pynvml. The agent's {@code gpu-load} joules and pynvml's are then two
 * readings of the same window.
 *
 * <p>Usage: {@code java -javaagent:... GpuWindowApp <command...>}
 */
public final class GpuWindowApp {

  private GpuWindowApp() {}

  public static void main(String[] args) throws Exception {
    Process child = new ProcessBuilder(args).redirectErrorStream(true).start();
    Phase phase = null;
    try (BufferedReader r = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("START ")) {
          phase = JouleTrace.phase("gpu-load");
        } else if (line.startsWith("END ") && phase != null) {
          phase.close();
        }
        System.out.println(line);
      }
    }
    int code = child.waitFor();
    System.out.println("child exit " + code + ", agent recording " + JouleTrace.isRecording());
  }
}

package io.jouletrace.sources.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.SourceUnavailableException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives the fake libnvidia-ml built from src/test/c/fake_nvml.c, and computes the truth from the
 * script on the test's side.
 */
final class FakeNvml {

  private FakeNvml() {}

  /** Lets the test set the variable the fake's C code reads with getenv at nvmlInit_v2. */
  interface LibC extends Library {
    int setenv(String name, String value, int overwrite);
  }

  private static final LibC LIBC = Native.load("c", LibC.class);

  static Path dir() {
    Path dir = Path.of(System.getProperty("fake.nvml.dir", "target/fake-nvml")).toAbsolutePath();
    assertThat(dir.resolve("libnvidia-ml.so.1")).as("fake NVML built by the test build").exists();
    return dir;
  }

  /** The fake with every function. */
  static String library() {
    return dir().resolve("libnvidia-ml.so.1").toString();
  }

  /** The fake without nvmlDeviceGetTotalEnergyConsumption and nvmlDeviceGetFieldValues. */
  static String oldLibrary() {
    return dir().resolve("libnvidia-ml-old.so.1").toString();
  }

  /** Writes the script and points FAKE_NVML_SCRIPT at it; it is read at the next nvmlInit_v2. */
  static Path script(Path tempDir, List<String> lines) throws IOException {
    Path file = Files.createTempFile(tempDir, "fake-nvml-", ".txt");
    Files.write(file, lines, StandardCharsets.US_ASCII);
    assertThat(LIBC.setenv("FAKE_NVML_SCRIPT", file.toString(), 1)).isZero();
    return file;
  }

  /** Opens the fake with no GPU selection and no CUDA variables, on System.nanoTime. */
  static NvmlSource open(String library, String override, Diagnostics diagnostics)
      throws SourceUnavailableException {
    return NvmlSource.open(library, override, null, null, diagnostics, System::nanoTime);
  }

  /** Parks until origin + seconds on the monotonic clock; pacing only, never for correctness. */
  static void sleepUntil(long originNanos, double seconds) {
    long deadline = originNanos + (long) (seconds * 1e9);
    for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }

  /**
   * One sample() call and when it happened in script time (seconds since origin_ns): the middle of
   * the interval that brackets the call, whose width is {@code uncertainty}.
   */
  record Stamp(double t, double uncertainty, double[] joules) {}

  static Stamp sample(NvmlSource source, long originNanos) {
    double[] out = new double[source.devices().size()];
    long before = System.nanoTime();
    source.sample(out);
    long after = System.nanoTime();
    return new Stamp(((before + after) / 2.0 - originNanos) * 1e-9, (after - before) * 1e-9, out);
  }

  /** A piecewise-constant power trace: the script lines and the exact integral. */
  static final class Trace {
    private final NavigableMap<Double, Double> steps = new TreeMap<>();

    Trace at(double startSeconds, double watts) {
      steps.put(startSeconds, watts);
      return this;
    }

    double watts(double t) {
      Entry<Double, Double> e = steps.floorEntry(t);
      return e == null ? 0 : e.getValue();
    }

    /** Joules between a and b, a <= b. */
    double joules(double a, double b) {
      double sum = 0;
      List<Double> starts = new ArrayList<>(steps.keySet());
      for (int i = 0; i < starts.size(); i++) {
        double lo = Math.max(a, starts.get(i));
        double hi = Math.min(b, i + 1 < starts.size() ? starts.get(i + 1) : b);
        if (hi > lo) {
          sum += steps.get(starts.get(i)) * (hi - lo);
        }
      }
      return sum;
    }

    /** The steps strictly inside (a, b): start time to size of the change in watts. */
    Map<Double, Double> changesIn(double a, double b) {
      Map<Double, Double> out = new LinkedHashMap<>();
      for (double t : steps.subMap(a, false, b, false).keySet()) {
        out.put(t, Math.abs(watts(t) - watts(Math.nextDown(t))));
      }
      return out;
    }

    List<String> lines(int device) {
      List<String> out = new ArrayList<>();
      steps.forEach((t, w) -> out.add("power " + device + " " + t + " " + w));
      return out;
    }
  }

  /** Keeps every warning and counts how often each key was raised. */
  static final class RecordingDiagnostics implements Diagnostics {
    final Map<String, String> first = new LinkedHashMap<>();
    final Map<String, Integer> calls = new LinkedHashMap<>();

    @Override
    public synchronized void warn(String key, String message) {
      first.putIfAbsent(key, message);
      calls.merge(key, 1, Integer::sum);
    }

    synchronized List<String> keysStartingWith(String prefix) {
      return first.keySet().stream().filter(k -> k.startsWith(prefix)).toList();
    }
  }
}

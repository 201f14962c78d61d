package io.jouletrace.agent.carbon;

import io.jouletrace.exporter.CarbonDetail.Hardware;
import io.jouletrace.sources.Texts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The CPU model and socket count for the statement, from {@code /proc/cpuinfo} where present. */
public final class HostInfo {

  private HostInfo() {}

  /** Reads the host's CPU; never throws. */
  public static Hardware read() {
    return read(Path.of("/proc/cpuinfo"));
  }

  /**
   * The CPU model that {@code /proc/cpuinfo} names.
   *
   * @return the model, or an empty string where there is none to read; never throws
   */
  public static String cpuModel() {
    String m = parse(Path.of("/proc/cpuinfo"), new HashSet<>());
    return m == null ? "" : collapseBlanks(m);
  }

  static Hardware read(Path cpuinfo) {
    Set<String> sockets = new HashSet<>();
    String model = parse(cpuinfo, sockets);
    if (model == null) {
      model = "unknown CPU (" + System.getProperty("os.arch") + ")";
    }
    return new Hardware(collapseBlanks(model), Math.max(1, sockets.size()));
  }

  /**
   * Reads the CPU model, and adds each socket's {@code physical id} to {@code sockets}.
   *
   * @return the model, or null where none is named (not Linux, or not readable)
   */
  private static String parse(Path cpuinfo, Set<String> sockets) {
    String model = null;
    try {
      List<String> lines = Files.readAllLines(cpuinfo);
      for (String l : lines) {
        int colon = l.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String k = l.substring(0, colon).trim();
        String v = l.substring(colon + 1).trim();
        if (model == null && (k.equals("model name") || k.equals("Model") || k.equals("cpu"))) {
          model = v;
        } else if (k.equals("physical id")) {
          sockets.add(v);
        }
      }
    } catch (Exception e) {
      // not Linux, or not readable
    }
    return model == null || model.isBlank() ? null : model;
  }

  /**
   * {@code text.replaceAll("\\s+", " ")} without the regular-expression engine, whose first use in
   * a JVM costs about 10 ms of CPU (this runs at exit when start-up did not get this far).
   */
  static String collapseBlanks(String text) {
    StringBuilder b = new StringBuilder(text.length());
    boolean inBlanks = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Texts.isRegexBlank(c)) {
        if (!inBlanks) {
          b.append(' ');
        }
        inBlanks = true;
      } else {
        b.append(c);
        inBlanks = false;
      }
    }
    return b.toString();
  }
}

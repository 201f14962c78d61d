package io.jouletrace.sources.cpu;

import io.jouletrace.sources.SmallFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The host as Linux's {@code /proc} tells it, read in a millisecond or two: what the estimation
 * model needs at {@code premain}, where OSHI's start (a few hundred milliseconds of CPU) would
 * delay the application or leave a short run unmeasured. CPU times come from {@code /proc/stat} and
 * {@code /proc/self/stat} in clock ticks ({@code USER_HZ}, 100 on every mainstream architecture);
 * the CPU's identity from {@code /proc/cpuinfo}; memory from {@code /proc/meminfo}.
 *
 * <pre>{@code
 * ProcHost host = ProcHost.open(Path.of("/proc"));  // null where there is no /proc
 * }</pre>
 */
public final class ProcHost implements CpuTimes {

  /** Clock ticks per second in {@code /proc}: USER_HZ. */
  static final long HZ = 100;

  private final Path stat;
  private final Path selfStat;
  private final String modelName;
  private final CpuIdentity identity;
  private final int packages;
  private final int logicalCpus;
  private final double memoryGb;

  private ProcHost(
      Path proc,
      String modelName,
      CpuIdentity identity,
      int packages,
      int logicalCpus,
      double memoryGb) {
    this.stat = proc.resolve("stat");
    this.selfStat = proc.resolve("self").resolve("stat");
    this.modelName = modelName;
    this.identity = identity;
    this.packages = packages;
    this.logicalCpus = logicalCpus;
    this.memoryGb = memoryGb;
  }

  /**
   * Reads the host's facts.
   *
   * @param proc the {@code /proc} mount
   * @return the host, or {@code null} when its files are missing or not as Linux writes them
   */
  public static ProcHost open(Path proc) {
    try {
      List<String> cpuinfo = Files.readAllLines(proc.resolve("cpuinfo"), StandardCharsets.UTF_8);
      String name = null;
      String vendor = null;
      String family = null;
      String model = null;
      Set<String> physical = new HashSet<>();
      for (String line : cpuinfo) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String key = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        switch (key) {
          case "model name" -> name = name == null ? value : name;
          case "vendor_id" -> vendor = vendor == null ? value : vendor;
          case "cpu family" -> family = family == null ? value : family;
          case "model" -> model = model == null ? value : model;
          case "physical id" -> physical.add(value);
          default -> {}
        }
      }
      int logical = 0;
      for (String line : Files.readAllLines(proc.resolve("stat"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("cpu") && line.length() > 3 && Character.isDigit(line.charAt(3))) {
          logical++;
        }
      }
      double memoryGb = 0;
      for (String line : Files.readAllLines(proc.resolve("meminfo"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("MemTotal:")) {
          memoryGb = Long.parseLong(digitsOf(line)) * 1024 / 1e9;
        }
      }
      if (logical == 0 || memoryGb <= 0) {
        return null;
      }
      ProcHost host =
          new ProcHost(
              proc,
              name == null ? "unknown" : name,
              CpuIdentity.parse(vendor, family, model),
              Math.max(1, physical.size()),
              logical,
              memoryGb);
      host.host(); // readable now, or not at all
      host.processCpuNanos();
      return host;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The CPU's model name, e.g. {@code AMD EPYC 7B13}. */
  public String modelName() {
    return modelName;
  }

  /** The CPU's vendor, family and model. */
  public CpuIdentity identity() {
    return identity;
  }

  /** Physical packages (sockets); 1 when the host does not say. */
  public int packages() {
    return packages;
  }

  /** Installed memory in GB (10^9 bytes). */
  public double memoryGb() {
    return memoryGb;
  }

  @Override
  public int logicalCpus() {
    return logicalCpus;
  }

  /** Busy and total time of all CPUs since boot, from the first line of {@code /proc/stat}. */
  @Override
  public HostTicks host() {
    byte[] b = head(stat, 512);
    // cpu user nice system idle iowait irq softirq steal [guest guest_nice: already in user]
    long total = 0;
    long idle = 0;
    int at = skipField(b, 0); // "cpu"
    for (int i = 1; i < 9 && at < b.length && b[at] != '\n'; i++) {
      long v = number(b, at, stat);
      at = skipField(b, at);
      total += v;
      if (i == 4 || i == 5) {
        idle += v;
      }
    }
    return new HostTicks((total - idle) * 1000 / HZ, total * 1000 / HZ);
  }

  /** This process's CPU time, from {@code utime} and {@code stime} in {@code /proc/self/stat}. */
  @Override
  public long processCpuNanos() {
    return processCpuNanos(selfStat);
  }

  /**
   * The CPU time in a {@code /proc/<pid>/stat} file.
   *
   * @param selfStat the file
   * @return nanoseconds, in clock ticks' resolution
   * @throws IllegalStateException when it cannot be read or is not as Linux writes it
   */
  static long processCpuNanos(Path selfStat) {
    byte[] b = head(selfStat, 1024);
    // the command name, in parentheses, may hold blanks: count fields after its closing one
    int at = b.length;
    while (at > 0 && b[at - 1] != ')') {
      at--;
    }
    for (int field = 3; field < 14; field++) {
      at = skipField(b, at);
    }
    long utime = number(b, at, selfStat);
    long stime = number(b, skipField(b, at), selfStat);
    return (utime + stime) * (1_000_000_000L / HZ);
  }

  /**
   * The ASCII digits of {@code line}, in order ({@code line.replaceAll("[^0-9]", "")} without the
   * regular-expression engine, whose first use in a JVM costs about 10 ms of CPU).
   */
  static String digitsOf(String line) {
    StringBuilder b = new StringBuilder(line.length());
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c >= '0' && c <= '9') {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** Up to {@code max} bytes from the start of a file in /proc. */
  private static byte[] head(Path file, int max) {
    try {
      return SmallFiles.reread(file, max);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** The index of the next field after the one at or after {@code at}, fields split by blanks. */
  private static int skipField(byte[] b, int at) {
    while (at < b.length && b[at] == ' ') {
      at++;
    }
    while (at < b.length && b[at] != ' ' && b[at] != '\n') {
      at++;
    }
    while (at < b.length && b[at] == ' ') {
      at++;
    }
    return at;
  }

  /** The decimal number at {@code at} (after blanks). */
  private static long number(byte[] b, int at, Path file) {
    while (at < b.length && b[at] == ' ') {
      at++;
    }
    long v = 0;
    int start = at;
    while (at < b.length && b[at] >= '0' && b[at] <= '9') {
      v = v * 10 + (b[at++] - '0');
    }
    if (at == start) {
      throw new IllegalStateException("cannot read " + file + ": no number at byte " + start);
    }
    return v;
  }
}

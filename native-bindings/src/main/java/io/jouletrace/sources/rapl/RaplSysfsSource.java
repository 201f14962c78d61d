package io.jouletrace.sources.rapl;

import io.jouletrace.sources.DetailSource;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SmallFiles;
import io.jouletrace.sources.SourceUnavailableException;
import io.jouletrace.sources.SystemClocks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CPU package and DRAM energy from the Linux powercap interface ({@code
 * /sys/class/powercap/intel-rapl:*} and {@code intel-rapl-mmio:*}), used by Intel and, since Linux
 * 5.8, AMD Zen.
 *
 * <p>What is counted, so that no joule is counted twice:
 *
 * <ul>
 *   <li>every top-level {@code package-N} zone (a CPU device), and every {@code dram} sub-zone (a
 *       DRAM device);
 *   <li>{@code core} and {@code uncore} lie inside their package: kept as detail, never added;
 *   <li>{@code psys} covers the packages: used as the CPU device only when no package zone is
 *       readable (and reported), else kept as detail;
 *   <li>an {@code intel-rapl-mmio} package zone that mirrors an {@code intel-rapl} package of the
 *       same name is detail; one without a twin is counted;
 *   <li>two zones with the same name and the same counter value (some AMD parts report one counter
 *       twice) are counted once.
 * </ul>
 *
 * <p>Zones are chosen by their {@code name} file, never by index. Each zone's {@code energy_uj}
 * (microjoules) wraps at its own {@code max_energy_range_uj}; wraps are undone per zone before any
 * sum. A decrease that cannot be a wrap (driver reload, garbage) is a reset: reported once, never
 * negative or gigantic energy. {@link #maxSafeIntervalNanos()} tells how often the zones must be
 * read so that no counter wraps twice between two reads.
 */
public final class RaplSysfsSource implements EnergySource, DetailSource {

  /** Default location of the powercap tree. */
  public static final Path DEFAULT_ROOT = Path.of("/sys/class/powercap");

  /** The fixes for unreadable counters, ready to paste. */
  public static final String PERMISSION_FIX =
      "Fix, any one of: run as root;"
          + " `sudo chmod a+r /sys/class/powercap/intel-rapl*/energy_uj"
          + " /sys/class/powercap/intel-rapl*/*/energy_uj` (until reboot); to keep it across reboots,"
          + " the udev rule `ACTION==\"add\", SUBSYSTEM==\"powercap\", RUN+=\"/bin/chmod a+r"
          + " /sys%p/energy_uj\"` in /etc/udev/rules.d/90-rapl.rules; or read the MSRs instead"
          + " (cpu.source=rapl-msr): `sudo modprobe msr` and `sudo setcap cap_sys_rawio=ep"
          + " $(readlink -f $(which java))`";

  /** Power assumed for a zone before any has been observed, for the safe read interval. */
  static final double ASSUMED_MAX_WATTS = 500;

  /** No zone draws this much: a larger implied power means the counter was reset, not wrapped. */
  static final double PLAUSIBLE_MAX_WATTS = 5000;

  /** Zone folder names; compiled where there are zones to match, not at every start. */
  private static final class ZoneName {
    static final Pattern ZONE = Pattern.compile("(intel-rapl(?:-mmio)?):(\\d+)(?::(\\d+))?");
  }

  /** Reads one counter file; replaced in tests to simulate permissions. */
  @FunctionalInterface
  interface CounterReader {
    long read(Path file) throws IOException;
  }

  /**
   * Reads counters with {@link SmallFiles#number}. A class rather than a method reference, which
   * the JVM would spin at the start of every run.
   */
  static final CounterReader FILES = new SmallFileCounters();

  private static final class SmallFileCounters implements CounterReader {
    @Override
    public long read(Path file) throws IOException {
      return SmallFiles.number(file);
    }
  }

  private final List<Zone> counted;
  private final List<Zone> detail;
  private final List<Device> devices;
  private final Diagnostics diagnostics;
  private final CounterReader reader;
  private final LongSupplier clock;

  /** One zone being read: its wrap state and cumulative joules. */
  static final class Zone {
    final RaplZone zone;
    final Path energy;
    final String id;
    long last;
    long lastRead;
    double joules;
    double maxWatts;

    Zone(RaplZone zone, String id, long first, long now) {
      this.zone = zone;
      this.energy = zone.dir().resolve("energy_uj");
      this.id = id;
      this.last = first;
      this.lastRead = now;
    }
  }

  private RaplSysfsSource(
      List<Zone> counted,
      List<Zone> detail,
      Diagnostics diagnostics,
      CounterReader reader,
      LongSupplier clock) {
    this.clock = clock;
    this.counted = List.copyOf(counted);
    this.detail = List.copyOf(detail);
    this.diagnostics = diagnostics;
    this.reader = reader;
    List<Device> list = new ArrayList<>();
    for (Zone z : counted) {
      boolean dram = "dram".equals(z.zone.name());
      list.add(
          new Device(
              z.id,
              dram ? Domain.DRAM : Domain.CPU,
              "rapl-sysfs",
              true,
              Map.of("zone", z.zone.dir().getFileName().toString())));
    }
    this.devices = List.copyOf(list);
  }

  /**
   * Finds every zone under {@code root}, counted or not, sorted by directory name.
   *
   * @param root the powercap root
   * @return the zones whose {@code name} could be read; empty when the tree is absent
   */
  public static List<RaplZone> discover(Path root) {
    List<RaplZone> found = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return found;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, "intel-rapl*:*")) {
      for (Path dir : entries) {
        Matcher m = ZoneName.ZONE.matcher(dir.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        String name = readTrimmed(dir.resolve("name"));
        if (name == null || name.isEmpty()) {
          continue;
        }
        long max = parseOrZero(readTrimmed(dir.resolve("max_energy_range_uj")));
        found.add(new RaplZone(dir, name, Integer.parseInt(m.group(2)), m.group(3) != null, max));
      }
    } catch (IOException | RuntimeException e) {
      return found;
    }
    found.sort(Comparator.comparing(z -> z.dir().getFileName().toString()));
    return found;
  }

  /**
   * Opens the zones, choosing what is counted as described on this class.
   *
   * @param root the powercap root, normally {@link #DEFAULT_ROOT}
   * @param diagnostics where problems found while opening and sampling are reported
   * @return an open source
   * @throws SourceUnavailableException when no zone can be counted; the message names the file and
   *     the fix
   */
  public static RaplSysfsSource open(Path root, Diagnostics diagnostics)
      throws SourceUnavailableException {
    return open(root, diagnostics, FILES, SystemClocks.NANO_TIME);
  }

  static RaplSysfsSource open(
      Path root, Diagnostics diagnostics, CounterReader reader, LongSupplier clock)
      throws SourceUnavailableException {
    List<RaplZone> all = discover(root);
    if (all.isEmpty()) {
      throw new SourceUnavailableException(
          "no RAPL zones under "
              + root
              + " (no powercap driver, a VM, or a container without /sys)");
    }
    long now = clock.getAsLong();
    Map<RaplZone, Long> firstValue = new LinkedHashMap<>();
    Path denied = null;
    String unreadable = null;
    for (RaplZone z : all) {
      Path file = z.dir().resolve("energy_uj");
      try {
        firstValue.put(z, reader.read(file));
      } catch (AccessDeniedException e) {
        denied = denied == null ? file : denied;
      } catch (IOException | RuntimeException e) {
        unreadable =
            unreadable == null ? file + " (" + e.getClass().getSimpleName() + ")" : unreadable;
      }
    }
    if (firstValue.isEmpty()) {
      if (denied != null) {
        throw new SourceUnavailableException(
            denied
                + " is not readable by this user (RAPL counters"
                + " are root-only since Linux 5.10). "
                + PERMISSION_FIX);
      }
      throw new SourceUnavailableException(
          "no RAPL counter under " + root + " can be read: " + unreadable);
    }

    List<Zone> counted = new ArrayList<>();
    List<Zone> detail = new ArrayList<>();
    Set<String> packageNames = new HashSet<>();
    Set<Integer> countedPackages = new HashSet<>();
    Map<String, Long> countedValues = new LinkedHashMap<>();
    // Top-level packages: intel-rapl first, so an mmio twin of the same name is the mirror.
    List<RaplZone> tops = new ArrayList<>(firstValue.keySet());
    tops.sort(
        Comparator.comparing((RaplZone z) -> isMmio(z) ? 1 : 0)
            .thenComparing(z -> z.dir().getFileName().toString()));
    for (RaplZone z : tops) {
      if (z.subZone() || !z.name().startsWith("package-")) {
        continue;
      }
      long value = firstValue.get(z);
      String label = label(z);
      if (!packageNames.add(z.name())) {
        Long other = countedValues.get(z.name());
        String why =
            isMmio(z)
                ? "an intel-rapl-mmio mirror of " + z.name()
                : (other != null && other == value ? "the same counter as" : "a second zone named")
                    + " "
                    + z.name();
        diagnostics.warn(
            "rapl.duplicate." + label, z.dir() + " is " + why + "; not added to the totals");
        detail.add(new Zone(z, label, value, now));
        continue;
      }
      countedValues.put(z.name(), value);
      countedPackages.add(packageKey(z));
      counted.add(new Zone(z, z.name(), value, now));
    }
    for (RaplZone z : firstValue.keySet()) {
      if (!z.subZone()) {
        if (!z.name().startsWith("package-")) {
          detail.add(new Zone(z, label(z), firstValue.get(z), now)); // psys and the like
        }
        continue;
      }
      boolean parentCounted = countedPackages.contains(packageKey(z));
      if ("dram".equals(z.name()) && parentCounted) {
        counted.add(new Zone(z, "dram-" + z.packageIndex(), firstValue.get(z), now));
      } else {
        detail.add(new Zone(z, label(z), firstValue.get(z), now));
      }
    }
    counted.sort(
        Comparator.comparingInt((Zone z) -> z.zone.packageIndex())
            .thenComparing(z -> z.zone.subZone()));
    if (counted.stream().noneMatch(z -> z.id.startsWith("package-"))) {
      Zone psys =
          detail.stream().filter(z -> "psys".equals(z.zone.name())).findFirst().orElse(null);
      if (psys == null) {
        throw new SourceUnavailableException(
            denied != null
                ? denied
                    + " is not readable by this user (root-only since Linux 5.10). "
                    + PERMISSION_FIX
                : "no package RAPL zone under " + root + " can be read");
      }
      detail.remove(psys);
      Zone cpu = new Zone(psys.zone, "psys", psys.last, now);
      counted.add(0, cpu);
      diagnostics.warn(
          "rapl.psys",
          "no readable package RAPL zone; using "
              + psys.zone.dir()
              + " (psys: the whole platform, more than the CPU packages) as CPU energy");
    }
    for (Zone z : counted) {
      if (z.zone.maxRangeMicrojoules() <= 0) {
        diagnostics.warn(
            "rapl.max." + z.zone.dir().getFileName(),
            z.zone.dir().resolve("max_energy_range_uj")
                + " is missing or zero: a decreasing"
                + " counter in this zone will be treated as a reset, not a wrap");
      }
    }
    if (denied != null) {
      diagnostics.warn(
          "rapl.denied",
          denied
              + " and possibly other zones are not readable by this"
              + " user; only readable zones are counted");
    }
    return new RaplSysfsSource(counted, detail, diagnostics, reader, clock);
  }

  private static boolean isMmio(RaplZone z) {
    return z.dir().getFileName().toString().startsWith("intel-rapl-mmio");
  }

  private static int packageKey(RaplZone z) {
    return (isMmio(z) ? 1_000_000 : 0) + z.packageIndex();
  }

  private static String label(RaplZone z) {
    return z.dir().getFileName().toString() + "/" + z.name();
  }

  @Override
  public String name() {
    return "rapl-sysfs";
  }

  @Override
  public List<Device> devices() {
    return devices;
  }

  /** Returns the counted zones, in device order. */
  public List<RaplZone> zones() {
    return counted.stream().map(z -> z.zone).toList();
  }

  /**
   * Reads the zones that are not counted ({@code core}, {@code uncore}, {@code psys}, mirrors) and
   * returns their joules since the source was opened, keyed by {@code <zone dir>/<name>}.
   *
   * @return an ordered map
   */
  @Override
  public Map<String, Double> detailJoules() {
    long now = clock.getAsLong();
    Map<String, Double> m = new LinkedHashMap<>();
    for (Zone z : detail) {
      m.put(z.id, read(z, now));
    }
    return m;
  }

  /**
   * Returns the longest time between two reads for which no zone can wrap twice: half the time the
   * zone with the shortest wrap period takes to wrap at its highest observed power (or {@value
   * #ASSUMED_MAX_WATTS} W before any was observed).
   *
   * @return nanoseconds, {@link Long#MAX_VALUE} when no zone has a known range
   */
  @Override
  public long maxSafeIntervalNanos() {
    double safe = Math.min(safeSeconds(counted), safeSeconds(detail));
    return safe >= Long.MAX_VALUE / 1e9 ? Long.MAX_VALUE : (long) (safe * 1e9);
  }

  private static double safeSeconds(List<Zone> zones) {
    double safe = Double.MAX_VALUE;
    for (int i = 0; i < zones.size(); i++) {
      Zone z = zones.get(i);
      long range = z.zone.maxRangeMicrojoules();
      if (range > 0) {
        double watts = z.maxWatts > 0 ? Math.max(z.maxWatts * 1.5, 1.0) : ASSUMED_MAX_WATTS;
        safe = Math.min(safe, range * 1e-6 / watts / 2);
      }
    }
    return safe;
  }

  /**
   * Cost of reading one zone's {@code energy_uj}, kept at what a read opened per file cost (about
   * 32 µs for 7 zones). On sysfs the files are now kept open and a read costs 1.2 to 1.8 µs ({@code
   * SmallFileReadCost}); the higher figure keeps the boundary-read budget on the safe side, and
   * also holds for a fake tree, whose files are opened per read.
   */
  static final long ZONE_READ_NANOS = 5_000;

  /** Reads every counted zone: about {@value #ZONE_READ_NANOS} ns each. */
  @Override
  public long readCostNanos() {
    return ZONE_READ_NANOS * counted.size();
  }

  /** RAPL counters update about every millisecond and a read costs microseconds. */
  @Override
  public boolean readableAtBoundaries() {
    return true;
  }

  /** RAPL updates its energy counters about every millisecond. */
  @Override
  public long updatePeriodNanos() {
    return RAPL_UPDATE_NANOS;
  }

  /** RAPL's update period: about 1 ms. */
  static final long RAPL_UPDATE_NANOS = 1_000_000;

  @Override
  public void sample(double[] out) {
    long now = clock.getAsLong();
    for (int i = 0; i < counted.size(); i++) {
      out[i] = read(counted.get(i), now);
    }
  }

  private double read(Zone z, long now) {
    Path file = z.energy;
    long value;
    try {
      value = reader.read(file);
    } catch (IOException | RuntimeException e) {
      diagnostics.warn(
          "rapl.read." + z.zone.dir().getFileName(),
          file
              + " could not be read ("
              + e.getClass().getSimpleName()
              + "); its energy is carried over to the next good read");
      return z.joules;
    }
    long max = z.zone.maxRangeMicrojoules();
    double seconds = Math.max(1e-9, (now - z.lastRead) * 1e-9);
    long delta = value - z.last;
    if (delta < 0) {
      long wrapped = max > 0 && z.last <= max && value <= max ? delta + max : -1;
      if (wrapped >= 0 && wrapped * 1e-6 / seconds <= PLAUSIBLE_MAX_WATTS) {
        delta = wrapped;
      } else {
        diagnostics.warn(
            "rapl.reset." + z.zone.dir().getFileName(),
            file
                + " went from "
                + z.last
                + " to "
                + value
                + " uJ, which is not a wrap at max_energy_range_uj="
                + max
                + "; treated as a counter reset (no energy counted for that step)");
        delta = 0;
      }
    }
    if (max > 0 && z.maxWatts > 0 && seconds * z.maxWatts > max * 1e-6) {
      diagnostics.warn(
          "rapl.slow." + z.zone.dir().getFileName(),
          file
              + " was read "
              + String.format(java.util.Locale.ROOT, "%.1f", seconds)
              + " s after the previous read,"
              + " longer than one wrap period at its observed power: energy may be undercounted");
    }
    double watts = delta * 1e-6 / seconds;
    if (seconds > 0.005) { // a power from a very short step is noise from the counter's update
      z.maxWatts = Math.max(z.maxWatts, watts);
    }
    z.last = value;
    z.lastRead = now;
    z.joules += delta * 1e-6;
    return z.joules;
  }

  @Override
  public void close() {
    for (Zone z : counted) {
      SmallFiles.forget(z.energy);
    }
    for (Zone z : detail) {
      SmallFiles.forget(z.energy);
    }
  }

  static String readTrimmed(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static long parseOrZero(String s) {
    if (s == null || s.isEmpty()) {
      return 0;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}

package io.jouletrace.sources.rapl;

import io.jouletrace.sources.Device;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CPU package and DRAM energy from the Linux powercap interface ({@code
 * /sys/class/powercap/intel-rapl:*}), used by Intel and, since Linux 5.8, AMD Zen.
 *
 * <p>Zones are chosen by their {@code name} file, never by index: {@code package-N} zones are CPU
 * devices, {@code dram} sub-zones are DRAM devices. {@code core} and {@code uncore} lie inside their
 * package and are not added; {@code psys} covers the packages and is not added either. Each zone's
 * {@code energy_uj} (microjoules) wraps at its own {@code max_energy_range_uj}; wraps are undone per
 * zone before anything is summed.
 */
public final class RaplSysfsSource implements EnergySource {

  /** Default location of the powercap tree. */
  public static final Path DEFAULT_ROOT = Path.of("/sys/class/powercap");

  private static final Pattern ZONE = Pattern.compile("intel-rapl:(\\d+)(?::(\\d+))?");

  private final List<RaplZone> zones;
  private final List<Device> devices;
  private final Diagnostics diagnostics;
  private final long[] last;
  private final double[] joules;

  private RaplSysfsSource(List<RaplZone> zones, long[] first, Diagnostics diagnostics) {
    this.zones = List.copyOf(zones);
    this.diagnostics = diagnostics;
    this.last = first.clone();
    this.joules = new double[zones.size()];
    List<Device> list = new ArrayList<>();
    for (RaplZone zone : zones) {
      boolean dram = "dram".equals(zone.name());
      String id = dram ? "dram-" + zone.packageIndex() : zone.name();
      list.add(
          new Device(
              id,
              dram ? Domain.DRAM : Domain.CPU,
              "rapl-sysfs",
              true,
              Map.of("zone", zone.dir().getFileName().toString())));
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
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, "intel-rapl:*")) {
      for (Path dir : entries) {
        Matcher m = ZONE.matcher(dir.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        String name = readTrimmed(dir.resolve("name"));
        if (name == null) {
          continue;
        }
        long max = parseOrZero(readTrimmed(dir.resolve("max_energy_range_uj")));
        found.add(new RaplZone(dir, name, Integer.parseInt(m.group(1)), m.group(2) != null, max));
      }
    } catch (IOException | RuntimeException e) {
      return found;
    }
    found.sort(Comparator.comparing(z -> z.dir().getFileName().toString()));
    return found;
  }

  /**
   * Opens the zones that are counted: every top-level {@code package-N} and every {@code dram}
   * sub-zone.
   *
   * @param root the powercap root, normally {@link #DEFAULT_ROOT}
   * @param diagnostics where problems found while sampling are reported
   * @return an open source
   * @throws SourceUnavailableException when no counted zone exists or none can be read; the message
   *     names the file and the fix
   */
  public static RaplSysfsSource open(Path root, Diagnostics diagnostics)
      throws SourceUnavailableException {
    List<RaplZone> all = discover(root);
    List<RaplZone> counted = new ArrayList<>();
    for (RaplZone zone : all) {
      boolean pkg = !zone.subZone() && zone.name().startsWith("package-");
      boolean dram = zone.subZone() && "dram".equals(zone.name());
      if (pkg || dram) {
        counted.add(zone);
      }
    }
    if (counted.isEmpty()) {
      throw new SourceUnavailableException(
          all.isEmpty()
              ? "no RAPL zones under " + root + " (no powercap driver, a VM, or a container without /sys)"
              : "no package or dram RAPL zone under " + root);
    }
    long[] first = new long[counted.size()];
    for (int i = 0; i < counted.size(); i++) {
      Path file = counted.get(i).energyFile();
      try {
        first[i] = Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
      } catch (AccessDeniedException e) {
        throw new SourceUnavailableException(
            file
                + " is not readable by this user (root-only since Linux 5.10). Fix: run as root, or"
                + " `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj"
                + " /sys/class/powercap/intel-rapl:*:*/energy_uj` (or a udev rule doing the same)",
            e);
      } catch (IOException | NumberFormatException e) {
        throw new SourceUnavailableException(file + " cannot be read: " + e, e);
      }
    }
    for (RaplZone zone : counted) {
      if (zone.maxRangeMicrojoules() <= 0) {
        diagnostics.warn(
            "rapl.max." + zone.dir().getFileName(),
            zone.dir().resolve("max_energy_range_uj")
                + " is missing or zero: a decreasing counter in this zone will be treated as a"
                + " reset, not a wrap");
      }
    }
    return new RaplSysfsSource(counted, first, diagnostics);
  }

  @Override
  public String name() {
    return "rapl-sysfs";
  }

  @Override
  public List<Device> devices() {
    return devices;
  }

  /** Returns the zones this source reads, in device order. */
  public List<RaplZone> zones() {
    return zones;
  }

  @Override
  public void sample(double[] out) {
    for (int i = 0; i < zones.size(); i++) {
      RaplZone zone = zones.get(i);
      long now;
      try {
        now = Long.parseLong(Files.readString(zone.energyFile(), StandardCharsets.US_ASCII).trim());
      } catch (IOException | NumberFormatException | SecurityException e) {
        diagnostics.warn(
            "rapl.read." + zone.dir().getFileName(),
            zone.energyFile() + " could not be read (" + e.getClass().getSimpleName()
                + "); its energy is carried over to the next good read");
        out[i] = joules[i];
        continue;
      }
      long delta = now - last[i];
      if (delta < 0) {
        long max = zone.maxRangeMicrojoules();
        if (max > 0 && last[i] <= max && now <= max) {
          delta += max;
        } else {
          diagnostics.warn(
              "rapl.reset." + zone.dir().getFileName(),
              zone.energyFile() + " went from " + last[i] + " to " + now
                  + " uJ, which is not a wrap at max_energy_range_uj=" + max
                  + "; treated as a counter reset (no energy counted for that step)");
          delta = 0;
        }
      }
      last[i] = now;
      joules[i] += delta * 1e-6;
      out[i] = joules[i];
    }
  }

  @Override
  public void close() {
    // Files are opened per read; nothing is held.
  }

  static String readTrimmed(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      return null;
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

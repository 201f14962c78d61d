package io.jouletrace.sources.msr;

import io.jouletrace.sources.DetailSource;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.Domain;
import io.jouletrace.sources.EnergySource;
import io.jouletrace.sources.SourceUnavailableException;
import io.jouletrace.sources.cpu.CpuIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * CPU package and DRAM energy read straight from the RAPL model-specific registers through the
 * Linux {@code msr} driver ({@code /dev/cpu/N/msr}), for machines where the powercap tree is
 * missing or not readable.
 *
 * <p>Each register is read as 8 little-endian bytes at file offset = register number, from the
 * lowest-numbered online CPU of each physical package (found in {@code
 * /sys/devices/system/cpu/cpuN/topology/physical_package_id}); the files stay open until {@link
 * #close()}. Each read of the real driver interrupts the target CPU, so this source reads one CPU
 * per package and never every core.
 *
 * <table>
 *   <caption>Registers</caption>
 *   <tr><th>vendor</th><th>units</th><th>counted</th><th>detail only</th></tr>
 *   <tr><td>{@code GenuineIntel}</td><td>0x606</td>
 *       <td>package 0x611 ({@code package-P}), DRAM 0x619 ({@code dram-P}, when readable)</td>
 *       <td>PP0 0x639, PP1 0x641, platform 0x64D</td></tr>
 *   <tr><td>{@code AuthenticAMD} (family 17h and later)</td><td>0xC0010299</td>
 *       <td>package 0xC001029B ({@code package-P})</td>
 *       <td>core 0xC001029A</td></tr>
 * </table>
 *
 * <p>Units: bits 12:8 of the units register are the energy status unit (ESU); one counter step is
 * 1/2<sup>ESU</sup> J (ESU = 14: 61 µJ, typical for Intel; ESU = 16: 15.3 µJ, typical for AMD).
 * Detail registers (PP0, PP1 and AMD core lie inside the package; platform covers it) are read so
 * that {@link #detailJoules()} can show them, but are never devices: adding them would count the
 * same joules twice.
 *
 * <p><b>Wraparound.</b> The energy counters are the low 32 bits of their registers. A value lower
 * than the previous one is taken as exactly one wrap of 2<sup>32</sup> steps, per register, before
 * anything is summed. Two wraps between reads cannot be seen, so {@link #sample(double[])} must be
 * called more often than {@link #maxSafeIntervalNanos(double)}: at 200 W and ESU = 14 a counter
 * wraps every 2<sup>32</sup> × 2<sup>-14</sup> J / 200 W ≈ 21.8 min; at ESU = 16 every ≈ 5.5 min. A
 * counter that restarted from zero (which MSRs do not do short of a power cycle) would be read as
 * one wrap as well.
 *
 * <p><b>DRAM unit by CPU model.</b> On Intel server parts (Haswell-EP and later Xeons up to Emerald
 * Rapids, and Xeon Phi) the DRAM counter counts in a fixed 2<sup>-16</sup> J ≈ 15.3 µJ, not in the
 * ESU of 0x606 (read with the ESU, DRAM energy there is about 4 times too high at ESU = 14). The
 * unit is therefore chosen from the CPU's family and model, as Linux's {@code intel_rapl} driver
 * does ({@link MsrLayout#INTEL_FIXED_DRAM_UNIT_MODELS}); an explicit {@code dramUnitJoules}
 * overrides it. When the model is unknown the ESU is used and one warning says so.
 *
 * <p><b>Permissions.</b> The files are root-only ({@code 0600}) and opening them also needs {@code
 * CAP_SYS_RAWIO}. For a non-root JVM: {@code sudo setcap cap_sys_rawio=ep $(readlink -f $(which
 * java))} and make the files readable by the user (a group and {@code chmod g+r} in a udev rule).
 * Note that a {@code java} binary with file capabilities runs in secure mode and no longer finds
 * {@code libjli.so} through its relative run path; add {@code $JAVA_HOME/lib} to a file in {@code
 * /etc/ld.so.conf.d/} and run {@code ldconfig}.
 *
 * <p>Multi-die packages whose RAPL domains are per die (Cascade Lake-AP) are read for their first
 * die only.
 *
 * <pre>{@code
 * try (RaplMsrSource msr = RaplMsrSource.open(RaplMsrSource.DEFAULT_MSR_ROOT,
 *     RaplMsrSource.DEFAULT_CPU_ROOT, new CpuIdentity("GenuineIntel", 6, 0x55), diagnostics)) {
 *   double[] joules = new double[msr.devices().size()];
 *   msr.sample(joules); // joules since open, per device: package-0, dram-0, package-1, ...
 * }
 * }</pre>
 */
public final class RaplMsrSource implements EnergySource, DetailSource {

  /** Default location of the msr driver's files, {@code /dev/cpu/N/msr}. */
  public static final Path DEFAULT_MSR_ROOT = Path.of("/dev/cpu");

  /** Default location of the CPU topology, {@code cpuN/topology/physical_package_id}. */
  public static final Path DEFAULT_CPU_ROOT = Path.of("/sys/devices/system/cpu");

  /** The fixed DRAM energy unit of Intel server parts (Haswell-EP and later): 2^-16 J ≈ 15.3 µJ. */
  public static final double SERVER_DRAM_UNIT_JOULES = 0x1p-16;

  /** Width of the RAPL energy counters, in bits. */
  public static final int COUNTER_BITS = 32;

  private static final long COUNTER_MASK = (1L << COUNTER_BITS) - 1;

  private static final String NAME = "rapl-msr";

  /** Opens an msr file; replaced in tests to simulate permissions the test user cannot lack. */
  @FunctionalInterface
  interface ChannelOpener {
    FileChannel open(Path file) throws IOException;
  }

  /** Opens for reading; a class rather than a lambda, which the JVM would spin at every start. */
  static final ChannelOpener FILES = new ReadOnly();

  private static final class ReadOnly implements ChannelOpener {
    @Override
    public FileChannel open(Path file) throws IOException {
      return FileChannel.open(file, StandardOpenOption.READ);
    }
  }

  /** A read that returned fewer than 8 bytes: end of a (fake) file, or a misbehaving driver. */
  static final class ShortReadException extends IOException {
    private static final long serialVersionUID = 1L;
    final int got;

    ShortReadException(int got) {
      super("short read: " + got + " of 8 bytes");
      this.got = got;
    }
  }

  /** One register being followed: its wrap state and cumulative joules. */
  private static final class Counter {
    final String key;
    final FileChannel channel;
    final Path file;
    final long register;
    final double unitJoules;
    long last;
    double joules;
    boolean failing;

    Counter(
        String key, FileChannel channel, Path file, long register, double unitJoules, long first) {
      this.key = key;
      this.channel = channel;
      this.file = file;
      this.register = register;
      this.unitJoules = unitJoules;
      this.last = first & COUNTER_MASK;
    }
  }

  private final Counter[] counted;
  private final Counter[] detail;
  private final List<FileChannel> channels;
  private final List<Device> devices;
  private final Diagnostics diagnostics;
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN);

  private RaplMsrSource(
      List<Counter> counted,
      List<Counter> detail,
      List<Device> devices,
      List<FileChannel> channels,
      Diagnostics diagnostics) {
    this.counted = counted.toArray(new Counter[0]);
    this.detail = detail.toArray(new Counter[0]);
    this.devices = List.copyOf(devices);
    this.channels = List.copyOf(channels);
    this.diagnostics = diagnostics;
  }

  /**
   * Opens the source with the DRAM unit chosen by CPU model (see the class notes).
   *
   * @param msrRoot normally {@link #DEFAULT_MSR_ROOT}
   * @param cpuSysfsRoot normally {@link #DEFAULT_CPU_ROOT}
   * @param cpu the CPU: vendor ({@code GenuineIntel} or {@code AuthenticAMD}), family and model,
   *     e.g. from {@code /proc/cpuinfo} or OSHI's {@code ProcessorIdentifier}
   * @param diagnostics where problems found while opening and sampling are reported
   * @return an open source; close it
   * @throws SourceUnavailableException when the registers cannot be read; the message names the
   *     file, the register and the fix
   */
  public static RaplMsrSource open(
      Path msrRoot, Path cpuSysfsRoot, CpuIdentity cpu, Diagnostics diagnostics)
      throws SourceUnavailableException {
    return open(msrRoot, cpuSysfsRoot, cpu, OptionalDouble.empty(), diagnostics, FILES);
  }

  /**
   * Opens the source.
   *
   * @param msrRoot normally {@link #DEFAULT_MSR_ROOT}
   * @param cpuSysfsRoot normally {@link #DEFAULT_CPU_ROOT}
   * @param cpu the CPU: vendor ({@code GenuineIntel} or {@code AuthenticAMD}), family and model
   * @param dramUnitJoules joules per DRAM counter step, overriding the choice by CPU model; empty
   *     to choose by model. Ignored on AMD (no DRAM counter)
   * @param diagnostics where problems found while opening and sampling are reported
   * @return an open source; close it
   * @throws SourceUnavailableException when the registers cannot be read; the message names the
   *     file, the register and the fix
   * @throws IllegalArgumentException when {@code dramUnitJoules} is present but not a positive
   *     finite number
   */
  public static RaplMsrSource open(
      Path msrRoot,
      Path cpuSysfsRoot,
      CpuIdentity cpu,
      OptionalDouble dramUnitJoules,
      Diagnostics diagnostics)
      throws SourceUnavailableException {
    return open(msrRoot, cpuSysfsRoot, cpu, dramUnitJoules, diagnostics, FILES);
  }

  static RaplMsrSource open(
      Path msrRoot,
      Path cpuSysfsRoot,
      CpuIdentity cpuId,
      OptionalDouble dramUnitJoules,
      Diagnostics diagnostics,
      ChannelOpener opener)
      throws SourceUnavailableException {
    if (dramUnitJoules.isPresent()) {
      double u = dramUnitJoules.getAsDouble();
      if (!(u > 0) || Double.isInfinite(u)) {
        throw new IllegalArgumentException(
            "dramUnitJoules must be a positive number of joules (e.g. 1.52587890625E-5), not " + u);
      }
    }
    // Before reading the CPU topology: on a machine without the msr module (most VMs) this
    // attempt then costs a directory listing.
    String unavailable = MsrPrecheck.problem(msrRoot, cpuId);
    if (unavailable != null) {
      throw new SourceUnavailableException(unavailable);
    }
    MsrLayout layout = MsrLayout.forVendor(cpuId.vendor());
    Map<Integer, Integer> firstCpu = CpuPackages.firstCpuPerPackage(cpuSysfsRoot);
    if (firstCpu.isEmpty()) {
      throw new SourceUnavailableException(
          "no CPU topology under "
              + cpuSysfsRoot
              + " (cpuN/topology/physical_package_id): cannot tell which CPU to read for each"
              + " package; mount sysfs (/sys) or point the cpu sysfs root at it");
    }
    List<FileChannel> channels = new ArrayList<>();
    try {
      List<Counter> counted = new ArrayList<>();
      List<Counter> detail = new ArrayList<>();
      List<Device> devices = new ArrayList<>();
      ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      for (Map.Entry<Integer, Integer> e : firstCpu.entrySet()) {
        int pkg = e.getKey();
        int cpu = e.getValue();
        Path file = msrRoot.resolve(Integer.toString(cpu)).resolve("msr");
        FileChannel ch = openChannel(opener, file, msrRoot, cpu, pkg);
        channels.add(ch);

        long units = readAtOpen(ch, buf, file, layout.units(), "units");
        int esu = (int) ((units >>> 8) & 0x1F);
        double unit = Math.scalb(1.0, -esu);
        if (units == 0) {
          diagnostics.warn(
              NAME + ".units.package-" + pkg,
              file
                  + " register "
                  + MsrLayout.hex(layout.units())
                  + " (units) reads 0, so one step is taken as 1 J;"
                  + " a hypervisor may be hiding RAPL and the energy is likely meaningless");
        }
        String pkgId = "package-" + pkg;
        long first = readAtOpen(ch, buf, file, layout.packageEnergy(), "package energy");
        counted.add(new Counter(pkgId, ch, file, layout.packageEnergy(), unit, first));
        devices.add(device(pkgId, Domain.CPU, cpu, layout.packageEnergy(), unit));

        if (layout.dramEnergy() >= 0) {
          Long dram = tryRead(ch, buf, layout.dramEnergy());
          if (dram != null) {
            String dramId = "dram-" + pkg;
            double dramUnit = dramUnitJoules.orElse(dramUnit(cpuId, unit, diagnostics));
            counted.add(new Counter(dramId, ch, file, layout.dramEnergy(), dramUnit, dram));
            devices.add(device(dramId, Domain.DRAM, cpu, layout.dramEnergy(), dramUnit));
          }
        }
        for (MsrLayout.Detail d : layout.detail()) {
          Long value = tryRead(ch, buf, d.register());
          if (value != null) {
            detail.add(new Counter(pkgId + "/" + d.name(), ch, file, d.register(), unit, value));
          }
        }
      }
      return new RaplMsrSource(counted, detail, devices, channels, diagnostics);
    } catch (SourceUnavailableException | RuntimeException e) {
      closeAll(channels);
      throw e;
    }
  }

  /** The DRAM counter's unit when none is given: fixed on Intel servers, else the ESU's. */
  private static double dramUnit(CpuIdentity cpu, double esuUnit, Diagnostics diagnostics) {
    if (MsrLayout.fixedDramUnit(cpu)) {
      return SERVER_DRAM_UNIT_JOULES;
    }
    if (!cpu.modelKnown()) {
      diagnostics.warn(
          NAME + ".dram-unit",
          "CPU family and model unknown ("
              + cpu
              + "): DRAM energy is counted in the units register's unit; on an Intel server"
              + " part (Haswell-EP or later Xeon) it then reads about 4 times too high");
    }
    return esuUnit;
  }

  private static Device device(String id, Domain domain, int cpu, long register, double unit) {
    return new Device(
        id,
        domain,
        NAME,
        true,
        Map.of(
            "cpu", Integer.toString(cpu),
            "msr", MsrLayout.hex(register),
            "unit_joules", Double.toString(unit)));
  }

  private static FileChannel openChannel(
      ChannelOpener opener, Path file, Path msrRoot, int cpu, int pkg)
      throws SourceUnavailableException {
    try {
      return opener.open(file);
    } catch (NoSuchFileException e) {
      if (!MsrPrecheck.anyMsrFile(msrRoot)) {
        throw new SourceUnavailableException(
            "no MSR device files under "
                + msrRoot
                + " ("
                + file
                + " is missing): load the msr module: sudo modprobe msr",
            e);
      }
      throw new SourceUnavailableException(
          file
              + " is missing although other CPUs have one:"
              + " CPU "
              + cpu
              + " (the first CPU of package "
              + pkg
              + ") may have gone offline;"
              + " bring it online or reload the msr module (sudo modprobe msr)",
          e);
    } catch (AccessDeniedException e) {
      throw permission(file, e);
    } catch (FileSystemException e) {
      // EPERM (root without CAP_SYS_RAWIO, e.g. in a container) is not an AccessDeniedException.
      if (e.getReason() != null && e.getReason().contains("not permitted")) {
        throw permission(file, e);
      }
      throw new SourceUnavailableException(file + " cannot be opened: " + e, e);
    } catch (IOException | RuntimeException e) {
      throw new SourceUnavailableException(file + " cannot be opened: " + e, e);
    }
  }

  private static SourceUnavailableException permission(Path file, IOException e) {
    return new SourceUnavailableException(
        file
            + ": permission denied; reading /dev/cpu/*/msr"
            + " needs root or CAP_SYS_RAWIO: e.g. sudo setcap cap_sys_rawio=ep"
            + " $(readlink -f $(which java)) — and the msr files must be readable by the user",
        e);
  }

  private static long readAtOpen(
      FileChannel ch, ByteBuffer buf, Path file, long register, String what)
      throws SourceUnavailableException {
    try {
      return read(ch, buf, register);
    } catch (ShortReadException e) {
      long size = -1;
      try {
        size = ch.size();
      } catch (IOException | RuntimeException ignored) {
        // the size only decorates the message
      }
      throw new SourceUnavailableException(
          file
              + " ends before register "
              + MsrLayout.hex(register)
              + " ("
              + what
              + "): "
              + e.got
              + " of 8 bytes at offset "
              + register
              + (size >= 0 ? ", file size " + size : "")
              + "; not an msr device file, or a copy that lacks this register",
          e);
    } catch (IOException | RuntimeException e) {
      throw new SourceUnavailableException(
          file
              + ": register "
              + MsrLayout.hex(register)
              + " ("
              + what
              + ") cannot be read ("
              + e.getMessage()
              + "): this CPU does not expose RAPL"
              + " through MSRs (Intel before Sandy Bridge, AMD before family 17h, or a VM that hides"
              + " them); try the rapl-sysfs source",
          e);
    }
  }

  private static Long tryRead(FileChannel ch, ByteBuffer buf, long register) {
    try {
      return read(ch, buf, register);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Reads one register: 8 bytes, little-endian, at offset = register. */
  private static long read(FileChannel ch, ByteBuffer buf, long register) throws IOException {
    buf.clear();
    while (buf.hasRemaining()) {
      int n = ch.read(buf, register + buf.position());
      if (n <= 0) {
        break;
      }
    }
    if (buf.position() < 8) {
      throw new ShortReadException(buf.position());
    }
    return buf.getLong(0);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Device> devices() {
    return devices;
  }

  @Override
  public void sample(double[] out) {
    for (int i = 0; i < counted.length; i++) {
      out[i] = update(counted[i]);
    }
  }

  private double update(Counter c) {
    long raw;
    try {
      raw = read(c.channel, buffer, c.register);
    } catch (IOException | RuntimeException e) {
      if (!c.failing) {
        c.failing = true;
        diagnostics.warn(
            NAME + ".read." + c.key,
            c.file
                + " register "
                + MsrLayout.hex(c.register)
                + " ("
                + c.key
                + ") could not be read ("
                + e.getClass().getSimpleName()
                + ": "
                + e.getMessage()
                + "); its energy is carried over to the next good read");
      }
      return c.joules;
    }
    c.failing = false;
    long now = raw & COUNTER_MASK;
    long steps = (now - c.last) & COUNTER_MASK; // a decrease is one wrap of 2^32 steps
    c.last = now;
    c.joules += steps * c.unitJoules;
    return c.joules;
  }

  /**
   * Reads the registers read for diagnostics only and returns their joules since the source was
   * opened. Keys are {@code package-P/pp0}, {@code package-P/pp1}, {@code package-P/platform}
   * (Intel) and {@code package-P/core} (AMD: the core of the CPU read for that package, not all its
   * cores); registers that could not be read at open are absent. Call it from the sampling thread.
   *
   * <pre>{@code
   * msr.detailJoules().get("package-0/pp0"); // cores of package 0, already inside package-0
   * }</pre>
   *
   * @return a new ordered map
   */
  @Override
  public Map<String, Double> detailJoules() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (Counter c : detail) {
      m.put(c.key, update(c));
    }
    return m;
  }

  /**
   * Returns the time one of this source's counters takes to wrap at the given power: 2<sup>32</sup>
   * steps × the smallest unit in use ÷ watts. Samples must come more often than this, with a
   * margin, or whole wraps are lost. E.g. ESU = 14 at 200 W: 262,144 J / 200 W = 1310.72 s.
   *
   * @param assumedMaxWatts the highest power any one counter may see, in watts
   * @return nanoseconds, {@link Long#MAX_VALUE} when the source reads no counter
   * @throws IllegalArgumentException when the power is not positive and finite
   */
  public long maxSafeIntervalNanos(double assumedMaxWatts) {
    if (!(assumedMaxWatts > 0) || Double.isInfinite(assumedMaxWatts)) {
      throw new IllegalArgumentException(
          "assumedMaxWatts must be positive, not " + assumedMaxWatts);
    }
    double unit = Double.MAX_VALUE;
    for (Counter[] list : new Counter[][] {counted, detail}) {
      for (Counter c : list) {
        unit = Math.min(unit, c.unitJoules);
      }
    }
    if (unit == Double.MAX_VALUE) {
      return Long.MAX_VALUE;
    }
    double nanos = Math.scalb(unit, COUNTER_BITS) / assumedMaxWatts * 1e9;
    return nanos >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) nanos;
  }

  /** A power no package reaches, for {@link #maxSafeIntervalNanos()}. */
  static final double ASSUMED_MAX_WATTS = 1000;

  /** Typical cost of reading one register through the msr driver (an interrupt to that CPU). */
  static final long REGISTER_READ_NANOS = 2_000;

  /**
   * Half a wrap period at {@value #ASSUMED_MAX_WATTS} W, a power no package reaches: see {@link
   * #maxSafeIntervalNanos(double)}.
   */
  @Override
  public long maxSafeIntervalNanos() {
    long wrap = maxSafeIntervalNanos(ASSUMED_MAX_WATTS);
    return wrap == Long.MAX_VALUE ? wrap : wrap / 2;
  }

  /** Reads every counted register: about {@value #REGISTER_READ_NANOS} ns each. */
  @Override
  public long readCostNanos() {
    return REGISTER_READ_NANOS * counted.length;
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
  public void close() {
    closeAll(channels);
  }

  private static void closeAll(List<FileChannel> channels) {
    for (FileChannel ch : channels) {
      try {
        ch.close();
      } catch (IOException | RuntimeException e) {
        // closing a read-only file cannot lose data; nothing to report
      }
    }
  }
}

package io.jouletrace.sources.msr;

import io.jouletrace.sources.Diagnostics;
import io.jouletrace.sources.cpu.CpuIdentity;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fake {@code /dev/cpu/N/msr} files and {@code /sys/devices/system/cpu} trees for tests.
 *
 * <p>Register numbers are spelled out here again, from the vendor manuals, rather than taken from
 * the code under test. MSR files are sparse ({@link RandomAccessFile#setLength}), so AMD registers
 * near 0xC001029B (3.2 GB) cost no disk.
 *
 * <p>The real driver takes the file offset as a register <em>index</em>, so registers never overlap
 * there. In a plain file they are byte addresses: Intel's are at least 8 apart, but AMD's
 * 0xC0010299, 0xC001029A and 0xC001029B are 1 apart and share bytes. AMD tests therefore write the
 * registers in a known order and read back what the other registers became with {@link #get32}.
 */
final class MsrFakes {

  static final long INTEL_UNITS = 0x606;
  static final long INTEL_PKG = 0x611;
  static final long INTEL_DRAM = 0x619;
  static final long INTEL_PP0 = 0x639;
  static final long INTEL_PP1 = 0x641;
  static final long INTEL_PLATFORM = 0x64D;
  static final long AMD_UNITS = 0xC0010299L;
  static final long AMD_CORE = 0xC001029AL;
  static final long AMD_PKG = 0xC001029BL;

  /** A client part (Skylake desktop, family 6 model 0x5E): DRAM, where present, in the ESU. */
  static final CpuIdentity INTEL_CLIENT = new CpuIdentity("GenuineIntel", 6, 0x5E);

  /** An AMD Zen 2 part (family 0x17 model 0x31). */
  static final CpuIdentity AMD_ZEN = new CpuIdentity("AuthenticAMD", 0x17, 0x31);

  /** Enough for every Intel register above. */
  static final long INTEL_FILE_LENGTH = 0x700;

  private MsrFakes() {}

  /**
   * A units register value as hardware reports it: power unit 3 (bits 3:0), the given energy status
   * unit (bits 12:8), time unit 10 (bits 19:16).
   */
  static long units(int esu) {
    return 0x3L | ((long) esu << 8) | (0xAL << 16);
  }

  /** Creates {@code cpuN/topology/physical_package_id} under {@code sys}. */
  static void cpu(Path sys, int cpu, int pkg) throws IOException {
    Path topo = Files.createDirectories(sys.resolve("cpu" + cpu).resolve("topology"));
    Files.writeString(topo.resolve("physical_package_id"), pkg + "\n");
  }

  /** Creates an all-zero sparse {@code N/msr} file of the given length under {@code dev}. */
  static Path msr(Path dev, int cpu, long length) throws IOException {
    Path file = Files.createDirectories(dev.resolve(Integer.toString(cpu))).resolve("msr");
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
    return file;
  }

  /** Writes a register: 8 bytes, little-endian, at offset = register. */
  static void put(Path msr, long register, long value) throws IOException {
    byte[] bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    try (RandomAccessFile f = new RandomAccessFile(msr.toFile(), "rw")) {
      f.seek(register);
      f.write(bytes);
    }
  }

  /** Reads the low 32 bits of a register as the test itself sees the file. */
  static long get32(Path msr, long register) throws IOException {
    byte[] bytes = new byte[4];
    try (RandomAccessFile f = new RandomAccessFile(msr.toFile(), "r")) {
      f.seek(register);
      f.readFully(bytes);
    }
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFF_FFFFL;
  }

  /** Cuts a file to the given length, as a disappearing or broken device would read. */
  static void truncate(Path msr, long length) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(msr.toFile(), "rw")) {
      f.setLength(length);
    }
  }

  /** Records every warning as {@code key|message}, without de-duplication. */
  static final class Recorder implements Diagnostics {
    final List<String> calls = new ArrayList<>();

    @Override
    public void warn(String key, String message) {
      calls.add(key + "|" + message);
    }

    long count(String key) {
      return calls.stream().filter(c -> c.startsWith(key + "|")).count();
    }
  }
}

package io.jouletrace.sources;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads the small text files of sysfs and procfs that a sampler reads many times a second, without
 * a decoder, a string or a regular expression per read.
 *
 * <p>{@link #reread} keeps such a file open and reads it from its start each time: procfs and sysfs
 * produce a file's content anew at every read from offset 0, so a read is one {@code pread} instead
 * of an open, a read and a close (and the channel, stream and cleaner that Java builds around
 * them), which were most of the sampler's CPU time on an idle application. A file on any other file
 * system (a fake tree in a test, which its writer may replace by renaming a new file over it) is
 * opened at each read, as a file kept open would go on reading the replaced one.
 */
public final class SmallFiles {

  /** Files kept open at most; beyond them, files are opened per read. */
  static final int MAX_KEPT = 256;

  /** Per file read with {@link #reread}: its channel, or {@link #PER_READ}. */
  private static final Map<Path, Object> KEPT = new HashMap<>();

  private static final Object PER_READ = new Object();

  /** Where Linux mounts procfs and sysfs. */
  private static final Path PROC = Path.of("/proc");

  private static final Path SYS = Path.of("/sys");

  private static ByteBuffer buffer = ByteBuffer.allocate(1024);

  private SmallFiles() {}

  /**
   * Reads the start of a file that is read again and again, keeping it open where its content is
   * produced at each read (procfs, sysfs).
   *
   * @param file the file
   * @param max most bytes to read
   * @return up to {@code max} bytes from its start
   * @throws IOException when it cannot be read
   */
  public static byte[] reread(Path file, int max) throws IOException {
    synchronized (KEPT) {
      Object kept = KEPT.get(file);
      if (kept == null) {
        kept = KEPT.size() < MAX_KEPT && generated(file) ? open(file) : PER_READ;
        KEPT.put(file, kept);
      }
      if (kept instanceof FileChannel channel) {
        if (buffer.capacity() < max) {
          buffer = ByteBuffer.allocate(max);
        }
        buffer.clear().limit(max);
        try {
          // One read: the kernel hands out what it produced up to the count asked for.
          int n = Math.max(0, channel.read(buffer, 0));
          return Arrays.copyOf(buffer.array(), n);
        } catch (IOException e) {
          KEPT.remove(file); // closed (an interrupt closes a channel), or gone: open it again
          close(channel);
        }
      }
    }
    return head(file, max);
  }

  /**
   * Closes a file {@link #reread} keeps open; the next read opens it again.
   *
   * @param file the file
   */
  public static void forget(Path file) {
    Object kept;
    synchronized (KEPT) {
      kept = KEPT.remove(file);
    }
    if (kept instanceof FileChannel channel) {
      close(channel);
    }
  }

  /** Whether {@link #reread} keeps the file open (tests). */
  static boolean kept(Path file) {
    synchronized (KEPT) {
      return KEPT.get(file) instanceof FileChannel;
    }
  }

  /**
   * Whether the kernel produces the file's content at each read: a file under {@code /proc} or
   * {@code /sys}, where Linux mounts procfs and sysfs, once links are followed (sysfs's own {@code
   * /sys/class/powercap/intel-rapl:0} is a link into {@code /sys/devices}; a link from elsewhere
   * into {@code /sys} is read as what it points to). Asking the file store for its type costs 3 to
   * 8 ms at start-up, in {@code premain}; following the links is one {@code realpath}.
   */
  static boolean generated(Path file) {
    Path p;
    try {
      p = file.toRealPath();
    } catch (IOException | RuntimeException e) {
      p = file.toAbsolutePath().normalize();
    }
    return p.startsWith(PROC) || p.startsWith(SYS);
  }

  private static Object open(Path file) {
    try {
      return FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException | RuntimeException e) {
      return PER_READ;
    }
  }

  private static void close(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // nothing was written through it
    }
  }

  /**
   * Reads the start of a file.
   *
   * @param file the file
   * @param max most bytes to read (a file in /proc or /sys is produced in one read)
   * @return up to {@code max} bytes from its start
   * @throws IOException when it cannot be read
   */
  public static byte[] head(Path file, int max) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(max);
    }
  }

  /**
   * Reads a file that holds one decimal number, as a counter file does ({@link #reread}).
   *
   * @param file the file
   * @return the number
   * @throws IOException when it cannot be read
   * @throws NumberFormatException when it holds anything else than a number between blanks
   */
  public static long number(Path file) throws IOException {
    byte[] b = reread(file, 64);
    int from = 0;
    int to = b.length;
    while (from < to && Character.isWhitespace(b[from])) {
      from++;
    }
    while (to > from && Character.isWhitespace(b[to - 1])) {
      to--;
    }
    boolean negative = from < to && b[from] == '-';
    int at = negative ? from + 1 : from;
    if (at == to || to - at > 18) {
      throw new NumberFormatException("not a number in " + file);
    }
    long v = 0;
    for (; at < to; at++) {
      if (b[at] < '0' || b[at] > '9') {
        throw new NumberFormatException("not a number in " + file);
      }
      v = v * 10 + (b[at] - '0');
    }
    return negative ? -v : v;
  }
}

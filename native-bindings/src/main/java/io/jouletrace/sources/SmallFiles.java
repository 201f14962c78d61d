package io.jouletrace.sources;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the small text files of sysfs and procfs that a sampler reads many times a second, without
 * a decoder, a string or a regular expression per read.
 */
public final class SmallFiles {

  private SmallFiles() {}

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
   * Reads a file that holds one decimal number, as a counter file does.
   *
   * @param file the file
   * @return the number
   * @throws IOException when it cannot be read
   * @throws NumberFormatException when it holds anything else than a number between blanks
   */
  public static long number(Path file) throws IOException {
    byte[] b = head(file, 64);
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

package io.jouletrace.exporter;

import io.jouletrace.sources.cpu.SelfProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a file whole or not at all: the text goes to a temporary file beside it, which is then
 * renamed over it, so that a reader (a dashboard, a CI step, Prometheus' file discovery) never sees
 * half a file.
 *
 * <p>The temporary name is this process's id and a counter, created exclusively: {@link
 * Files#createTempFile} names its files with {@code SecureRandom}, whose start loads the security
 * providers, about 25 ms on a short job's exit path.
 */
final class AtomicWrite {

  private static final long PID = SelfProcess.pid();
  private static final AtomicLong NEXT = new AtomicLong(System.nanoTime());

  private AtomicWrite() {}

  /**
   * Writes {@code text} to {@code file} in UTF-8.
   *
   * @param file the destination; its folder must exist
   * @param text the content
   * @param suffix the temporary file's suffix, e.g. {@code .json.tmp}
   * @throws IOException when the folder cannot be written
   */
  static void write(Path file, String text, String suffix) throws IOException {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent() != null ? abs.getParent() : abs.getFileSystem().getPath(".");
    Path tmp = create(dir, suffix);
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static Path create(Path dir, String suffix) throws IOException {
    for (int attempt = 0; ; attempt++) {
      Path tmp =
          dir.resolve(
              ".jouletrace-" + PID + "-" + Long.toHexString(NEXT.getAndIncrement()) + suffix);
      try {
        return Files.write(tmp, new byte[0], StandardOpenOption.CREATE_NEW);
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw e; // another writer keeps taking the same names: not a race that ends
        }
      }
    }
  }
}

package io.jouletrace.exporter;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Prometheus file-based service discovery target file ({@code file_sd_configs}) for one JVM's
 * endpoint: {@code [{"targets": ["host:port"], "labels": {...}}]}, named {@code
 * jouletrace-<host>-<pid>.json}, so that any number of JVMs on any number of hosts can share one
 * folder.
 *
 * <p>The file is written under a name Prometheus does not read ({@code .<name>.tmp}) and then moved
 * into place atomically, so Prometheus never sees half a file; it is deleted at exit. A JVM killed
 * with SIGKILL leaves its file behind: Prometheus keeps scraping the dead address ({@code up} is 0)
 * until the file goes; the next agent started on that host with the same folder removes files of
 * its host whose process is gone ({@link #removeStale}).
 */
public final class FileSdTarget {

  private static final Pattern NAME = Pattern.compile("jouletrace-(.+)-(\\d+)\\.json");

  private FileSdTarget() {}

  /**
   * Returns the file name for a JVM.
   *
   * @param host host name, as in the file's target
   * @param pid process id
   * @return e.g. {@code jouletrace-node1-4242.json}
   */
  public static String fileName(String host, long pid) {
    return "jouletrace-" + host.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + pid + ".json";
  }

  /**
   * Renders the file's content.
   *
   * @param address {@code host:port} Prometheus scrapes
   * @param labels target labels ({@code stage} and the job labels)
   * @return the JSON text, ending with a newline
   */
  public static String render(String address, Map<String, String> labels) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = JsonOutput.generator(out)) {
      g.writeStartArray();
      g.writeStartObject();
      g.writeArrayFieldStart("targets");
      g.writeString(address);
      g.writeEndArray();
      g.writeObjectFieldStart("labels");
      for (Map.Entry<String, String> e : labels.entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
      g.writeEndObject();
      g.writeEndArray();
    } catch (IOException e) {
      throw new IllegalStateException(e); // a StringWriter does not fail
    }
    return out + "\n";
  }

  /**
   * Writes the target file atomically (a temporary file in the same folder, then a move).
   *
   * @param dir the folder Prometheus watches; created when missing
   * @param host host name for the file name
   * @param pid process id for the file name
   * @param address {@code host:port}
   * @param labels target labels
   * @return the file written
   * @throws IOException when the folder cannot be created or written
   */
  public static Path write(
      Path dir, String host, long pid, String address, Map<String, String> labels)
      throws IOException {
    Files.createDirectories(dir);
    String name = fileName(host, pid);
    Path target = dir.resolve(name);
    Path tmp = dir.resolve("." + name + ".tmp");
    Files.writeString(tmp, render(address, labels), StandardCharsets.UTF_8);
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    return target;
  }

  /**
   * Deletes the target files of this host whose process is gone (left by a JVM killed with
   * SIGKILL). Files of other hosts are left alone: their processes cannot be seen from here.
   *
   * @param dir the folder
   * @param host this host's name, as in the file names
   * @param alive tells whether a process id of this host is running
   * @return the files removed
   */
  public static List<Path> removeStale(Path dir, String host, LongPredicate alive) {
    List<Path> removed = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return removed;
    }
    String prefix = "jouletrace-" + host.replaceAll("[^A-Za-z0-9._-]", "_") + "-";
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "jouletrace-*.json")) {
      for (Path f : files) {
        String n = f.getFileName().toString();
        Matcher m = NAME.matcher(n);
        if (m.matches() && n.equals(prefix + m.group(2) + ".json")) {
          long pid = Long.parseLong(m.group(2));
          if (!alive.test(pid) && Files.deleteIfExists(f)) {
            removed.add(f);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // Best effort: a file another agent removed first, or a folder not readable.
    }
    return removed;
  }

  /**
   * Lists the process ids of this host's live target files, other than {@code self}.
   *
   * @param dir the folder
   * @param host this host's name
   * @param self this process's id
   * @param alive tells whether a process id of this host is running
   * @return process ids of other live JVMs that wrote a target file
   */
  public static List<Long> livePeers(Path dir, String host, long self, LongPredicate alive) {
    List<Long> peers = new ArrayList<>();
    if (dir == null || !Files.isDirectory(dir)) {
      return peers;
    }
    String prefix = "jouletrace-" + host.replaceAll("[^A-Za-z0-9._-]", "_") + "-";
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "jouletrace-*.json")) {
      for (Path f : files) {
        String n = f.getFileName().toString();
        Matcher m = NAME.matcher(n);
        if (m.matches() && n.equals(prefix + m.group(2) + ".json")) {
          long pid = Long.parseLong(m.group(2));
          if (pid != self && alive.test(pid)) {
            peers.add(pid);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // Best effort.
    }
    return peers;
  }
}

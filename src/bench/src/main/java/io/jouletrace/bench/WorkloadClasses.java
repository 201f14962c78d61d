package io.jouletrace.bench;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * A class directory holding only a workload and the public API, copied out of the benchmarks jar,
 * so that a JVM started on it finds no bridge without the agent, as a real application does (the
 * jar also holds the agent's classes, whose bridge would shadow the agent's own).
 */
final class WorkloadClasses {

  private WorkloadClasses() {}

  /**
   * Copies the workload class (with its nested and lambda classes) and the public API.
   *
   * @param dir the class directory to fill
   * @param workload the workload's main class
   * @return {@code dir}
   */
  static Path extract(Path dir, Class<?> workload) throws Exception {
    Path jar = Path.of(workload.getProtectionDomain().getCodeSource().getLocation().toURI());
    String name = workload.getName().replace('.', '/');
    try (JarFile j = new JarFile(jar.toFile())) {
      for (Enumeration<JarEntry> e = j.entries(); e.hasMoreElements(); ) {
        JarEntry entry = e.nextElement();
        String n = entry.getName();
        boolean wanted =
            n.endsWith(".class")
                && (n.startsWith("io/jouletrace/api/")
                    || n.equals(name + ".class")
                    || n.startsWith(name + "$"));
        if (wanted) {
          Path target = dir.resolve(n);
          Files.createDirectories(target.getParent());
          try (InputStream in = j.getInputStream(entry)) {
            Files.copy(in, target);
          }
        }
      }
    }
    return dir;
  }
}

package io.jouletrace.agent.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentClassLoaderTest {

  @TempDir Path tmp;

  @Test
  void resourcesAreReadFromTheJarAsTheirUrlReadsThem() throws Exception {
    Path jarPath = tmp.resolve("agent.jar");
    byte[] table = "model,watts\nEPYC,280\n".getBytes(StandardCharsets.UTF_8);
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jarPath))) {
      put(out, AgentClassLoader.PREFIX + "io/acme/table.csv", table);
      put(out, "outside.txt", "not the agent's".getBytes(StandardCharsets.UTF_8));
    }
    try (JarFile jar = new JarFile(jarPath.toFile())) {
      AgentClassLoader loader =
          new AgentClassLoader(
              jar, jarPath.toUri().toURL(), AgentClassLoaderTest.class.getClassLoader());
      byte[] direct;
      try (InputStream in = loader.getResourceAsStream("io/acme/table.csv")) {
        direct = in.readAllBytes();
      }
      URL url = loader.getResource("io/acme/table.csv");
      assertThat(url).isNotNull();
      byte[] viaUrl;
      try (InputStream in = url.openStream()) {
        viaUrl = in.readAllBytes();
      }
      assertThat(direct).isEqualTo(table).isEqualTo(viaUrl);
      // only the agent's folder is the loader's: names outside it, or absent, are not found there
      assertThat(loader.getResourceAsStream("outside.txt")).isNull();
      assertThat(loader.getResourceAsStream("io/acme/missing.csv")).isNull();
      // names the parent holds still come from it
      try (InputStream in = loader.getResourceAsStream("java/lang/Object.class")) {
        assertThat(in).isNotNull();
      }
    }
  }

  /** A class the platform loader cannot see, defined from its bytes in the jar. */
  public static final class Sample {
    @Override
    public String toString() {
      return "sample";
    }
  }

  @Test
  void classesAreDefinedFromTheirBytesWhetherStoredOrDeflated() throws Exception {
    String name = Sample.class.getName();
    byte[] bytes;
    try (InputStream in =
        AgentClassLoaderTest.class.getResourceAsStream("/" + name.replace('.', '/') + ".class")) {
      bytes = in.readAllBytes();
    }
    for (int method : new int[] {ZipEntry.DEFLATED, ZipEntry.STORED}) {
      Path jarPath = tmp.resolve("agent-" + method + ".jar");
      try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jarPath))) {
        JarEntry e =
            new JarEntry(
                AgentClassLoader.PREFIX + name.replace('.', '/') + AgentClassLoader.CLASS_SUFFIX);
        e.setMethod(method);
        if (method == ZipEntry.STORED) {
          CRC32 crc = new CRC32();
          crc.update(bytes);
          e.setSize(bytes.length);
          e.setCrc(crc.getValue());
        }
        out.putNextEntry(e);
        out.write(bytes);
        out.closeEntry();
      }
      try (JarFile jar = new JarFile(jarPath.toFile(), false)) {
        AgentClassLoader loader =
            new AgentClassLoader(
                jar, jarPath.toUri().toURL(), AgentClassLoaderTest.class.getClassLoader());
        Class<?> c = loader.loadClass(name);
        assertThat(c.getClassLoader()).as("method %d", method).isSameAs(loader);
        assertThat(c).isNotSameAs(Sample.class);
        assertThat(c.getDeclaredConstructor().newInstance()).hasToString("sample");
      }
    }
  }

  /** A parent that notes the names it is asked for. */
  private static final class NotingParent extends ClassLoader {
    final java.util.List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();

    NotingParent() {
      super(ClassLoader.getPlatformClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      asked.add(name);
      return super.loadClass(name, resolve);
    }
  }

  /**
   * A class the jar holds is defined without asking the parent, which would answer with a {@link
   * ClassNotFoundException} (a stack trace filled in for each of the agent's classes); JDK classes,
   * and names the jar does not hold, still come from the parent.
   */
  @Test
  void classesInTheJarAreDefinedWithoutAskingTheParent() throws Exception {
    String name = Sample.class.getName();
    byte[] bytes;
    try (InputStream in =
        AgentClassLoaderTest.class.getResourceAsStream("/" + name.replace('.', '/') + ".class")) {
      bytes = in.readAllBytes();
    }
    Path jarPath = tmp.resolve("agent.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jarPath))) {
      put(
          out,
          AgentClassLoader.PREFIX + name.replace('.', '/') + AgentClassLoader.CLASS_SUFFIX,
          bytes);
    }
    NotingParent parent = new NotingParent();
    try (JarFile jar = new JarFile(jarPath.toFile(), false)) {
      AgentClassLoader loader =
          new AgentClassLoader(
              jar, jarPath.toUri().toURL(), AgentClassLoaderTest.class.getClassLoader(), parent);
      Class<?> c = loader.loadClass(name);
      assertThat(c.getClassLoader()).isSameAs(loader);
      assertThat(loader.loadClass(name)).isSameAs(c);
      assertThat(c.getDeclaredConstructor().newInstance()).hasToString("sample");
      assertThat(parent.asked).doesNotContain(name);
      assertThat(loader.loadClass("java.util.List")).isSameAs(java.util.List.class);
      assertThat(loader.loadClass("java.sql.Connection").getClassLoader())
          .isSameAs(ClassLoader.getPlatformClassLoader());
      assertThat(parent.asked).contains("java.util.List", "java.sql.Connection");
      assertThatThrownBy(() -> loader.loadClass("io.acme.Missing"))
          .isInstanceOf(ClassNotFoundException.class)
          .hasMessageContaining("io.acme.Missing");
      assertThat(parent.asked).contains("io.acme.Missing");
    }
  }

  @Test
  void aClassFileIsReadIntoAnArrayOfTheSizeTheJarGivesAndChecked() throws Exception {
    byte[] data = new byte[20_000];
    new java.util.Random(7).nextBytes(data);
    assertThat(AgentClassLoader.read(new ByteArrayInputStream(data), data.length)).isEqualTo(data);
    assertThat(AgentClassLoader.read(new ByteArrayInputStream(data), -1)).isEqualTo(data);
    assertThatThrownBy(() -> AgentClassLoader.read(new ByteArrayInputStream(data), 20_001))
        .isInstanceOf(EOFException.class)
        .hasMessageContaining("20000 of 20001");
    assertThatThrownBy(() -> AgentClassLoader.read(new ByteArrayInputStream(data), 19_999))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("longer");
  }

  private static void put(OutputStream out, String name, byte[] data) throws Exception {
    JarOutputStream jar = (JarOutputStream) out;
    jar.putNextEntry(new JarEntry(name));
    jar.write(data);
    jar.closeEntry();
  }
}

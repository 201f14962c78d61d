package io.jouletrace.agent.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
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

  private static void put(OutputStream out, String name, byte[] data) throws Exception {
    JarOutputStream jar = (JarOutputStream) out;
    jar.putNextEntry(new JarEntry(name));
    jar.write(data);
    jar.closeEntry();
  }
}

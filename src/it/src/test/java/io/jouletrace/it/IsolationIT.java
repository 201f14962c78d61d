package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's libraries never meet the application's. */
class IsolationIT {

  @Test
  void applicationKeepsItsOwnLibraryVersions(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("r.json");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .agent("prometheus.port=0,report.json=" + report)
            .arg(
                "-cp", ForkedJvm.appClassPath(ForkedJvm.LIBS), "io.jouletrace.it.apps.IsolationApp")
            .run(60);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout())
        .contains("bytebuddy byte-buddy-1.14.12.jar made app.Made")
        .contains("jna 5.13.0")
        .contains("jackson 2.17.2 {\"a\":1}")
        .contains("prometheus prometheus-metrics-core-1.3.10.jar 1");
    assertThat(r.stderr())
        .doesNotContain(
            "LinkageError",
            "NoSuchMethod",
            "ClassCastException",
            "could not instrument",
            "agent not started");
    assertThat(Files.readString(report)).contains("\"name\" : \"own-libraries\"");
  }

  @Test
  void agentJarExposesOnlyBootClassesAndTheBridge() throws Exception {
    List<String> unexpected = new ArrayList<>();
    List<String> deflated = new ArrayList<>();
    int inst = 0;
    try (JarFile jar = new JarFile(ForkedJvm.AGENT_JAR.toFile())) {
      for (JarEntry e : java.util.Collections.list(jar.entries())) {
        String n = e.getName();
        if (e.getMethod() != java.util.zip.ZipEntry.STORED) {
          deflated.add(n);
        }
        if (n.startsWith("inst/")) {
          inst++;
          if (n.endsWith(".class")) {
            unexpected.add(n);
          }
        } else if (!(n.startsWith("META-INF/")
            || n.startsWith("io/jouletrace/agent/boot/")
            || n.startsWith("io/jouletrace/bridge/")
            || n.equals("io/")
            || n.equals("io/jouletrace/")
            || n.equals("io/jouletrace/agent/"))) {
          unexpected.add(n);
        }
      }
      assertThat(jar.getManifest().getMainAttributes().getValue("Premain-Class"))
          .isEqualTo("io.jouletrace.agent.boot.AgentEntry");
      assertThat(jar.getManifest().getMainAttributes().getValue("Agent-Class"))
          .isEqualTo("io.jouletrace.agent.boot.AgentEntry");
      assertThat(jar.getManifest().getMainAttributes().getValue("Can-Retransform-Classes"))
          .isEqualTo("true");
      // of Byte Buddy, only the ASM it ships: the weaver's and the gate's
      assertThat(jar.getEntry("inst/net/bytebuddy/jar/asm/ClassWriter.classdata")).isNotNull();
      assertThat(jar.getEntry("inst/net/bytebuddy/ByteBuddy.classdata")).isNull();
      assertThat(jar.getEntry("inst/com/sun/jna/Native.classdata")).isNotNull();
      assertThat(jar.getEntry("inst/oshi/SystemInfo.classdata")).isNotNull();
    }
    assertThat(unexpected).isEmpty();
    assertThat(inst).isGreaterThan(1000);
    // Stored: inflating the classes a JVM loads at each start cost more CPU than reading them.
    assertThat(deflated).as("deflated entries").isEmpty();
  }
}

package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts a JVM with the real agent jar, as a user would, and collects what it printed. */
final class ForkedJvm {

  static final Path AGENT_JAR = Path.of(System.getProperty("jouletrace.it.agentJar"));
  static final Path DJL_JAR = Path.of(System.getProperty("jouletrace.it.djlJar"));
  static final Path API_JAR = Path.of(System.getProperty("jouletrace.it.apiJar"));
  static final Path CLASSES = Path.of(System.getProperty("jouletrace.it.classes"));
  static final String LIBS = System.getProperty("jouletrace.it.libs", "");
  static final Path FAKE_NVML = Path.of(System.getProperty("jouletrace.it.fakeNvml"));

  private final List<String> command = new ArrayList<>();
  private final Map<String, String> env = new HashMap<>();
  private Path dir;

  ForkedJvm(Path dir) {
    this(dir, javaExecutable());
  }

  ForkedJvm(Path dir, String java) {
    this.dir = dir;
    command.add(java);
  }

  /** The java of this test JVM, or of {@code jouletrace.it.javaHome} when set (e.g. Java 25). */
  static String javaExecutable() {
    String home = System.getProperty("jouletrace.it.javaHome", System.getProperty("java.home"));
    return Path.of(home, "bin", "java").toString();
  }

  ForkedJvm agent(String args) {
    command.add("-javaagent:" + AGENT_JAR + (args.isEmpty() ? "" : "=" + args));
    return this;
  }

  ForkedJvm arg(String... args) {
    command.addAll(List.of(args));
    return this;
  }

  ForkedJvm env(String name, String value) {
    env.put(name, value);
    return this;
  }

  /** Removes a variable this JVM's environment would pass on. */
  ForkedJvm unsetEnv(String name) {
    env.put(name, null);
    return this;
  }

  /** Class path of the test applications: their classes, the API jar and the given extra jars. */
  static String appClassPath(String... extra) {
    List<String> parts = new ArrayList<>();
    parts.add(CLASSES.toString());
    parts.add(API_JAR.toString());
    parts.addAll(List.of(extra));
    return String.join(File.pathSeparator, parts);
  }

  Result run(long timeoutSeconds) throws IOException, InterruptedException {
    return start().await(timeoutSeconds);
  }

  Running start() throws IOException {
    Path out = Files.createTempFile(dir, "stdout", ".txt");
    Path err = Files.createTempFile(dir, "stderr", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    env.forEach(
        (k, v) -> {
          if (v == null) {
            pb.environment().remove(k);
          } else {
            pb.environment().put(k, v);
          }
        });
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    return new Running(pb.start(), out, err);
  }

  record Running(Process process, Path out, Path err) {
    Result await(long timeoutSeconds) throws IOException, InterruptedException {
      boolean done = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
      if (!done) {
        process.destroyForcibly();
      }
      Result r =
          new Result(
              done ? process.exitValue() : -1,
              Files.readString(out, StandardCharsets.UTF_8),
              Files.readString(err, StandardCharsets.UTF_8));
      assertThat(done).as("JVM finished in %d s; stderr:%n%s", timeoutSeconds, r.stderr()).isTrue();
      return r;
    }
  }

  record Result(int exitCode, String stdout, String stderr) {}
}

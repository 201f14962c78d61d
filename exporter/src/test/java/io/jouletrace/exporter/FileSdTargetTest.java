package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSdTargetTest {

  @Test
  void rendersPrometheusFileSdJson() {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("stage", "inference");
    labels.put("app", "app-1");
    labels.put("executor", "2");
    assertThat(FileSdTarget.render("node-1:9465", labels))
        .isEqualTo(
            "[{\"targets\":[\"node-1:9465\"],\"labels\":{\"stage\":\"inference\",\"app\":\"app-1\","
                + "\"executor\":\"2\"}}]\n");
  }

  @Test
  void writesUnderAHostAndPidNameWithoutLeavingATemporaryFile(@TempDir Path dir)
      throws IOException {
    Path sd = dir.resolve("targets/spark"); // created when missing
    Path f = FileSdTarget.write(sd, "node/1", 4242, "127.0.0.1:9464", Map.of("app", "a"));
    assertThat(f.getFileName().toString()).isEqualTo("jouletrace-node_1-4242.json");
    assertThat(Files.readString(f)).contains("\"127.0.0.1:9464\"", "\"app\":\"a\"");
    try (var files = Files.list(sd)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactly(f.getFileName().toString());
    }
    // Rewriting replaces in place.
    FileSdTarget.write(sd, "node/1", 4242, "127.0.0.1:9465", Map.of());
    assertThat(Files.readString(f)).contains("9465").doesNotContain("9464");
  }

  @Test
  void unwritableFolderIsAnIoException(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
    assertThatThrownBy(() -> FileSdTarget.write(file, "h", 1, "h:1", Map.of()))
        .isInstanceOf(IOException.class);
  }

  @Test
  void staleFilesOfThisHostGoOthersStay(@TempDir Path dir) throws IOException {
    FileSdTarget.write(dir, "h1", 10, "h1:1", Map.of()); // dead
    FileSdTarget.write(dir, "h1", 11, "h1:2", Map.of()); // alive
    FileSdTarget.write(dir, "h2", 12, "h2:1", Map.of()); // other host: unknown, kept
    FileSdTarget.write(dir, "h1-x", 13, "h1-x:1", Map.of()); // another host whose name extends h1
    Files.writeString(dir.resolve("prometheus.yml"), "x"); // not ours
    Set<Long> alive = Set.of(11L);
    assertThat(FileSdTarget.removeStale(dir, "h1", alive::contains))
        .extracting(p -> p.getFileName().toString())
        .containsExactly("jouletrace-h1-10.json");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder(
              "jouletrace-h1-11.json",
              "jouletrace-h2-12.json",
              "jouletrace-h1-x-13.json",
              "prometheus.yml");
    }
    assertThat(FileSdTarget.livePeers(dir, "h1", 99, p -> true)).containsExactly(11L);
    assertThat(FileSdTarget.livePeers(dir, "h1", 11, p -> true)).isEmpty();
    assertThat(FileSdTarget.livePeers(null, "h1", 11, p -> true)).isEmpty();
  }
}

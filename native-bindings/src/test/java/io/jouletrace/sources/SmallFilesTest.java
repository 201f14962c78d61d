package io.jouletrace.sources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmallFilesTest {

  @Test
  void aCounterFileIsOneNumberBetweenBlanks(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("energy_uj");
    Files.writeString(f, "262143328850\n");
    assertThat(SmallFiles.number(f)).isEqualTo(262_143_328_850L);
    Files.writeString(f, "  7 \n");
    assertThat(SmallFiles.number(f)).isEqualTo(7);
    Files.writeString(f, "-3\n");
    assertThat(SmallFiles.number(f)).isEqualTo(-3);
    for (String bad :
        new String[] {"", "\n", "12a\n", "1 2\n", "abc", "-", "9999999999999999999"}) {
      Files.writeString(f, bad);
      assertThatThrownBy(() -> SmallFiles.number(f))
          .as(bad)
          .isInstanceOf(NumberFormatException.class)
          .hasMessageContaining(f.toString());
    }
    assertThatThrownBy(() -> SmallFiles.number(dir.resolve("missing")))
        .isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void headReadsAtMostTheBytesAsked(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("stat");
    Files.writeString(f, "cpu  1 2 3 4\ncpu0 1 2 3 4\n");
    assertThat(new String(SmallFiles.head(f, 12), "US-ASCII")).isEqualTo("cpu  1 2 3 4");
    assertThat(SmallFiles.head(f, 1000)).hasSize(26);
  }
}

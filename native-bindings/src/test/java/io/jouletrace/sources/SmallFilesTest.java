package io.jouletrace.sources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Assumptions;
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

  /** The first number of /proc/uptime: seconds since boot, in hundredths. */
  private static double uptime(byte[] b) {
    String s = new String(b, StandardCharsets.US_ASCII);
    return Double.parseDouble(s.substring(0, s.indexOf(' ')));
  }

  @Test
  void aProcFileIsKeptOpenAndItsContentIsProducedAnewAtEachRead() throws Exception {
    Path file = Path.of("/proc/uptime");
    Assumptions.assumeTrue(Files.isReadable(file), "no procfs");
    double first = uptime(SmallFiles.reread(file, 64));
    assertThat(SmallFiles.kept(file)).isTrue();
    Thread.sleep(120);
    double second = uptime(SmallFiles.reread(file, 64));
    // an independent read, opened afresh, right after
    double fresh = uptime(Files.readAllBytes(file));
    assertThat(second - first).isBetween(0.1, 5.0);
    assertThat(fresh - second).isBetween(0.0, 0.05);
    // a read on an interrupted thread closes the channel: the next read opens it again
    Thread.currentThread().interrupt();
    try {
      SmallFiles.reread(file, 64);
    } catch (IOException expected) {
      // the stream opened in its place is interruptible too
    } finally {
      Thread.interrupted();
    }
    assertThat(uptime(SmallFiles.reread(file, 64))).isGreaterThanOrEqualTo(second);
    assertThat(SmallFiles.kept(file)).isTrue();
    SmallFiles.forget(file);
    assertThat(SmallFiles.kept(file)).isFalse();
  }

  @Test
  void aFileOnAnOrdinaryFileSystemIsOpenedAtEachReadSoAReplacedOneIsSeen(@TempDir Path dir)
      throws Exception {
    Path f = dir.resolve("energy_uj");
    Files.writeString(f, "1\n");
    assertThat(SmallFiles.number(f)).isEqualTo(1);
    assertThat(SmallFiles.kept(f)).isFalse();
    // a fake tree's writer renames a new file over the old one
    Path tmp = dir.resolve("energy_uj.tmp");
    Files.writeString(tmp, "2\n");
    Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    assertThat(SmallFiles.number(f)).isEqualTo(2);
  }

  @Test
  void aLinkIntoProcIsKeptOpenAsTheFileItPointsTo(@TempDir Path dir) throws Exception {
    Path target = Path.of("/proc/uptime");
    Assumptions.assumeTrue(Files.isReadable(target), "no procfs");
    Path link = Files.createSymbolicLink(dir.resolve("energy_uj"), target);
    Path plain = Files.writeString(dir.resolve("plain"), "7\n");
    assertThat(SmallFiles.generated(link)).isTrue();
    assertThat(SmallFiles.generated(plain)).isFalse();
    assertThat(SmallFiles.generated(dir.resolve("missing"))).isFalse();
    double first = uptime(SmallFiles.reread(link, 64));
    assertThat(SmallFiles.kept(link)).isTrue();
    Thread.sleep(120);
    assertThat(uptime(SmallFiles.reread(link, 64)) - first).isBetween(0.1, 5.0);
    SmallFiles.forget(link);
  }
}

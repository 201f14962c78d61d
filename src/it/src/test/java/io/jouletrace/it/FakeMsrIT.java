package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cpu.source=rapl-msr}: the agent in a forked JVM reads fake {@code /dev/cpu/N/msr} files
 * (sparse, registers at their offsets) whose package counters advance at a known power. Both the
 * Intel and the AMD registers are written, so the test holds whatever CPU this machine has (the
 * agent asks OSHI for the vendor).
 */
class FakeMsrIT {

  private static final double WATTS = 40;
  private static final int ESU = 14; // energy unit 2^-14 J
  private static final double UNIT = Math.pow(0.5, ESU);

  @Test
  void perPhaseEnergyFromMsrCounters(@TempDir Path dir) throws Exception {
    Path msr = dir.resolve("cpu");
    List<FileChannel> channels = new ArrayList<>();
    try (DirectoryStream<Path> cpus =
        Files.newDirectoryStream(Path.of("/sys/devices/system/cpu"), "cpu[0-9]*")) {
      for (Path cpu : cpus) {
        Path file =
            Files.createDirectories(msr.resolve(cpu.getFileName().toString().substring(3)))
                .resolve("msr");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
          f.setLength(0xC0010299L + 64); // sparse: no disk used
        }
        FileChannel ch = FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE);
        write(ch, 0x606, ESU << 8); // Intel units
        write(ch, 0xC0010299L, ESU << 8); // AMD units
        channels.add(ch);
      }
    }
    long t0 = System.nanoTime();
    WriterLag lag = new WriterLag();
    AtomicReference<Exception> writerFailure = new AtomicReference<>();
    Thread writer =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                long now = System.nanoTime();
                long raw = (long) (WATTS * (now - t0) * 1e-9 / UNIT) & 0xFFFFFFFFL;
                for (FileChannel ch : channels) {
                  try {
                    write(ch, 0x611, raw); // Intel package
                    write(ch, 0xC001029BL, raw); // AMD package
                  } catch (Exception e) {
                    if (!Thread.currentThread().isInterrupted()) {
                      writerFailure.set(e); // not the end of the test: the counters froze
                    }
                    return;
                  }
                }
                lag.pass(now, System.nanoTime());
                LockSupport.parkNanos(2_000_000L);
              }
            });
    writer.setDaemon(true);
    writer.start();
    Path report = dir.resolve("r.json");
    Path truth = dir.resolve("t.txt");
    try {
      ForkedJvm.Result r =
          new ForkedJvm(dir)
              .agent(
                  "cpu.source=rapl-msr,msr.root="
                      + msr
                      + ",attribution=host,prometheus.port=off,"
                      + "report.json="
                      + report)
              .arg(
                  "-cp",
                  ForkedJvm.appClassPath(),
                  "io.jouletrace.it.apps.PhasesApp",
                  truth.toString(),
                  "start-up:1500",
                  "alpha:600",
                  "beta:900")
              .run(60);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      assertThat(r.stderr()).doesNotContain("ESTIMATED");
      // A writer that stopped early would freeze the counters and make the lag (and with it the
      // tolerance below) unbounded: it must have run until now.
      assertThat(writerFailure.get()).as("fake MSR writer failure").isNull();
      assertThat(writer.isAlive()).as("fake MSR writer still running").isTrue();
    } finally {
      writer.interrupt();
      writer.join(2000);
      for (FileChannel ch : channels) {
        ch.close();
      }
    }
    PhaseTruth spans = PhaseTruth.read(truth);
    JsonNode root = new ObjectMapper().readTree(report.toFile());
    assertThat(root.at("/devices/0/source").asText()).isEqualTo("rapl-msr");
    assertThat(root.at("/methods/cpu").asText()).isEqualTo("measured");
    Map<String, JsonNode> phases = new HashMap<>();
    root.get("phases").forEach(p -> phases.put(p.get("name").asText(), p));
    for (String name : List.of("alpha", "beta")) {
      // Counters step every 2 ms here, and more when the writer thread was descheduled: 2 % plus
      // how far the counters lagged around each boundary (measured by the writer), plus 2 ms.
      PhaseTruth.Span span = spans.spans(name).get(0);
      long around = 20_000_000L;
      double late =
          (lag.maxLagNanos(span.outerStart(), span.start() + around)
                  + lag.maxLagNanos(span.end(), span.outerEnd() + around))
              * 1e-9;
      PhaseTruth.assertBetween(
          name + ", counters' lag " + late + " s",
          phases.get(name).at("/joules/cpu").asDouble(),
          WATTS * spans.innerSeconds(name),
          WATTS * spans.outerSeconds(name),
          WATTS * (0.02 * spans.outerSeconds(name) + 0.002 + late));
    }
  }

  private static void write(FileChannel ch, long register, long value) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).flip();
    ch.write(b, register);
  }
}

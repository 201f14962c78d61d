package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The endpoint's requests and the pushes run on threads of the caller's factory, so that the agent
 * can count what serving and pushing cost among its own threads.
 */
class ExporterThreadsTest {

  /** A factory that keeps the threads it made. */
  private static final class Made implements ThreadFactory {
    final List<Thread> threads = new CopyOnWriteArrayList<>();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "made-" + threads.size());
      t.setDaemon(true);
      threads.add(t);
      return t;
    }
  }

  /** A snapshot supplier that notes the threads it is read on. */
  private static final class Noted implements Supplier<EnergySnapshot> {
    final Set<Thread> readOn = ConcurrentHashMap.newKeySet();

    @Override
    public EnergySnapshot get() {
      readOn.add(Thread.currentThread());
      return Snapshots.known();
    }
  }

  @Test
  void scrapesAreAnsweredOnTheCallersThreads() throws Exception {
    Made made = new Made();
    Noted snapshots = new Noted();
    try (PrometheusEndpoint e =
        PrometheusEndpoint.start(snapshots, "127.0.0.1", 0, 0, EndpointSecurity.NONE, made)) {
      snapshots.readOn.clear(); // registering reads it once, on the caller's thread
      for (int i = 0; i < 5; i++) {
        try (InputStream in =
            URI.create("http://127.0.0.1:" + e.port() + "/metrics").toURL().openStream()) {
          assertThat(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
              .contains("jouletrace_");
        }
      }
    }
    assertThat(snapshots.readOn).isNotEmpty();
    assertThat(made.threads).containsAll(snapshots.readOn).hasSizeBetween(1, 2);
    assertThat(made.threads).allMatch(Thread::isDaemon);
  }

  @Test
  void pushesRunOnTheCallersThreads() throws Exception {
    AtomicInteger received = new AtomicInteger();
    HttpServer gateway = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    gateway.createContext(
        "/",
        x -> {
          x.getRequestBody().readAllBytes();
          received.incrementAndGet();
          x.sendResponseHeaders(200, -1);
          x.close();
        });
    gateway.start();
    Made made = new Made();
    Noted snapshots = new Noted();
    try {
      URL url = URI.create("http://127.0.0.1:" + gateway.getAddress().getPort()).toURL();
      PushSettings settings =
          new PushSettings(
              url.toURI(), "job", "host:1", "run", Duration.ofMillis(20), Duration.ofSeconds(5));
      PushgatewayExporter push =
          PushgatewayExporter.start(settings, snapshots, System.err::println, made);
      snapshots.readOn.remove(Thread.currentThread()); // building the client reads it once here
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (received.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(received.get()).as("periodic pushes received").isPositive();
      assertThat(push.pushFinal(Snapshots.known())).isTrue();
      push.close();
    } finally {
      gateway.stop(0);
    }
    // the periodic push's thread and the final push's
    assertThat(made.threads).hasSize(2).allMatch(Thread::isDaemon);
    assertThat(snapshots.readOn).isNotEmpty();
    assertThat(made.threads).containsAll(snapshots.readOn);
  }
}

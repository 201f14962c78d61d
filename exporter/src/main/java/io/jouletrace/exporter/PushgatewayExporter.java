package io.jouletrace.exporter;

import io.prometheus.metrics.exporter.pushgateway.Format;
import io.prometheus.metrics.exporter.pushgateway.PushGateway;
import io.prometheus.metrics.exporter.pushgateway.Scheme;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Pushes the metrics of {@link EnergyMetrics} to a Pushgateway with client_java's {@link
 * PushGateway}: every {@link PushSettings#interval()} on a daemon thread when set, and once at exit
 * with a hard deadline ({@link PushSettings#timeout()}), so that a gateway that is down or never
 * answers cannot hold the JVM's exit.
 *
 * <p>{@code PushgatewayExporter p = PushgatewayExporter.start(settings, snapshots,
 * System.err::println); ... p.pushFinal(last);}
 */
public final class PushgatewayExporter implements AutoCloseable {

  private final PushSettings settings;
  private final Consumer<String> log;
  private final AtomicReference<EnergySnapshot> last = new AtomicReference<>();
  private final Supplier<EnergySnapshot> live;
  private PushGateway gateway;
  private final ScheduledExecutorService periodic;
  private final ThreadFactory threads;
  private volatile String lastError;

  /** Daemon threads named {@code jouletrace-push}, when the caller gives no factory. */
  private static final ThreadFactory DAEMONS =
      r -> {
        Thread t = new Thread(r, "jouletrace-push");
        t.setDaemon(true);
        return t;
      };

  private PushgatewayExporter(
      PushSettings settings,
      Supplier<EnergySnapshot> live,
      Consumer<String> log,
      boolean build,
      ThreadFactory threads) {
    this.settings = settings;
    this.log = log;
    this.live = live;
    this.threads = threads;
    if (build) {
      gateway(); // off the exit path: its classes are loaded now
    }
    if (settings.interval().isZero()) {
      this.periodic = null;
    } else {
      this.periodic = Executors.newSingleThreadScheduledExecutor(threads);
      long ms = Math.max(1, settings.interval().toMillis());
      periodic.scheduleWithFixedDelay(this::pushPeriodic, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Prepares pushing; pushes periodically from now on when an interval is set. Opens no connection
   * itself.
   *
   * @param settings where and how
   * @param live read at each periodic push
   * @param log one line per problem
   * @return the exporter
   */
  public static PushgatewayExporter start(
      PushSettings settings, Supplier<EnergySnapshot> live, Consumer<String> log) {
    return start(settings, live, log, DAEMONS);
  }

  /**
   * Prepares pushing, on threads of {@code threads} (daemons: a push must not keep the JVM alive),
   * so that the caller can count what pushing costs.
   *
   * @param settings where and how
   * @param live read at each periodic push
   * @param log one line per problem
   * @param threads makes the periodic push's thread and the final push's
   * @return the exporter
   */
  public static PushgatewayExporter start(
      PushSettings settings,
      Supplier<EnergySnapshot> live,
      Consumer<String> log,
      ThreadFactory threads) {
    return new PushgatewayExporter(settings, live, log, true, threads);
  }

  /**
   * Prepares a push at exit only, for a run that ends before start-up got to {@link #start}: the
   * client is built on the push thread, within the deadline of {@link #pushFinal}.
   *
   * @param settings where and how (its interval is ignored)
   * @param log one line per problem
   * @return the exporter
   */
  public static PushgatewayExporter atExitOnly(PushSettings settings, Consumer<String> log) {
    return atExitOnly(settings, log, DAEMONS);
  }

  /**
   * As {@link #atExitOnly(PushSettings, Consumer)}, the push on a thread of {@code threads}.
   *
   * @param settings where and how (its interval is ignored)
   * @param log one line per problem
   * @param threads makes the final push's thread (a daemon)
   * @return the exporter
   */
  public static PushgatewayExporter atExitOnly(
      PushSettings settings, Consumer<String> log, ThreadFactory threads) {
    PushSettings once =
        new PushSettings(
            settings.url(),
            settings.job(),
            settings.instance(),
            settings.runId(),
            java.time.Duration.ZERO,
            settings.timeout());
    return new PushgatewayExporter(once, () -> null, log, false, threads);
  }

  /** The client, built on first use. */
  private synchronized PushGateway gateway() {
    if (gateway == null) {
      PrometheusRegistry registry = new PrometheusRegistry();
      registry.register(
          new EnergyMetrics(
              () -> {
                EnergySnapshot s = last.get();
                return s != null ? s : live.get();
              }));
      gateway =
          PushGateway.builder()
              .scheme(
                  "https".equalsIgnoreCase(settings.url().getScheme()) ? Scheme.HTTPS : Scheme.HTTP)
              .address(settings.address())
              // Text: the protobuf format needs a module the agent leaves out.
              .format(Format.PROMETHEUS_TEXT)
              .job(settings.job())
              .groupingKey("instance", settings.instance())
              .groupingKey(PushSettings.RUN_ID_LABEL, settings.runId())
              .connectionTimeout(settings.timeout())
              .readTimeout(settings.timeout())
              .registry(registry)
              .build();
    }
    return gateway;
  }

  private void pushPeriodic() {
    try {
      gateway().push();
      lastError = null;
    } catch (Throwable e) {
      String line = failure(e);
      if (!line.equals(lastError)) { // one line per kind of failure, not one per interval
        lastError = line;
        log.accept(line + "; retrying every " + settings.interval().toMillis() + " ms");
      }
    }
  }

  /**
   * Pushes {@code snapshot} once, waiting at most {@link PushSettings#timeout()}. The push runs on
   * a daemon thread, so a push that has not finished by then is abandoned and cannot keep the JVM
   * alive. Never throws.
   *
   * @param snapshot the final figures
   * @return {@code true} when the gateway accepted them in time
   */
  public boolean pushFinal(EnergySnapshot snapshot) {
    if (periodic != null) {
      periodic.shutdownNow();
    }
    last.set(snapshot);
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread t =
        threads.newThread(
            () -> {
              try {
                gateway().push();
                done.complete(null);
              } catch (Throwable e) {
                done.completeExceptionally(e);
              }
            });
    t.setDaemon(true);
    t.start();
    try {
      done.get(settings.timeout().toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      log.accept(
          "jouletrace: push to "
              + settings.groupUrl()
              + " did not finish within "
              + settings.timeout().toMillis()
              + " ms (push.timeout): the gateway is slow or unreachable; exit goes on without it");
    } catch (ExecutionException e) {
      log.accept(failure(e.getCause()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      log.accept("jouletrace: push to " + settings.groupUrl() + " interrupted");
    }
    return false;
  }

  private String failure(Throwable e) {
    return "jouletrace: push to "
        + settings.groupUrl()
        + " failed (push.url): "
        + e.getClass().getSimpleName()
        + (e.getMessage() == null ? "" : ": " + e.getMessage().replace('\n', ' '));
  }

  @Override
  public void close() {
    if (periodic != null) {
      periodic.shutdownNow();
    }
  }
}

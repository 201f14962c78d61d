package io.jouletrace.it.apps;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jouletrace.api.JouleTrace;
import io.jouletrace.api.Phase;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import net.bytebuddy.ByteBuddy;

/**
 * An application that brings its own, older versions of the libraries the agent also uses, and uses
 * them while the agent runs. It prints the version of each library as it sees it.
 */
public final class IsolationApp {

  private IsolationApp() {}

  public static void main(String[] args) throws Exception {
    try (Phase p = JouleTrace.phase("own-libraries")) {
      Class<?> made =
          new ByteBuddy()
              .subclass(Object.class)
              .name("app.Made")
              .make()
              .load(IsolationApp.class.getClassLoader())
              .getLoaded();
      System.out.println("bytebuddy " + jarOf(ByteBuddy.class) + " made " + made.getName());
      System.out.println("jna " + com.sun.jna.Native.VERSION);
      System.out.println(
          "jackson "
              + new ObjectMapper().version()
              + " "
              + new ObjectMapper().writeValueAsString(java.util.Map.of("a", 1)));
      PrometheusRegistry registry = new PrometheusRegistry();
      Counter c = Counter.builder().name("app_events").register(registry);
      c.inc();
      System.out.println("prometheus " + jarOf(Counter.class) + " " + registry.scrape().size());
      Thread.sleep(300);
    }
  }

  private static String jarOf(Class<?> c) {
    return c.getProtectionDomain().getCodeSource().getLocation().getPath().replaceAll(".*/", "");
  }
}

package io.jouletrace.agent.carbon;

import io.jouletrace.agent.Log;
import io.jouletrace.agent.config.AgentConfig;
import io.jouletrace.agent.config.Key;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Chooses the intensity provider from the configuration, in this order: {@code carbon.intensity}
 * when set, {@code carbon.series}, {@code carbon.api}, the zone table for {@code carbon.zone}, the
 * static default. A provider that cannot be used is named in one line and the next one is taken.
 * Runs on the {@code jouletrace-init} thread: files are read and the API is started there, never in
 * {@code premain}.
 */
public final class Intensities {

  /**
   * Environment variable read for the Electricity Maps token when {@code carbon.api.token} is not
   * set.
   */
  public static final String TOKEN_ENV = "ELECTRICITYMAPS_TOKEN";

  static final Duration TIMEOUT = Duration.ofSeconds(2);
  static final int ATTEMPTS = 3;
  static final Duration BACKOFF = Duration.ofMillis(500);

  private Intensities() {}

  /**
   * The static default: {@code carbon.intensity}'s value.
   *
   * @param c the configuration
   * @return a fixed timeline
   */
  public static IntensityTimeline staticDefault(AgentConfig c) {
    return IntensityTimeline.fixed(
        c.carbonIntensity(),
        c.isSet(Key.CARBON_INTENSITY)
            ? "carbon.intensity=" + num(c.carbonIntensity())
            : "default " + num(c.carbonIntensity()) + " g/kWh: world average (CodeCarbon)",
        "lifecycle");
  }

  /**
   * Opens the provider.
   *
   * @param c the configuration
   * @param env the environment (for the token)
   * @param log one line per problem
   * @param clock wall clock, epoch ms
   * @param network {@code false} at exit, when no request may be started any more
   * @return the provider; the API's is started
   */
  public static IntensityProvider open(
      AgentConfig c, Map<String, String> env, Log log, LongSupplier clock, boolean network) {
    IntensityTimeline dflt = staticDefault(c);
    String zone = blankToNull(c.get(Key.CARBON_ZONE));
    if (c.isSet(Key.CARBON_INTENSITY)) {
      return IntensityProvider.of(dflt, zone);
    }
    IntensityTimeline below = dflt;
    if (zone != null) {
      ZoneTable.Row row = ZoneTable.bundled().find(zone);
      if (row == null) {
        log.line(
            "carbon.zone="
                + zone
                + " is not in the bundled zone table (ISO 3166-1 alpha-2, US-<state>, SE-SE1..."
                + "); using the "
                + dflt.name());
      } else {
        below = IntensityTimeline.fixed(row.gramsPerKwh(), row.describe(), factorType(row));
      }
    }
    String api = c.get(Key.CARBON_API);
    boolean useApi = "electricitymaps".equals(api);
    Path series = c.get(Key.CARBON_SERIES);
    if (series != null) {
      try {
        return IntensityProvider.of(SeriesFile.read(series, c.get(Key.CARBON_FACTOR_TYPE)), zone);
      } catch (SeriesFile.SeriesException e) {
        log.line(
            "carbon.series="
                + e.getMessage()
                + "; using "
                + (useApi ? "carbon.api=electricitymaps" : "the " + below.name()));
      }
    }
    if (useApi) {
      double lat = c.<Double>get(Key.CARBON_LAT);
      double lon = c.<Double>get(Key.CARBON_LON);
      if (zone == null && (Double.isNaN(lat) || Double.isNaN(lon))) {
        log.line(
            "carbon.api=electricitymaps needs carbon.zone, or carbon.lat and carbon.lon; using the "
                + below.name());
        return IntensityProvider.of(below, null);
      }
      if (!network) {
        IntensityPoint p = below.points().get(0);
        log.line(
            "carbon.api=electricitymaps: no answer before exit; the run is charged at "
                + p.source()
                + ", "
                + Math.round(p.gramsPerKwh())
                + " g/kWh");
        return IntensityProvider.of(
            IntensityTimeline.fixed(
                p.gramsPerKwh(),
                p.source() + " (electricitymaps not reached before exit)",
                p.factorType()),
            zone);
      }
      String token = blankToNull(c.get(Key.CARBON_API_TOKEN));
      if (token == null) {
        token = blankToNull(env.get(TOKEN_ENV));
      }
      if (token == null) {
        log.line(
            "carbon.api=electricitymaps: no token (carbon.api.token or "
                + TOKEN_ENV
                + "); asking without one");
      }
      ElectricityMaps em =
          new ElectricityMaps(
              new ElectricityMaps.Settings(
                  c.get(Key.CARBON_API_URL),
                  token,
                  zone,
                  lat,
                  lon,
                  c.get(Key.CARBON_FACTOR_TYPE),
                  c.get(Key.CARBON_API_REFRESH),
                  TIMEOUT,
                  ATTEMPTS,
                  BACKOFF),
              below,
              clock,
              log);
      em.start();
      return em;
    }
    return IntensityProvider.of(below, zone);
  }

  /** Factor type of a zone-table row, from its source. */
  static String factorType(ZoneTable.Row row) {
    return switch (row.source()) {
      case "egrid2016" -> "direct";
      case "owid" -> "lifecycle";
      default -> "unspecified";
    };
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static String num(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}

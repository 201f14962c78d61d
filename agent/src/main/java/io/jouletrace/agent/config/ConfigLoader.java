package io.jouletrace.agent.config;

import io.jouletrace.agent.instrument.Rule;
import io.jouletrace.exporter.MetricFamily;
import io.jouletrace.sources.Texts;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The one configuration loader, driven by the {@link Key} catalogue. Precedence, highest first:
 * agent arguments ({@code key=value,key=value}), system properties {@code jouletrace.<key>},
 * environment variables ({@link Key#environmentName()}), the properties file named by the key
 * {@code config}, defaults.
 *
 * <p>A bad key or value never stops the application: it yields one line in {@link
 * AgentConfig#errors()} naming the key, where it came from and the accepted form, and the default
 * is used for that key.
 */
public final class ConfigLoader {

  /** Keys {@code phase.<name>} declare automatic phases; see {@link Rule} for the syntax. */
  static final String PHASE_PREFIX = "phase.";

  private static final String KNOWN = "; known keys: ";

  private final List<String> errors = new ArrayList<>();
  private final EnumMap<Key, String> raw = new EnumMap<>(Key.class);
  private final EnumMap<Key, String> origins = new EnumMap<>(Key.class);
  private final Map<String, String> phaseRules = new LinkedHashMap<>();
  private final Map<String, String> phaseOrigins = new LinkedHashMap<>();

  private ConfigLoader() {}

  /**
   * Loads configuration from this JVM's system properties and environment.
   *
   * @param agentArgs the {@code -javaagent:} argument string, may be {@code null}
   * @return the merged configuration
   */
  public static AgentConfig load(String agentArgs) {
    return load(agentArgs, System.getProperties(), System.getenv());
  }

  /**
   * Loads configuration from explicit layers.
   *
   * @param agentArgs agent arguments, may be {@code null}
   * @param sys system properties
   * @param env environment
   * @return the merged configuration
   */
  public static AgentConfig load(String agentArgs, Properties sys, Map<String, String> env) {
    ConfigLoader l = new ConfigLoader();
    Map<String, String> args = l.parseArgs(agentArgs);
    Map<String, String> props = new LinkedHashMap<>();
    for (String name : sys.stringPropertyNames()) {
      if (name.startsWith("jouletrace.")) {
        props.put(name.substring("jouletrace.".length()), sys.getProperty(name));
      }
    }
    Map<String, String> environment = new LinkedHashMap<>();
    Map<String, String> envNames = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (e.getKey().startsWith("JOULETRACE_")) {
        String key = keyForEnv(e.getKey());
        if (key == null) {
          Key near =
              nearest(
                  e.getKey()
                      .substring("JOULETRACE_".length())
                      .toLowerCase(Locale.ROOT)
                      .replace('_', '.'));
          l.errors.add(
              "jouletrace: unknown configuration key '"
                  + e.getKey()
                  + "' (environment)"
                  + (near == null ? "" : "; did you mean " + near.environmentName() + "?")
                  + KNOWN
                  + knownKeys());
        } else {
          environment.put(key, e.getValue());
          envNames.put(key, e.getKey());
        }
      }
    }
    // Lowest layer first: each later layer overwrites what the earlier ones set.
    String configFile = firstOf(Key.CONFIG.key(), args, props, environment);
    if (configFile != null && !configFile.isBlank()) {
      l.layer(l.readFile(configFile.trim()), null, "config file " + configFile.trim());
    }
    l.layer(environment, envNames, null);
    l.layer(props, null, "-Djouletrace.");
    l.layer(args, null, "agent arguments");
    return l.build();
  }

  private static String firstOf(
      String key, Map<String, String> a, Map<String, String> b, Map<String, String> c) {
    if (a.containsKey(key)) {
      return a.get(key);
    }
    if (b.containsKey(key)) {
      return b.get(key);
    }
    return c.get(key);
  }

  private static String knownKeys() {
    StringBuilder b = new StringBuilder();
    for (Key k : Key.values()) {
      b.append(b.length() == 0 ? "" : ", ").append(k.key());
    }
    return b.append(", phase.<name>").toString();
  }

  /**
   * The key an unknown name most likely meant: the key that is the name's last part ({@code
   * report.csv} gives {@code csv}), else the closest within a few edits (a typo, two letters
   * swapped), else none.
   *
   * @param name an unknown key, lower case with dots
   * @return the key, or {@code null} when none is close
   */
  static Key nearest(String name) {
    String last = name.substring(name.lastIndexOf('.') + 1);
    Key best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (Key k : Key.values()) {
      if (k.key().equals(last) && !last.isEmpty()) {
        return k;
      }
      int d = distance(name, k.key());
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return bestDistance <= Math.max(2, name.length() / 4) ? best : null;
  }

  /** Edits (insert, delete, replace, swap of two neighbours) from {@code a} to {@code b}. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  private static String keyForEnv(String envName) {
    String wanted = envName.substring("JOULETRACE_".length());
    if (wanted.startsWith("PHASE_") && wanted.length() > "PHASE_".length()) {
      return PHASE_PREFIX + wanted.substring("PHASE_".length()).toLowerCase(Locale.ROOT);
    }
    for (Key k : Key.values()) {
      if (k.environmentName().equals(envName)) {
        return k.key();
      }
    }
    return null;
  }

  /**
   * Splits {@code key=value,key=value}. A part without {@code =} continues the previous value when
   * that key takes a list, so that {@code gpu.devices=0,1} keeps both GPUs.
   */
  private Map<String, String> parseArgs(String agentArgs) {
    Map<String, String> out = new LinkedHashMap<>();
    if (agentArgs == null || agentArgs.isBlank()) {
      return out;
    }
    String previous = null;
    for (String part : agentArgs.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      Key prev = previous == null ? null : Key.byName(previous);
      if (eq < 0 && prev != null && prev.type() == Key.Type.LIST) {
        out.put(previous, out.get(previous) + "," + part.trim());
        continue;
      }
      if (eq <= 0) {
        errors.add(
            "jouletrace: malformed agent argument '"
                + part.trim()
                + "': expected key=value pairs separated by commas");
        previous = null;
        continue;
      }
      previous = part.substring(0, eq).trim();
      out.put(previous, part.substring(eq + 1).trim());
    }
    return out;
  }

  private Map<String, String> readFile(String file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException | RuntimeException e) {
      errors.add(
          "jouletrace: cannot read config file '"
              + file
              + "' (key 'config'): "
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : ": " + e.getMessage()));
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : p.stringPropertyNames()) {
      String key = name.startsWith("jouletrace.") ? name.substring("jouletrace.".length()) : name;
      out.put(key, p.getProperty(name).trim());
    }
    return out;
  }

  /**
   * Lays one source over the ones below it.
   *
   * @param envNames for the environment: key to variable name, else {@code null}
   * @param origin the source's name; for system properties the prefix {@code -Djouletrace.}
   */
  private void layer(Map<String, String> layer, Map<String, String> envNames, String origin) {
    for (Map.Entry<String, String> e : layer.entrySet()) {
      String name = e.getKey();
      String from =
          envNames != null
              ? "environment " + envNames.get(name)
              : origin.endsWith(".") ? origin + name : origin;
      if (name.startsWith(PHASE_PREFIX) && name.length() > PHASE_PREFIX.length()) {
        phaseRules.put(name.substring(PHASE_PREFIX.length()), e.getValue());
        phaseOrigins.put(name, from);
        continue;
      }
      Key key = Key.byName(name);
      if (key == null) {
        Key near = nearest(name);
        errors.add(
            "jouletrace: unknown configuration key '"
                + name
                + "' ("
                + from
                + ")"
                + (near == null ? "" : "; did you mean '" + near.key() + "'?")
                + KNOWN
                + knownKeys());
        continue;
      }
      raw.put(key, e.getValue());
      origins.put(key, from);
    }
  }

  private AgentConfig build() {
    EnumMap<Key, Object> values = new EnumMap<>(Key.class);
    EnumMap<Key, String> valid = new EnumMap<>(Key.class);
    for (Key k : Key.values()) {
      String given = raw.get(k);
      Object v = null;
      if (given != null) {
        try {
          v = parse(k, given.trim(), true);
          valid.put(k, origins.get(k));
        } catch (RuntimeException e) {
          errors.add(
              "jouletrace: invalid value '"
                  + given
                  + "' for '"
                  + k.key()
                  + "' ("
                  + origins.get(k)
                  + "): expected "
                  + k.form()
                  + (e.getMessage() != null && e.getMessage().startsWith("(")
                      ? " " + e.getMessage()
                      : "")
                  + "; using the default '"
                  + k.defaultValue()
                  + "'");
        }
      }
      values.put(k, v != null ? v : parse(k, k.defaultValue(), false));
    }
    List<Rule> rules = new ArrayList<>();
    for (Map.Entry<String, String> r : phaseRules.entrySet()) {
      String name = r.getKey();
      String spec = r.getValue();
      try {
        rules.addAll(Rule.parse(name, spec));
      } catch (IllegalArgumentException e) {
        errors.add(
            "jouletrace: invalid value '"
                + spec
                + "' for 'phase."
                + name
                + "' ("
                + phaseOrigins.get(PHASE_PREFIX + name)
                + "): "
                + e.getMessage()
                + "; expected <class pattern>#<method pattern>[;...], e.g."
                + " com.acme.Tokenizer#encode*");
      }
    }
    return new AgentConfig(values, valid, rules, errors);
  }

  /**
   * Parses one value as its key's type says; throws on a malformed one.
   *
   * @param given {@code true} for a configured value (checked against the file system where the
   *     type says so), {@code false} for the default
   */
  static Object parse(Key k, String s, boolean given) {
    return switch (k.type()) {
      case BOOLEAN -> bool(s);
      case DURATION -> atLeast(Durations.parse(s), k.min());
      case DURATION_OR_OFF ->
          "off".equalsIgnoreCase(s) ? Duration.ZERO : atLeast(Durations.parse(s), k.min());
      case DIRECTORY -> directory(s, given);
      case FILE -> s.isEmpty() ? null : Path.of(s);
      case CHOICE -> oneOf(s, k.choices());
      case PORT -> port(s);
      case PORT_RANGE -> portRange(s);
      case TEXT -> s;
      case TEXT_REQUIRED -> nonEmpty(s);
      case NUMBER -> number(s, k.min(), k.max());
      case OPTIONAL_NUMBER -> s.isEmpty() ? Double.NaN : number(s, k.min(), k.max());
      case FRACTION -> fraction(s);
      case INTEGER -> (int) Math.round(whole(number(s, k.min(), k.max())));
      case LABELS -> labels(s);
      case LIST -> list(s);
      case URL -> s.isEmpty() ? null : io.jouletrace.exporter.PushSettings.parseUrl(s);
      case SECRET -> s.isEmpty() ? null : s.toCharArray();
    };
  }

  private static Path directory(String s, boolean given) {
    Path p = Path.of(nonEmpty(s));
    if (given && !Files.isDirectory(p)) {
      throw new IllegalArgumentException(
          "(" + (Files.exists(p) ? "it is not a directory" : "it does not exist") + ")");
    }
    return p;
  }

  private static boolean bool(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException(s);
    };
  }

  private static int port(String s) {
    if ("off".equalsIgnoreCase(s)) {
      return -1;
    }
    int p = Integer.parseInt(s);
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException(s);
    }
    return p;
  }

  private static PortRange portRange(String s) {
    int dash = s.indexOf('-');
    if (dash < 0) {
      int p = port(s);
      return new PortRange(p, p);
    }
    int first = port(s.substring(0, dash).trim());
    int last = port(s.substring(dash + 1).trim());
    if (first <= 0 || last < first) {
      throw new IllegalArgumentException(s);
    }
    return new PortRange(first, last);
  }

  private static double fraction(String s) {
    double v = Double.parseDouble(s);
    if (!(v > 0 && v <= 1)) {
      throw new IllegalArgumentException(s);
    }
    return v;
  }

  private static double whole(double v) {
    if (v != Math.rint(v)) {
      throw new IllegalArgumentException(Double.toString(v));
    }
    return v;
  }

  /**
   * The items of a list separated by commas and blanks, as {@code s.split("[,\\s]+")} gives them
   * less the empty ones: written out, because the regular-expression engine's first use in a JVM
   * costs about 10 ms of CPU, on {@code premain}'s path.
   */
  static List<String> list(String s) {
    List<String> out = new ArrayList<>();
    int start = -1;
    for (int i = 0, n = s.length(); i <= n; i++) {
      boolean separator = i == n || s.charAt(i) == ',' || Texts.isRegexBlank(s.charAt(i));
      if (separator && start >= 0) {
        out.add(s.substring(start, i));
        start = -1;
      } else if (!separator && start < 0) {
        start = i;
      }
    }
    return List.copyOf(out);
  }

  /** Whether {@code name} is a Prometheus label name, {@code [a-zA-Z_][a-zA-Z0-9_]*}. */
  static boolean isLabelName(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      if (!letter && (i == 0 || c < '0' || c > '9')) {
        return false;
      }
    }
    return true;
  }

  private static Map<String, String> labels(String s) {
    Set<String> reserved = MetricFamily.reservedLabelNames();
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : s.split(";")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq > 0 ? pair.substring(0, eq).trim() : "";
      if (!isLabelName(name) || name.startsWith("__")) {
        throw new IllegalArgumentException("('" + pair.trim() + "' is not name=value)");
      }
      if (reserved.contains(name)) {
        throw new IllegalArgumentException(
            "('"
                + name
                + "' is a label of JouleTrace's own series; reserved: "
                + String.join(", ", reserved)
                + ")");
      }
      if (out.put(name, pair.substring(eq + 1).trim()) != null) {
        throw new IllegalArgumentException("('" + name + "' is given twice)");
      }
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private static Duration atLeast(Duration d, double minSeconds) {
    if (d.toNanos() < Math.round(minSeconds * 1e9)) {
      throw new IllegalArgumentException("at least " + Durations.describe(minSeconds));
    }
    return d;
  }

  private static String nonEmpty(String s) {
    if (s.isEmpty()) {
      throw new IllegalArgumentException("empty");
    }
    return s;
  }

  private static String oneOf(String s, String... allowed) {
    String v = s.toLowerCase(Locale.ROOT);
    for (String a : allowed) {
      if (a.equals(v)) {
        return a;
      }
    }
    throw new IllegalArgumentException(s);
  }

  private static double number(String s, double min, double max) {
    double v = Double.parseDouble(s);
    if (!(v >= min && v <= max) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(s);
    }
    return v;
  }
}

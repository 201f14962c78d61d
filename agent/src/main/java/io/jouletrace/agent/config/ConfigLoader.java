package io.jouletrace.agent.config;

import io.jouletrace.agent.instrument.Rule;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The one configuration loader. Precedence, highest first: agent arguments ({@code
 * key=value,key=value}), system properties {@code jouletrace.<key>}, environment variables {@code
 * JOULETRACE_<KEY>} (dots and dashes become underscores, upper case), the properties file named by
 * the key {@code config}, defaults.
 *
 * <p>A bad key or value never stops the application: it yields one line in {@link
 * AgentConfig#errors()} naming the key, where it came from and the accepted form, and the default
 * is used for that key.
 */
public final class ConfigLoader {

  /** Grid intensity default: CodeCarbon's world average, gCO2e/kWh. */
  public static final double DEFAULT_INTENSITY = 475;

  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final List<String> RESERVED_LABELS =
      List.of("phase", "domain", "method", "device", "source", "kind", "stage", "run_id");

  /** Every key, with its default and the form it accepts. */
  static final Map<String, String[]> KEYS = new LinkedHashMap<>();

  static {
    key("interval", "100ms", Durations.FORM);
    key("boundary.resolution", "1ms", Durations.FORM + ", or off");
    key("powercap.root", "/sys/class/powercap", "a directory path");
    key(
        "cpu.source",
        "auto",
        "auto (rapl-sysfs, else rapl-msr, else model), rapl-sysfs, rapl-msr or model");
    key("msr.root", "/dev/cpu", "a directory path");
    key("attribution", "process", "process or host");
    key("prometheus.port", "9464", "a TCP port 0-65535, or off");
    key("prometheus.host", "0.0.0.0", "a bind address such as 127.0.0.1");
    key("report.json", "jouletrace-report.json", "a file path");
    key("carbon.intensity", "475", "gCO2e per kWh, a number >= 0");
    key("pue", "1.0", "a number >= 1.0");
    key("stage", "training", "data, experimentation, training or inference");
    key("labels", "", "name=value pairs separated by ';' (e.g. team=ml;run=42)");
    key("embodied.kg", "1000", "kg CO2e, a number >= 0");
    key("embodied.lifetime", "4y", Durations.FORM);
    key("embodied.utilization", "1.0", "a fraction in (0, 1]");
    key("cpu.tdp", "", "watts, a number > 0");
    key("cpu.idle", "", "watts, a number >= 0");
    key("dram.watts-per-gb", "", "watts per GB, a number >= 0");
    key("phases.max", "256", "an integer from 2 to 65535");
    key(
        "gpu",
        "auto",
        "auto (use NVIDIA GPUs when NVML is present), on (warn when it is not) or off");
    key(
        "gpu.devices",
        "",
        "GPU indices or UUIDs separated by commas or spaces, as in"
            + " CUDA_VISIBLE_DEVICES (default: CUDA_VISIBLE_DEVICES, else all GPUs)");
    key("nvml.library", "", "a library name or the path of libnvidia-ml.so.1");
    key("embodied.gpu-kg", "150", "kg CO2e per GPU in use, a number >= 0");
    key("instrument.wait", "true", "true or false");
    // Outputs (exporter module): push, /metrics security, CSV run log, HTML report.
    key("push.url", "", "a Pushgateway URL http(s)://host:port[/prefix]");
    key("push.job", "", "the job grouping key (default: the job label job_name, else jouletrace)");
    key("push.instance", "", "the instance grouping key (default: <hostname>:<pid>)");
    key("push.interval", "off", Durations.FORM + ", or off (push only at exit)");
    key("push.timeout", "2s", Durations.FORM + ", at least 10ms");
    key("prometheus.tls.cert", "", "a PEM certificate (chain) file path");
    key("prometheus.tls.key", "", "an unencrypted PKCS#8 PEM private key file path");
    key("prometheus.tls.keystore", "", "a PKCS#12 or JKS key store file path");
    key("prometheus.tls.keystore.password", "", "the key store's password (never printed)");
    key("prometheus.user", "", "the basic-auth user of /metrics");
    key("prometheus.password", "", "the basic-auth password of /metrics (never printed)");
    key("csv", "", "a CSV file path; its folder must exist");
    key("report.html", "", "an HTML file path; its folder must exist");
    key("strict", "false", "true or false");
    key("config", "", "a properties file path");
  }

  private static void key(String name, String def, String form) {
    KEYS.put(name, new String[] {def, form});
  }

  private final List<String> errors = new ArrayList<>();
  private final Map<String, String> values = new LinkedHashMap<>();
  private final Map<String, String> origins = new LinkedHashMap<>();
  private final Map<String, String> phaseRules = new LinkedHashMap<>();

  /** Keys {@code phase.<name>} declare automatic phases; see {@link Rule} for the syntax. */
  static final String PHASE_PREFIX = "phase.";

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
        String key = l.keyForEnv(e.getKey());
        if (key == null) {
          l.errors.add(
              "jouletrace: unknown configuration key '"
                  + e.getKey()
                  + "' (environment); known"
                  + " keys: "
                  + String.join(", ", KEYS.keySet()));
        } else {
          environment.put(key, e.getValue());
          envNames.put(key, e.getKey());
        }
      }
    }
    // Lowest layer first: each later layer overwrites what the earlier ones set.
    String configFile = firstOf("config", args, props, environment);
    if (configFile != null && !configFile.isBlank()) {
      l.layer(l.readFile(configFile.trim()), k -> "config file " + configFile.trim());
    }
    l.layer(environment, k -> "environment " + envNames.get(k));
    l.layer(props, k -> "-Djouletrace." + k);
    l.layer(args, k -> "agent arguments");
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

  private String keyForEnv(String envName) {
    String wanted = envName.substring("JOULETRACE_".length());
    if (wanted.startsWith("PHASE_") && wanted.length() > "PHASE_".length()) {
      return "phase." + wanted.substring("PHASE_".length()).toLowerCase(Locale.ROOT);
    }
    for (String k : KEYS.keySet()) {
      if (k.replace('.', '_').replace('-', '_').toUpperCase(Locale.ROOT).equals(wanted)) {
        return k;
      }
    }
    return null;
  }

  private Map<String, String> parseArgs(String agentArgs) {
    Map<String, String> out = new LinkedHashMap<>();
    if (agentArgs == null || agentArgs.isBlank()) {
      return out;
    }
    for (String part : agentArgs.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0) {
        errors.add(
            "jouletrace: malformed agent argument '"
                + part.trim()
                + "': expected key=value pairs separated by commas");
        continue;
      }
      out.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
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

  private void layer(Map<String, String> layer, Function<String, String> origin) {
    for (Map.Entry<String, String> e : layer.entrySet()) {
      if (e.getKey().startsWith(PHASE_PREFIX) && e.getKey().length() > PHASE_PREFIX.length()) {
        phaseRules.put(e.getKey().substring(PHASE_PREFIX.length()), e.getValue());
        origins.put(e.getKey(), origin.apply(e.getKey()));
        continue;
      }
      if (!KEYS.containsKey(e.getKey())) {
        errors.add(
            "jouletrace: unknown configuration key '"
                + e.getKey()
                + "' ("
                + origin.apply(e.getKey())
                + "); known keys: "
                + String.join(", ", KEYS.keySet()));
        continue;
      }
      values.put(e.getKey(), e.getValue());
      origins.put(e.getKey(), origin.apply(e.getKey()));
    }
  }

  private AgentConfig build() {
    boolean strict = get("strict");
    Duration interval = get("interval");
    Duration boundary = get("boundary.resolution");
    Path powercap = get("powercap.root");
    String cpuSource = get("cpu.source");
    Path msrRoot = get("msr.root");
    String attribution = get("attribution");
    int port = get("prometheus.port");
    String host = get("prometheus.host");
    Path report = get("report.json");
    double intensity = get("carbon.intensity");
    double pue = get("pue");
    String stage = get("stage");
    Map<String, String> labels = get("labels");
    double embodiedKg = get("embodied.kg");
    Duration lifetime = get("embodied.lifetime");
    double utilization = get("embodied.utilization");
    double tdp = get("cpu.tdp");
    double idle = get("cpu.idle");
    double dram = get("dram.watts-per-gb");
    int phasesMax = get("phases.max");
    String gpu = get("gpu");
    String gpuDevices = get("gpu.devices");
    String nvmlLibrary = get("nvml.library");
    double gpuKg = get("embodied.gpu-kg");
    boolean instrumentWait = get("instrument.wait");
    java.net.URI pushUrl = get("push.url");
    String pushJob = get("push.job");
    String pushInstance = get("push.instance");
    Duration pushInterval = get("push.interval");
    Duration pushTimeout = get("push.timeout");
    Path tlsCert = get("prometheus.tls.cert");
    Path tlsKey = get("prometheus.tls.key");
    Path tlsKeystore = get("prometheus.tls.keystore");
    char[] tlsKeystorePassword = get("prometheus.tls.keystore.password");
    String user = get("prometheus.user");
    char[] password = get("prometheus.password");
    Path csv = get("csv");
    Path reportHtml = get("report.html");
    List<Rule> rules = new ArrayList<>();
    phaseRules.forEach(
        (name, spec) -> {
          try {
            rules.addAll(Rule.parse(name, spec));
          } catch (IllegalArgumentException e) {
            errors.add(
                "jouletrace: invalid value '"
                    + spec
                    + "' for 'phase."
                    + name
                    + "' ("
                    + origins.get(PHASE_PREFIX + name)
                    + "): "
                    + e.getMessage()
                    + "; expected"
                    + " <class pattern>#<method pattern>[;...], e.g. com.acme.Tokenizer#encode*");
          }
        });
    return new AgentConfig(
        interval,
        boundary,
        powercap,
        cpuSource,
        msrRoot,
        attribution,
        port,
        host,
        report,
        intensity,
        pue,
        stage,
        labels,
        embodiedKg,
        lifetime,
        utilization,
        tdp,
        idle,
        dram,
        phasesMax,
        gpu,
        gpuDevices.isEmpty() ? null : gpuDevices,
        nvmlLibrary.isEmpty() ? null : nvmlLibrary,
        gpuKg,
        List.copyOf(rules),
        instrumentWait,
        pushUrl,
        pushJob,
        pushInstance,
        pushInterval,
        pushTimeout,
        tlsCert,
        tlsKey,
        tlsKeystore,
        tlsKeystorePassword,
        user,
        password,
        csv,
        reportHtml,
        strict,
        List.copyOf(errors));
  }

  /**
   * Parses one key's value; throws on a malformed one. A switch rather than a parser per key: this
   * runs in {@code premain}, on the application's start-up path, where each lambda would cost a
   * generated class.
   */
  private Object parse(String key, String s) {
    return switch (key) {
      case "strict", "instrument.wait" -> bool(s);
      case "interval" -> positive(Durations.parse(s), Duration.ofMillis(1));
      case "boundary.resolution" ->
          "off".equalsIgnoreCase(s)
              ? Duration.ZERO
              : positive(Durations.parse(s), Duration.ofNanos(100_000));
      case "powercap.root" -> Path.of(nonEmpty(s));
      case "cpu.source" -> oneOf(s, "auto", "rapl-sysfs", "rapl-msr", "model");
      case "msr.root" -> Path.of(nonEmpty(s));
      case "attribution" -> oneOf(s, "process", "host");
      case "prometheus.port" -> port(s);
      case "prometheus.host" -> nonEmpty(s);
      case "report.json" -> Path.of(nonEmpty(s));
      case "carbon.intensity" -> atLeast(s, 0);
      case "pue" -> atLeast(s, 1.0);
      case "stage" -> oneOf(s, "data", "experimentation", "training", "inference");
      case "labels" -> labels(s);
      case "embodied.kg" -> atLeast(s, 0);
      case "embodied.lifetime" -> positive(Durations.parse(s), Duration.ofDays(1));
      case "embodied.utilization" -> fraction(s);
      case "cpu.tdp" -> s.isEmpty() ? Double.NaN : above(s, 0);
      case "cpu.idle" -> s.isEmpty() ? Double.NaN : atLeast(s, 0);
      case "dram.watts-per-gb" -> s.isEmpty() ? Double.NaN : atLeast(s, 0);
      case "phases.max" -> (int) Math.round(between(s, 2, 65535));
      case "gpu" -> oneOf(s, "auto", "on", "off");
      case "gpu.devices" -> s;
      case "nvml.library" -> s;
      case "embodied.gpu-kg" -> atLeast(s, 0);
      case "push.url" -> s.isEmpty() ? null : io.jouletrace.exporter.PushSettings.parseUrl(s);
      case "push.job", "push.instance", "prometheus.user" -> s;
      case "push.interval" ->
          "off".equalsIgnoreCase(s) || s.isEmpty()
              ? Duration.ZERO
              : positive(Durations.parse(s), Duration.ofMillis(100));
      case "push.timeout" -> positive(Durations.parse(s), Duration.ofMillis(10));
      case "prometheus.tls.cert",
          "prometheus.tls.key",
          "prometheus.tls.keystore",
          "csv",
          "report.html" ->
          s.isEmpty() ? null : Path.of(s);
      // Secrets: taken as they are, so a value never reaches an error line.
      case "prometheus.tls.keystore.password", "prometheus.password" ->
          s.isEmpty() ? null : s.toCharArray();
      default -> throw new IllegalStateException("no parser for " + key);
    };
  }

  @SuppressWarnings("unchecked")
  private <T> T get(String key) {
    String raw = values.get(key);
    if (raw != null) {
      try {
        return (T) parse(key, raw.trim());
      } catch (RuntimeException e) {
        errors.add(
            "jouletrace: invalid value '"
                + raw
                + "' for '"
                + key
                + "' ("
                + origins.get(key)
                + "): expected "
                + KEYS.get(key)[1]
                + "; using the default '"
                + KEYS.get(key)[0]
                + "'");
      }
    }
    return (T) parse(key, KEYS.get(key)[0]);
  }

  private boolean bool(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException(s);
    };
  }

  private int port(String s) {
    if ("off".equalsIgnoreCase(s)) {
      return -1;
    }
    int p = Integer.parseInt(s);
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException(s);
    }
    return p;
  }

  private double fraction(String s) {
    double v = Double.parseDouble(s);
    if (!(v > 0 && v <= 1)) {
      throw new IllegalArgumentException(s);
    }
    return v;
  }

  private Map<String, String> labels(String s) {
    Map<String, String> out = new LinkedHashMap<>();
    if (s.isEmpty()) {
      return out;
    }
    for (String pair : s.split(";")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq > 0 ? pair.substring(0, eq).trim() : "";
      if (!LABEL_NAME.matcher(name).matches()
          || name.startsWith("__")
          || RESERVED_LABELS.contains(name)) {
        throw new IllegalArgumentException(pair);
      }
      out.put(name, pair.substring(eq + 1).trim());
    }
    return out;
  }

  private static Duration positive(Duration d, Duration min) {
    if (d.compareTo(min) < 0) {
      throw new IllegalArgumentException("at least " + min);
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

  private static double atLeast(String s, double min) {
    double v = Double.parseDouble(s);
    if (!(v >= min) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(s);
    }
    return v;
  }

  private static double between(String s, double min, double max) {
    double v = atLeast(s, min);
    if (v > max) {
      throw new IllegalArgumentException(s);
    }
    return v;
  }

  private static double above(String s, double min) {
    double v = Double.parseDouble(s);
    if (!(v > min) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(s);
    }
    return v;
  }
}

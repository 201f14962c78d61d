package io.jouletrace.agent.config;

import java.util.Locale;

/**
 * The catalogue of configuration keys: each key's name, type, default, bounds and documentation,
 * declared once. {@link ConfigLoader} parses with it, error messages quote its accepted form, the
 * environment-variable names are derived from it, and the README's key table is checked against
 * {@link #markdownTable()} by a test.
 *
 * <p>Parsing is a switch over {@link Type}, not a lambda per key: the catalogue is read in {@code
 * premain}, where every lambda would cost a generated class.
 */
public enum Key {
  INTERVAL(
      "interval",
      Type.DURATION,
      "100ms",
      1e-3,
      0,
      "sampling interval (`ns`, `us`, `ms`, `s`, `m`, `h`, `d`, `y`); while the job is quiet"
          + " (no phase changed since the last tick, no GPU, no profiler, no `jfr`; computing or"
          + " not) up to 1 s, until a phase change"),
  BOUNDARY_RESOLUTION(
      "boundary.resolution",
      Type.DURATION_OR_OFF,
      "1ms",
      1e-4,
      0,
      "`off`: no CPU counter reads at phase boundaries; otherwise how often the sampler looks for"
          + " a change where changes cannot wake it (see Attribution)"),
  ATTRIBUTION(
      "attribution",
      "process",
      "`process`: this JVM's share of each device, its CPU time over the host's busy CPU time in"
          + " each interval. `host`: all of the devices' energy is this job's.",
      "process",
      "host"),
  CPU_SOURCE(
      "cpu.source",
      "auto",
      "where CPU and DRAM energy come from: `auto` (RAPL through powercap sysfs, else through the"
          + " MSR driver, else the estimation model), `rapl-sysfs`, `rapl-msr` or `model`",
      "auto",
      "rapl-sysfs",
      "rapl-msr",
      "model"),
  POWERCAP_ROOT(
      "powercap.root",
      Type.DIRECTORY,
      "/sys/class/powercap",
      "root of the RAPL powercap tree; when set, it must exist"),
  MSR_ROOT(
      "msr.root",
      Type.DIRECTORY,
      "/dev/cpu",
      "folder of the `N/msr` device files; when set, it must exist"),
  GPU(
      "gpu",
      "auto",
      "`auto`: use NVIDIA GPUs when NVML is present, silently skip otherwise; `on`: also warn"
          + " when it is not; `off`",
      "auto",
      "on",
      "off"),
  GPU_DEVICES(
      "gpu.devices",
      Type.LIST,
      "",
      "GPUs to measure, as indices or `GPU-…` UUIDs separated by commas, in the form of"
          + " `CUDA_VISIBLE_DEVICES`; by default the GPUs `CUDA_VISIBLE_DEVICES` names (`MIG-…`"
          + " entries count as their parent GPU), else all"),
  NVML_LIBRARY(
      "nvml.library",
      Type.TEXT,
      "",
      "name or full path of the NVML library (default `libnvidia-ml.so.1`)"),
  PROMETHEUS_PORT(
      "prometheus.port",
      Type.PORT_RANGE,
      "9464",
      "port of the `/metrics` endpoint: a port, `0` for any free port, a range `9464-9480` for the"
          + " first free one in it (several JVMs on one host), or `off`. Served once the job's"
          + " start-up leaves a core idle, within a second"),
  PROMETHEUS_HOST("prometheus.host", Type.TEXT_REQUIRED, "0.0.0.0", "bind address of the endpoint"),
  PROMETHEUS_SD_FILE(
      "prometheus.sd-file",
      Type.FILE,
      "",
      "a folder for Prometheus file-based discovery: once the endpoint is up, this JVM writes"
          + " `jouletrace-<host>-<pid>.json` there (its address, `stage` and the job labels), and"
          + " removes it at exit (see Spark)"),
  PROMETHEUS_TLS_CERT(
      "prometheus.tls.cert",
      Type.FILE,
      "",
      "PEM certificate (chain) of the `/metrics` endpoint; with `prometheus.tls.key`, it serves"
          + " HTTPS"),
  PROMETHEUS_TLS_KEY(
      "prometheus.tls.key",
      Type.FILE,
      "",
      "unencrypted PKCS#8 PEM private key of that certificate"),
  PROMETHEUS_TLS_KEYSTORE(
      "prometheus.tls.keystore",
      Type.FILE,
      "",
      "PKCS#12 or JKS key store of the endpoint, instead of the PEM files"),
  PROMETHEUS_TLS_KEYSTORE_PASSWORD(
      "prometheus.tls.keystore.password",
      Type.SECRET,
      "",
      "the key store's password; never printed"),
  PROMETHEUS_USER(
      "prometheus.user",
      Type.TEXT,
      "",
      "basic-auth user of `/metrics` (with `prometheus.password`)"),
  PROMETHEUS_PASSWORD(
      "prometheus.password",
      Type.SECRET,
      "",
      "basic-auth password of `/metrics`; never printed (`JOULETRACE_PROMETHEUS_PASSWORD` keeps it"
          + " off the command line)"),
  PUSH_URL(
      "push.url",
      Type.URL,
      "",
      "Pushgateway to push to at exit (and every `push.interval`), e.g. `http://pushgateway:9091`"),
  PUSH_JOB(
      "push.job",
      Type.TEXT,
      "",
      "the `job` grouping key (default: the job label `job_name`, else `jouletrace`)"),
  PUSH_INSTANCE(
      "push.instance", Type.TEXT, "", "the `instance` grouping key (default: `<hostname>:<pid>`)"),
  PUSH_INTERVAL(
      "push.interval",
      Type.DURATION_OR_OFF,
      "off",
      0.1,
      0,
      "push period while the job runs, or `off` (push only at exit)"),
  PUSH_TIMEOUT(
      "push.timeout",
      Type.DURATION,
      "2s",
      0.01,
      0,
      "longest a push may take; exit never waits longer for the last one"),
  CSV(
      "csv",
      Type.FILE,
      "",
      "CSV run log: one row per run appended (header once; safe with several JVMs at once)"),
  REPORT_HTML(
      "report.html",
      Type.FILE,
      "",
      "self-contained HTML report written at exit (power over time, phases, carbon, energy per"
          + " method and flame graph with `profile=true`, measuring cost)"),
  REPORT_JSON(
      "report.json",
      Type.FILE,
      "jouletrace-report.json",
      "JSON report written at exit (relative to the working directory)"),
  CARBON_INTENSITY(
      "carbon.intensity",
      Type.NUMBER,
      "475",
      0,
      Double.MAX_VALUE,
      "grid intensity in gCO2e/kWh. The default is CodeCarbon's world average; set your grid's"
          + " figure."),
  CARBON_ZONE(
      "carbon.zone",
      Type.TEXT,
      "",
      "grid zone: an ISO 3166-1 alpha-2 country (`DE`, `FR`, `US`), a US state (`US-CA`) or a"
          + " Nordic bidding zone (`SE-SE3`); looked up in the bundled table (see Carbon), and the"
          + " zone asked of `carbon.api`"),
  CARBON_SERIES(
      "carbon.series",
      Type.FILE,
      "",
      "grid intensity over time: CSV `timestamp,gco2e_per_kwh` (ISO-8601 with offset) or an"
          + " Electricity Maps `history` JSON export; each window's energy is charged at the"
          + " intensity in force"),
  CARBON_API(
      "carbon.api",
      "off",
      "`electricitymaps`: live intensity from the Electricity Maps v3 API (needs"
          + " `carbon.zone` or `carbon.lat`/`carbon.lon`, and a token); `off`",
      "off",
      "electricitymaps"),
  CARBON_API_URL(
      "carbon.api.url",
      Type.TEXT_REQUIRED,
      "https://api.electricitymap.org/v3",
      "base URL of the Electricity Maps API (a proxy or test server may stand in)"),
  CARBON_API_TOKEN(
      "carbon.api.token",
      Type.TEXT,
      "",
      "Electricity Maps token (default: the `ELECTRICITYMAPS_TOKEN` environment variable); never"
          + " printed or reported"),
  CARBON_API_REFRESH(
      "carbon.api.refresh",
      Type.DURATION,
      "15m",
      0.05,
      0,
      "how often the latest intensity is fetched"),
  CARBON_LAT(
      "carbon.lat",
      Type.OPTIONAL_NUMBER,
      "",
      -90,
      90,
      "latitude for `carbon.api` when no `carbon.zone` is given"),
  CARBON_LON(
      "carbon.lon",
      Type.OPTIONAL_NUMBER,
      "",
      -180,
      180,
      "longitude for `carbon.api` when no `carbon.zone` is given"),
  CARBON_FACTOR_TYPE(
      "carbon.factor-type",
      "lifecycle",
      "emission factors asked of `carbon.api`: `lifecycle` (with upstream emissions of the"
          + " plants) or `direct` (combustion only)",
      "lifecycle",
      "direct"),
  CARBON_MARKET_INTENSITY(
      "carbon.market.intensity",
      Type.OPTIONAL_NUMBER,
      "",
      0,
      Double.MAX_VALUE,
      "market-based factor in gCO2e/kWh (your supplier's, or the residual mix); reported beside"
          + " the location-based figure, never added to it"),
  CARBON_MARKET_RENEWABLE_SHARE(
      "carbon.market.renewable-share",
      Type.OPTIONAL_NUMBER,
      "",
      0,
      1,
      "fraction 0–1 of the energy covered by renewable contracts (counted at 0 g) in the"
          + " market-based figure"),
  CARBON_TRAINING_TYPE(
      "carbon.training-type",
      "pre-training",
      "`training_type` in the statement's Hugging Face block: `pre-training` or `fine-tuning`, the"
          + " two values of the model card's field",
      "pre-training",
      "fine-tuning"),
  PUE(
      "pue",
      Type.NUMBER,
      "1.0",
      1.0,
      Double.MAX_VALUE,
      "power usage effectiveness of the facility. The agent measures IT energy only; e.g. about"
          + " 1.1 for a hyperscale data centre (Wu et al. 2022), 1.58 for the US average (Patterson"
          + " et al. 2021)."),
  STAGE(
      "stage",
      "training",
      "ML lifecycle stage: `data`, `experimentation`, `training`, `inference`",
      "data",
      "experimentation",
      "training",
      "inference"),
  LABELS(
      "labels",
      Type.LABELS,
      "",
      "job labels `name=value;name=value`, added to every series and to the report; a name given"
          + " twice, or one that a series already uses (`phase`, `zone`, `gpu`, ...), is refused"),
  EMBODIED_KG(
      "embodied.kg",
      Type.NUMBER,
      "1000",
      0,
      Double.MAX_VALUE,
      "manufacturing carbon of the machine in kg CO2e. 1000 kg is a CPU-only server (Wu et al."
          + " 2022; Cloud Carbon Footprint); a GPU server is nearer 2000–2500 kg."),
  EMBODIED_GPU_KG(
      "embodied.gpu-kg",
      Type.NUMBER,
      "150",
      0,
      Double.MAX_VALUE,
      "manufacturing carbon per GPU in use, kg CO2e, for every GPU; when not set, each GPU's model"
          + " figure from the bundled table, else 150 (Cloud Carbon Footprint; Luccioni et al. for"
          + " BLOOM)"),
  EMBODIED_LIFETIME(
      "embodied.lifetime",
      Type.DURATION,
      "4y",
      86400,
      0,
      "period over which embodied carbon is amortised"),
  EMBODIED_UTILIZATION(
      "embodied.utilization",
      Type.FRACTION,
      "1.0",
      "fraction of that lifetime the machine is busy (Wu et al.: 30–60 % is typical)"),
  EFFICIENCY_WARMUP(
      "efficiency.warmup",
      Type.DURATION_OR_OFF,
      "off",
      1e-3,
      0,
      "start of the run left out of the per-unit figures (steady state); totals are unchanged"),
  STATEMENT_MD(
      "statement.md",
      Type.FILE,
      "",
      "carbon statement written at exit (Markdown; default: beside `report.json`, named after it:"
          + " `jouletrace-statement.md`, or `<name>.statement.md` for a report `<name>.json`)"),
  CPU_TDP(
      "cpu.tdp",
      Type.OPTIONAL_NUMBER,
      "",
      0.001,
      Double.MAX_VALUE,
      "estimation model: host CPU watts at 100 % load (default: the CPU's table entry, else 3.5 W"
          + " × logical CPUs)"),
  CPU_IDLE(
      "cpu.idle",
      Type.OPTIONAL_NUMBER,
      "",
      0,
      Double.MAX_VALUE,
      "estimation model: host CPU watts at 0 % load (default: the CPU's table entry, else 0.74 W ×"
          + " logical CPUs)"),
  DRAM_WATTS_PER_GB(
      "dram.watts-per-gb",
      Type.OPTIONAL_NUMBER,
      "",
      0,
      Double.MAX_VALUE,
      "estimation model: memory watts per installed GB (default 0.392)"),
  PHASES_MAX(
      "phases.max",
      Type.INTEGER,
      "256",
      2,
      65535,
      "most distinct phase names; later names are counted as `overflow` (reported once)"),
  INSTRUMENT_WAIT(
      "instrument.wait",
      Type.BOOLEAN,
      "true",
      "a thread that loads a class to instrument before the weaver is ready (a few ms)"
          + " waits for it, so that no call is missed; `false`: the class loads as it is and is"
          + " retransformed as soon as the weaver is ready, and calls made before then are not"
          + " phases"),
  PROFILE(
      "profile",
      Type.BOOLEAN,
      "false",
      "sample stacks with JFR and share each phase's energy among its sampled methods (see"
          + " Profiler)"),
  PROFILE_INTERVAL(
      "profile.interval",
      Type.DURATION,
      "20ms",
      1e-3,
      0,
      "stack sampling interval of the profiler (JFR `jdk.ExecutionSample` and"
          + " `jdk.NativeMethodSample`)"),
  PROFILE_COLLAPSED(
      "profile.collapsed",
      Type.FILE,
      "",
      "folded-stacks file written at exit (`phase;frame;...;frame millijoules`, for"
          + " flamegraph.pl and speedscope); with `profile=true`"),
  PROFILE_PER_PHASE(
      "profile.per-phase",
      Type.BOOLEAN,
      "false",
      "also write one folded-stacks file per phase, `<profile.collapsed>.<phase>`, without the"
          + " phase frame"),
  PROFILE_MAX_STACKS(
      "profile.max-stacks",
      Type.INTEGER,
      "10000",
      16,
      10_000_000,
      "most call-tree nodes (distinct stack prefixes) the profiler keeps; a stack that would add"
          + " more is cut to its known prefix and counted as `[truncated]`"),
  JFR(
      "jfr",
      Type.BOOLEAN,
      "false",
      "emit `io.jouletrace.Phase` (per phase and tick: joules per domain, grams) and"
          + " `io.jouletrace.Power` (per device and tick: watts) events into any running JFR"
          + " recording"),
  LOG_LEVEL(
      "log.level",
      "info",
      "`info`: problems and the table at exit; `debug`: also what each source and output did",
      "info",
      "debug"),
  STRICT("strict", Type.BOOLEAN, "false", "refuse to start the agent on any configuration error"),
  CONFIG("config", Type.FILE, "", "a properties file with any of these keys");

  /** What a key's value is, and so how it is parsed and described. */
  public enum Type {
    BOOLEAN,
    /** A duration of at least {@code min} seconds. */
    DURATION,
    /** A duration of at least {@code min} seconds, or {@code off} (zero). */
    DURATION_OR_OFF,
    /** A directory that must exist when the key is set. */
    DIRECTORY,
    /** A file path (not checked: it may be written later). */
    FILE,
    /** One of the key's choices. */
    CHOICE,
    /** A TCP port, or {@code off} (-1). */
    PORT,
    /** A TCP port, {@code 0} (any free port), a range {@code first-last}, or {@code off}. */
    PORT_RANGE,
    /** Free text, possibly empty. */
    TEXT,
    /** Free text, not empty. */
    TEXT_REQUIRED,
    /** A number in [{@code min}, {@code max}]. */
    NUMBER,
    /** A number in [{@code min}, {@code max}], or empty for "not set" (NaN). */
    OPTIONAL_NUMBER,
    /** A number in (0, 1]. */
    FRACTION,
    /** A whole number in [{@code min}, {@code max}]. */
    INTEGER,
    /** {@code name=value} pairs separated by {@code ;}. */
    LABELS,
    /** Items separated by commas (commas survive inside agent arguments). */
    LIST,
    /** A Pushgateway URL {@code http(s)://host:port[/prefix]}. */
    URL,
    /** A password: taken as it is, never printed (an empty value means none). */
    SECRET
  }

  private final String key;
  private final Type type;
  private final String defaultValue;
  private final double min;
  private final double max;
  private final String doc;
  private final String[] choices;

  Key(String key, Type type, String defaultValue, String doc) {
    this(key, type, defaultValue, 0, 0, doc);
  }

  Key(String key, Type type, String defaultValue, double min, double max, String doc) {
    this.key = key;
    this.type = type;
    this.defaultValue = defaultValue;
    this.min = min;
    this.max = max;
    this.doc = doc;
    this.choices = new String[0];
  }

  Key(String key, String defaultValue, String doc, String... choices) {
    this.key = key;
    this.type = Type.CHOICE;
    this.defaultValue = defaultValue;
    this.min = 0;
    this.max = 0;
    this.doc = doc;
    this.choices = choices;
  }

  /** Returns the key as written in agent arguments, e.g. {@code prometheus.port}. */
  public String key() {
    return key;
  }

  /** Returns the type. */
  public Type type() {
    return type;
  }

  /** Returns the default as text; empty when the key has none. */
  public String defaultValue() {
    return defaultValue;
  }

  /** Returns the one-line documentation, as in the README's table. */
  public String doc() {
    return doc;
  }

  /**
   * Returns the environment variable that sets this key, e.g. {@code JOULETRACE_PROMETHEUS_PORT}.
   */
  public String environmentName() {
    return "JOULETRACE_" + key.replace('.', '_').replace('-', '_').toUpperCase(Locale.ROOT);
  }

  double min() {
    return min;
  }

  double max() {
    return max;
  }

  String[] choices() {
    return choices;
  }

  /**
   * Returns the accepted form, for error messages.
   *
   * @return e.g. {@code process or host}
   */
  public String form() {
    return switch (type) {
      case BOOLEAN -> "true or false";
      case DURATION -> Durations.FORM + ", at least " + Durations.describe(min);
      case DURATION_OR_OFF -> Durations.FORM + ", at least " + Durations.describe(min) + ", or off";
      case DIRECTORY -> "an existing directory";
      case FILE -> "a file path";
      case CHOICE -> String.join(", ", choices).replaceFirst(", ([^,]*)$", " or $1");
      case PORT -> "a TCP port 0-65535 (0: any free port), or off";
      case PORT_RANGE ->
          "a TCP port 0-65535 (0: any free port), a range first-last (the first free one), or off";
      case TEXT -> "text";
      case TEXT_REQUIRED -> "non-empty text";
      case NUMBER, OPTIONAL_NUMBER ->
          max == Double.MAX_VALUE ? "a number >= " + number(min) : "a number from " + range();
      case FRACTION -> "a fraction in (0, 1]";
      case INTEGER -> "an integer from " + range();
      case LABELS ->
          "name=value pairs separated by ';' (e.g. team=ml;run=42), names other than the series'"
              + " own label names";
      case LIST -> "items separated by commas";
      case URL -> "a URL http(s)://host:port[/prefix]";
      case SECRET -> "a secret";
    };
  }

  private String range() {
    return number(min) + " to " + number(max);
  }

  private static String number(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  /**
   * Finds a key by name.
   *
   * @param name e.g. {@code interval}
   * @return the key, or {@code null}
   */
  public static Key byName(String name) {
    for (Key k : values()) {
      if (k.key.equals(name)) {
        return k;
      }
    }
    return null;
  }

  /**
   * Renders the README's key table from the catalogue, {@code phase.<name>} included.
   *
   * @return Markdown rows with a header, each ending in a newline
   */
  public static String markdownTable() {
    StringBuilder b = new StringBuilder("| key | default | meaning |\n| --- | --- | --- |\n");
    for (Key k : values()) {
      b.append("| `")
          .append(k.key)
          .append("` | ")
          .append(k.defaultValue.isEmpty() ? "(none)" : "`" + k.defaultValue + "`")
          .append(" | ")
          .append(k.doc)
          .append(" |\n");
      if (k == BOUNDARY_RESOLUTION) {
        b.append("| `phase.<name>` | (none) | ").append(PHASE_DOC).append(" |\n");
      }
    }
    return b.toString();
  }

  /** Documentation of the {@code phase.<name>} family, which has no fixed name. */
  static final String PHASE_DOC =
      "an automatic phase named `<name>`: `<class pattern>#<method pattern>`, several separated by"
          + " `;` (see Automatic phases)";
}

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
      "sampling interval (`ns`, `us`, `ms`, `s`, `m`," + " `h`, `d`, `y`)"),
  BOUNDARY_RESOLUTION(
      "boundary.resolution",
      Type.DURATION_OR_OFF,
      "1ms",
      1e-4,
      0,
      "how soon after a phase boundary the CPU counters are read, or `off` (see Attribution)"),
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
      "prometheus.port", Type.PORT, "9464", "port of the `/metrics` endpoint, or `off`"),
  PROMETHEUS_HOST("prometheus.host", Type.TEXT_REQUIRED, "0.0.0.0", "bind address of the endpoint"),
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
      "job labels `name=value;name=value`, added to every series and to the report; a name that a"
          + " series already uses (`phase`, `zone`, `gpu`, ...) is refused"),
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
      "manufacturing carbon per GPU in use, kg CO2e (Cloud Carbon Footprint; Luccioni et al. for"
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
      "a thread that loads a class to instrument before Byte Buddy is ready (the first few hundred"
          + " ms) waits for it, so that no call is missed; `false`: the class loads as it is and is"
          + " retransformed as soon as Byte Buddy is ready, and calls made before then are not"
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
    LIST
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

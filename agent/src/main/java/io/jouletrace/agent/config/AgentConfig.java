package io.jouletrace.agent.config;

import io.jouletrace.agent.instrument.Rule;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's configuration after all layers were merged and validated: one parsed value per {@link
 * Key}, where it came from, the {@code phase.<name>} rules, and one line per problem found. See
 * {@link ConfigLoader} for precedence; {@link Key} for every key's type, default and meaning.
 *
 * <p>The typed accessors below are shorthands for {@link #get(Key)}.
 */
public final class AgentConfig {

  private final EnumMap<Key, Object> values;
  private final EnumMap<Key, String> origins;
  private final List<Rule> phaseRules;
  private final List<String> errors;

  AgentConfig(
      EnumMap<Key, Object> values,
      EnumMap<Key, String> origins,
      List<Rule> phaseRules,
      List<String> errors) {
    this.values = values;
    this.origins = origins;
    this.phaseRules = List.copyOf(phaseRules);
    this.errors = List.copyOf(errors);
  }

  /**
   * Returns a key's value, parsed as its {@link Key.Type} says: {@link Duration}, {@link Path},
   * {@code String}, {@code Double}, {@code Integer}, {@code Boolean}, {@code Map<String, String>}
   * (labels) or {@code List<String>} (lists).
   *
   * @param key the key
   * @param <T> the value's type
   * @return the configured value, or the default when the key was not set or was malformed
   */
  @SuppressWarnings("unchecked")
  public <T> T get(Key key) {
    return (T) values.get(key);
  }

  /**
   * Returns where a key's value came from.
   *
   * @param key the key
   * @return e.g. {@code agent arguments}, {@code environment JOULETRACE_PUE}, or {@code null} when
   *     the default is in force
   */
  public String origin(Key key) {
    return origins.get(key);
  }

  /** Returns {@code true} when the key was set (validly) rather than left at its default. */
  public boolean isSet(Key key) {
    return origins.containsKey(key);
  }

  /** Returns automatic phases declared with {@code phase.<name>} keys. */
  public List<Rule> phaseRules() {
    return phaseRules;
  }

  /** Returns one line per configuration problem found. */
  public List<String> errors() {
    return errors;
  }

  public Duration interval() {
    return get(Key.INTERVAL);
  }

  /** Returns how soon after a boundary the CPU counters are read; zero when off. */
  public Duration boundaryResolution() {
    return get(Key.BOUNDARY_RESOLUTION);
  }

  public Path powercapRoot() {
    return get(Key.POWERCAP_ROOT);
  }

  public String cpuSource() {
    return get(Key.CPU_SOURCE);
  }

  public Path msrRoot() {
    return get(Key.MSR_ROOT);
  }

  public String attribution() {
    return get(Key.ATTRIBUTION);
  }

  /** Returns {@code true} when the job gets all of each device's energy. */
  public boolean hostAttribution() {
    return "host".equals(attribution());
  }

  /** Returns the endpoint's port (the first of a range; 0 for any free port), or -1 when off. */
  public int prometheusPort() {
    return this.<PortRange>get(Key.PROMETHEUS_PORT).first();
  }

  /** Returns the last port the endpoint may take: {@link #prometheusPort()} unless a range. */
  public int prometheusPortLast() {
    return this.<PortRange>get(Key.PROMETHEUS_PORT).last();
  }

  /** Returns the folder for the Prometheus file_sd target file, or {@code null}. */
  public Path prometheusSdFile() {
    return get(Key.PROMETHEUS_SD_FILE);
  }

  public String prometheusHost() {
    return get(Key.PROMETHEUS_HOST);
  }

  public Path reportJson() {
    return get(Key.REPORT_JSON);
  }

  /** Returns the grid intensity, gCO2e per kWh. */
  public double carbonIntensity() {
    return this.<Double>get(Key.CARBON_INTENSITY);
  }

  public double pue() {
    return this.<Double>get(Key.PUE);
  }

  public String stage() {
    return get(Key.STAGE);
  }

  public Map<String, String> labels() {
    return get(Key.LABELS);
  }

  /** Returns the machine's manufacturing carbon, kg CO2e. */
  public double embodiedKg() {
    return this.<Double>get(Key.EMBODIED_KG);
  }

  public Duration embodiedLifetime() {
    return get(Key.EMBODIED_LIFETIME);
  }

  public double embodiedUtilization() {
    return this.<Double>get(Key.EMBODIED_UTILIZATION);
  }

  /** Returns the model's host CPU watts at full load, or NaN for the default. */
  public double cpuTdp() {
    return this.<Double>get(Key.CPU_TDP);
  }

  /** Returns the model's host CPU watts at idle, or NaN for the default. */
  public double cpuIdle() {
    return this.<Double>get(Key.CPU_IDLE);
  }

  /** Returns the model's memory watts per GB, or NaN for the default. */
  public double dramWattsPerGb() {
    return this.<Double>get(Key.DRAM_WATTS_PER_GB);
  }

  public int phasesMax() {
    return this.<Integer>get(Key.PHASES_MAX);
  }

  public String gpu() {
    return get(Key.GPU);
  }

  /** Returns the {@code gpu.devices} override as one comma-separated string, or {@code null}. */
  public String gpuDevices() {
    List<String> l = get(Key.GPU_DEVICES);
    return l.isEmpty() ? null : String.join(",", l);
  }

  /** Returns the NVML library name or path, or {@code null} for the default. */
  public String nvmlLibrary() {
    String s = get(Key.NVML_LIBRARY);
    return s.isEmpty() ? null : s;
  }

  /** Returns the manufacturing carbon per GPU in use, kg CO2e. */
  public double embodiedGpuKg() {
    return this.<Double>get(Key.EMBODIED_GPU_KG);
  }

  public boolean instrumentWait() {
    return this.<Boolean>get(Key.INSTRUMENT_WAIT);
  }

  /** Returns {@code true} with {@code log.level=debug}. */
  public boolean debug() {
    return "debug".equals(get(Key.LOG_LEVEL));
  }

  public boolean strict() {
    return this.<Boolean>get(Key.STRICT);
  }

  /** Returns the Pushgateway URL, or {@code null} for no push. */
  public java.net.URI pushUrl() {
    return get(Key.PUSH_URL);
  }

  /** Returns the {@code job} grouping key, or empty for the default. */
  public String pushJob() {
    return get(Key.PUSH_JOB);
  }

  /** Returns the {@code instance} grouping key, or empty for the default. */
  public String pushInstance() {
    return get(Key.PUSH_INSTANCE);
  }

  /** Returns the push period while running, or zero for only at exit. */
  public Duration pushInterval() {
    return get(Key.PUSH_INTERVAL);
  }

  /** Returns the longest a push may take, and the longest exit waits for the last one. */
  public Duration pushTimeout() {
    return get(Key.PUSH_TIMEOUT);
  }

  /** Returns the endpoint's PEM certificate, or {@code null}. */
  public Path tlsCert() {
    return get(Key.PROMETHEUS_TLS_CERT);
  }

  /** Returns the endpoint's PEM private key, or {@code null}. */
  public Path tlsKey() {
    return get(Key.PROMETHEUS_TLS_KEY);
  }

  /** Returns the endpoint's key store, or {@code null}. */
  public Path tlsKeystore() {
    return get(Key.PROMETHEUS_TLS_KEYSTORE);
  }

  /** Returns the key store's password, or {@code null}; never printed. */
  public char[] tlsKeystorePassword() {
    return get(Key.PROMETHEUS_TLS_KEYSTORE_PASSWORD);
  }

  /** Returns the basic-auth user of the endpoint, or empty. */
  public String prometheusUser() {
    return get(Key.PROMETHEUS_USER);
  }

  /** Returns the basic-auth password, or {@code null}; never printed. */
  public char[] prometheusPassword() {
    return get(Key.PROMETHEUS_PASSWORD);
  }

  /** Returns the CSV run log, or {@code null}. */
  public Path csv() {
    return get(Key.CSV);
  }

  /** Returns the HTML report, or {@code null}. */
  public Path reportHtml() {
    return get(Key.REPORT_HTML);
  }

  /** Returns {@code true} when the energy profiler is on. */
  public boolean profile() {
    return this.<Boolean>get(Key.PROFILE);
  }

  public Duration profileInterval() {
    return get(Key.PROFILE_INTERVAL);
  }

  /** Returns the folded-stacks file, or {@code null} when none is written. */
  public Path profileCollapsed() {
    return get(Key.PROFILE_COLLAPSED);
  }

  public boolean profilePerPhase() {
    return this.<Boolean>get(Key.PROFILE_PER_PHASE);
  }

  public int profileMaxStacks() {
    return this.<Integer>get(Key.PROFILE_MAX_STACKS);
  }

  /** Returns {@code true} when the agent emits its own JFR events. */
  public boolean jfr() {
    return this.<Boolean>get(Key.JFR);
  }
}

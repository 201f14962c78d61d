package io.jouletrace.agent.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The agent's configuration after all layers were merged and validated. See {@link ConfigLoader}
 * for keys, defaults and precedence.
 *
 * @param interval sampling interval
 * @param boundaryResolution how soon after a phase boundary the CPU counters are read; zero when
 *     off
 * @param powercapRoot root of the powercap tree
 * @param cpuSource {@code auto}, {@code rapl-sysfs}, {@code rapl-msr} or {@code model}
 * @param msrRoot folder of the {@code <cpu>/msr} files
 * @param attribution {@code process} or {@code host}
 * @param prometheusPort TCP port of the pull endpoint, or -1 when off
 * @param prometheusHost bind address
 * @param reportJson where the JSON report is written at exit
 * @param carbonIntensity grid intensity, gCO2e per kWh
 * @param pue power usage effectiveness
 * @param stage ML lifecycle stage
 * @param labels job labels
 * @param embodiedKg manufacturing carbon of the machine, kg CO2e
 * @param embodiedLifetime amortisation period
 * @param embodiedUtilization busy fraction of the machine's lifetime
 * @param cpuTdp model: host CPU watts at full load, or NaN for the default
 * @param cpuIdle model: host CPU watts at idle, or NaN for the default
 * @param dramWattsPerGb model: memory watts per GB, or NaN for the default
 * @param phasesMax most distinct phase names tracked
 * @param gpu {@code auto}, {@code on} or {@code off}
 * @param gpuDevices the {@code gpu.devices} override, or {@code null}
 * @param nvmlLibrary the NVML library name or path, or {@code null} for the default
 * @param embodiedGpuKg manufacturing carbon per GPU in use, kg CO2e
 * @param phaseRules automatic phases declared with {@code phase.<name>} keys
 * @param instrumentWait a thread that loads a class to instrument waits for the instrumentation (no
 *     call is missed) instead of loading it as it is and having it retransformed moments later
 * @param pushUrl Pushgateway URL, or {@code null} for no push
 * @param pushJob {@code job} grouping key, or empty for the default
 * @param pushInstance {@code instance} grouping key, or empty for the default
 * @param pushInterval push period while running, or zero for only at exit
 * @param pushTimeout longest a push may take, and the longest exit waits for the last one
 * @param tlsCert PEM certificate of /metrics, or {@code null}
 * @param tlsKey PEM private key of /metrics, or {@code null}
 * @param tlsKeystore key store of /metrics, or {@code null}
 * @param tlsKeystorePassword its password, or {@code null}; never printed
 * @param prometheusUser basic-auth user of /metrics, or empty
 * @param prometheusPassword basic-auth password, or {@code null}; never printed
 * @param csv CSV run log, or {@code null}
 * @param reportHtml HTML report, or {@code null}
 * @param strict refuse to start on any configuration error
 * @param errors one line per configuration problem found
 */
public record AgentConfig(
    Duration interval,
    Duration boundaryResolution,
    Path powercapRoot,
    String cpuSource,
    Path msrRoot,
    String attribution,
    int prometheusPort,
    String prometheusHost,
    Path reportJson,
    double carbonIntensity,
    double pue,
    String stage,
    Map<String, String> labels,
    double embodiedKg,
    Duration embodiedLifetime,
    double embodiedUtilization,
    double cpuTdp,
    double cpuIdle,
    double dramWattsPerGb,
    int phasesMax,
    String gpu,
    String gpuDevices,
    String nvmlLibrary,
    double embodiedGpuKg,
    List<io.jouletrace.agent.instrument.Rule> phaseRules,
    boolean instrumentWait,
    java.net.URI pushUrl,
    String pushJob,
    String pushInstance,
    Duration pushInterval,
    Duration pushTimeout,
    Path tlsCert,
    Path tlsKey,
    Path tlsKeystore,
    char[] tlsKeystorePassword,
    String prometheusUser,
    char[] prometheusPassword,
    Path csv,
    Path reportHtml,
    boolean strict,
    List<String> errors) {

  /** Returns {@code true} when the job gets all of each device's energy. */
  public boolean hostAttribution() {
    return "host".equals(attribution);
  }
}

package io.jouletrace.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.jouletrace.exporter.EnergyMetrics;
import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.MetricFamily;
import io.jouletrace.sources.Domain;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static Properties props(String... kv) {
    Properties p = new Properties();
    for (int i = 0; i < kv.length; i += 2) {
      p.setProperty(kv[i], kv[i + 1]);
    }
    return p;
  }

  @Test
  void defaults() {
    AgentConfig c = ConfigLoader.load(null, new Properties(), Map.of());
    assertThat(c.errors()).isEmpty();
    assertThat(c.interval()).isEqualTo(Duration.ofMillis(100));
    assertThat(c.attribution()).isEqualTo("process");
    assertThat(c.prometheusPort()).isEqualTo(9464);
    assertThat(c.carbonIntensity()).isEqualTo(475);
    assertThat(c.pue()).isEqualTo(1.0);
    assertThat(c.stage()).isEqualTo("training");
    assertThat(c.reportJson()).isEqualTo(Path.of("jouletrace-report.json"));
    assertThat(c.powercapRoot()).isEqualTo(Path.of("/sys/class/powercap"));
    assertThat(c.instrumentWait()).isTrue();
    assertThat(c.phasesMax()).isEqualTo(256);
  }

  @Test
  void phaseIdsHaveSixteenBitsAndInstrumentWaitIsABoolean() {
    AgentConfig ok =
        ConfigLoader.load("phases.max=65535,instrument.wait=false", new Properties(), Map.of());
    assertThat(ok.errors()).isEmpty();
    assertThat(ok.phasesMax()).isEqualTo(65535);
    assertThat(ok.instrumentWait()).isFalse();
    AgentConfig bad =
        ConfigLoader.load("phases.max=65536,instrument.wait=later", new Properties(), Map.of());
    assertThat(bad.errors())
        .hasSize(2)
        .anySatisfy(e -> assertThat(e).contains("'65536'", "'phases.max'", "from 2 to 65535"))
        .anySatisfy(e -> assertThat(e).contains("'later'", "'instrument.wait'", "true or false"));
    assertThat(bad.phasesMax()).isEqualTo(256);
  }

  @Test
  void precedenceArgsOverPropertiesOverEnvironmentOverFileOverDefaults(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("jt.properties");
    Files.writeString(
        file,
        "interval=4s\npue=1.4\nstage=data\njouletrace.carbon.intensity=100\n"
            + "attribution=host\n");
    AgentConfig c =
        ConfigLoader.load(
            "interval=1s",
            props(
                "jouletrace.interval",
                "2s",
                "jouletrace.pue",
                "1.2",
                "jouletrace.config",
                file.toString(),
                "unrelated",
                "x"),
            Map.of(
                "JOULETRACE_INTERVAL",
                "3s",
                "JOULETRACE_PUE",
                "1.3",
                "JOULETRACE_STAGE",
                "inference",
                "PATH",
                "/bin"));
    assertThat(c.errors()).isEmpty();
    assertThat(c.interval()).isEqualTo(Duration.ofSeconds(1)); // args
    assertThat(c.pue()).isEqualTo(1.2); // property
    assertThat(c.stage()).isEqualTo("inference"); // environment
    assertThat(c.carbonIntensity()).isEqualTo(100); // file
    assertThat(c.attribution()).isEqualTo("host"); // file
    assertThat(c.prometheusPort()).isEqualTo(9464); // default
  }

  @Test
  void environmentNamesMapDotsAndDashes() {
    AgentConfig c =
        ConfigLoader.load(
            null,
            new Properties(),
            Map.of(
                "JOULETRACE_PROMETHEUS_PORT",
                "off",
                "JOULETRACE_DRAM_WATTS_PER_GB",
                "0.5",
                "JOULETRACE_LABELS",
                "team=ml;run=42"));
    assertThat(c.errors()).isEmpty();
    assertThat(c.prometheusPort()).isEqualTo(-1);
    assertThat(c.dramWattsPerGb()).isEqualTo(0.5);
    assertThat(c.labels()).containsExactly(Map.entry("team", "ml"), Map.entry("run", "42"));
  }

  @Test
  void everyMalformedValueIsNamedWithItsOriginAndForm() {
    AgentConfig c =
        ConfigLoader.load(
            "interval=soon,prometheus.port=70000,attribution=mine,labels=phase=x,pue=0.9,"
                + "embodied.utilization=0,carbon.intensity=-3,stage=prod,strict=maybe,nokey",
            props("jouletrace.phases.max", "one", "jouletrace.cpu.tdp", "0"),
            Map.of("JOULETRACE_EMBODIED_LIFETIME", "forever", "JOULETRACE_NOPE", "1"));
    assertThat(c.errors()).hasSize(14);
    assertThat(c.errors())
        .allSatisfy(e -> assertThat(e).startsWith("jouletrace: ").doesNotContain("\n"));
    assertThat(c.errors())
        .anySatisfy(e -> assertThat(e).contains("'soon'", "'interval'", "agent arguments", "100ms"))
        .anySatisfy(e -> assertThat(e).contains("'70000'", "'prometheus.port'", "or off"))
        .anySatisfy(e -> assertThat(e).contains("'mine'", "'attribution'", "process or host"))
        .anySatisfy(e -> assertThat(e).contains("'labels'", "name=value"))
        .anySatisfy(e -> assertThat(e).contains("'pue'", ">= 1"))
        .anySatisfy(e -> assertThat(e).contains("'embodied.utilization'"))
        .anySatisfy(e -> assertThat(e).contains("'carbon.intensity'"))
        .anySatisfy(e -> assertThat(e).contains("'stage'"))
        .anySatisfy(e -> assertThat(e).contains("'strict'"))
        .anySatisfy(e -> assertThat(e).contains("malformed agent argument 'nokey'"))
        .anySatisfy(e -> assertThat(e).contains("'phases.max'", "-Djouletrace.phases.max"))
        .anySatisfy(e -> assertThat(e).contains("'cpu.tdp'"))
        .anySatisfy(
            e -> assertThat(e).contains("'embodied.lifetime'", "JOULETRACE_EMBODIED_LIFETIME"))
        .anySatisfy(e -> assertThat(e).contains("unknown configuration key 'JOULETRACE_NOPE'"));
    // defaults are used for the bad keys
    assertThat(c.interval()).isEqualTo(Duration.ofMillis(100));
    assertThat(c.attribution()).isEqualTo("process");
    assertThat(c.strict()).isFalse();
  }

  @Test
  void unreadableConfigFileIsOneLine(@TempDir Path dir) {
    AgentConfig c =
        ConfigLoader.load("config=" + dir.resolve("none.properties"), new Properties(), Map.of());
    assertThat(c.errors())
        .singleElement()
        .asString()
        .contains("cannot read config file", "none.properties", "'config'");
  }

  @Test
  void durations() {
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse("4y")).isEqualTo(Duration.ofDays(4 * 365));
    assertThat(Durations.parse("10 us")).isEqualTo(Duration.ofNanos(10_000));
  }

  @Test
  void phaseRulesFromEveryLayerAndTheirErrors() {
    AgentConfig c =
        ConfigLoader.load(
            "phase.tokenize=com.acme.Tokenizer#encode*",
            props("jouletrace.phase.load", "+com.acme.Loader#next;com.acme.*Cache#get?"),
            Map.of(
                "JOULETRACE_PHASE_SCORE",
                "com.acme.Scorer#score",
                "JOULETRACE_PHASE_BAD",
                "com.acme.Scorer"));
    assertThat(c.phaseRules())
        .extracting(r -> r.phase() + " " + r.kind() + " " + r.type())
        .containsExactlyInAnyOrder(
            "tokenize EXACT com.acme.Tokenizer",
            "load SUBTYPES com.acme.Loader",
            "load GLOB com.acme.*Cache",
            "score EXACT com.acme.Scorer");
    assertThat(c.errors())
        .singleElement()
        .asString()
        .contains("'phase.bad'", "JOULETRACE_PHASE_BAD", "<class pattern>#<method pattern>");
  }

  @Test
  void anUnknownKeyIsAnsweredWithTheKeyItMostLikelyMeant() {
    Properties props = new Properties();
    props.setProperty("jouletrace.intervall", "1s");
    AgentConfig c =
        ConfigLoader.load(
            "prometheus.prot=9000,report.csv=/tmp/r.csv,bogus=1",
            props,
            Map.of("JOULETRACE_PROMETHEUS_SD_FIEL", "/tmp/sd"));
    assertThat(c.errors())
        .anySatisfy(
            e ->
                assertThat(e)
                    .contains(
                        "'prometheus.prot' (agent arguments); did you mean 'prometheus.port'?"))
        .anySatisfy(e -> assertThat(e).contains("'report.csv'", "did you mean 'csv'?"))
        .anySatisfy(e -> assertThat(e).contains("'intervall'", "did you mean 'interval'?"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .contains(
                        "'JOULETRACE_PROMETHEUS_SD_FIEL' (environment); did you mean"
                            + " JOULETRACE_PROMETHEUS_SD_FILE?"))
        .anySatisfy(e -> assertThat(e).contains("'bogus'").doesNotContain("did you mean"));
    assertThat(ConfigLoader.distance("prometheus.prot", "prometheus.port")).isEqualTo(1);
    assertThat(ConfigLoader.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(ConfigLoader.distance("", "abc")).isEqualTo(3);
  }

  @Test
  void theStatementsTrainingTypeIsOneOfTheModelCardsTwoValues() {
    AgentConfig bad = ConfigLoader.load("carbon.training-type=foo", new Properties(), Map.of());
    assertThat(bad.errors())
        .singleElement()
        .asString()
        .contains("'foo'", "'carbon.training-type'", "pre-training or fine-tuning");
    assertThat((String) bad.get(Key.CARBON_TRAINING_TYPE)).isEqualTo("pre-training");
    AgentConfig ok =
        ConfigLoader.load("carbon.training-type=Fine-Tuning", new Properties(), Map.of());
    assertThat(ok.errors()).isEmpty();
    assertThat((String) ok.get(Key.CARBON_TRAINING_TYPE)).isEqualTo("fine-tuning");
  }

  @Test
  void aLabelNameGivenTwiceIsRefusedWithItsNameInsteadOfTheLastValueWinningSilently() {
    AgentConfig c = ConfigLoader.load("labels=team=a;run=1;team=b", new Properties(), Map.of());
    assertThat(c.errors()).singleElement().asString().contains("'labels'", "'team' is given twice");
    assertThat(c.labels()).isEmpty();
    // The same name in two sources is no conflict: the higher one wins, as for every key.
    Properties props = new Properties();
    props.setProperty("jouletrace.labels", "team=b");
    AgentConfig both = ConfigLoader.load("labels=team=a", props, Map.of());
    assertThat(both.errors()).isEmpty();
    assertThat(both.labels()).containsExactly(Map.entry("team", "a"));
  }

  @Test
  void defect1_labelNamedLikeASeriesLabelIsRefusedAndScrapesStillWork() throws Exception {
    for (String name : MetricFamily.reservedLabelNames()) {
      AgentConfig c = ConfigLoader.load("labels=team=a;" + name + "=x", new Properties(), Map.of());
      assertThat(c.errors())
          .as(name)
          .singleElement()
          .asString()
          .contains("'labels'", "'" + name + "'", "reserved");
      assertThat(c.labels()).as(name).isEmpty();
    }
    // The case seen in the field: labels=zone=... on a machine with RAPL detail zones.
    AgentConfig c = ConfigLoader.load("labels=zone=eu-west-1a", new Properties(), Map.of());
    EnergySnapshot s =
        new EnergySnapshot(
            Instant.EPOCH,
            null,
            1,
            "training",
            c.labels(),
            "process",
            Map.of(Domain.CPU, "measured"),
            List.of(),
            List.of(new EnergySnapshot.PhaseEnergy("other", 1, Map.of(Domain.CPU, 1.0), 0, 0)),
            new EnergySnapshot.CarbonFactors(475, "test", 1, 1000, 150, 4, 1),
            List.of(),
            List.of(new EnergySnapshot.ZoneEnergy("rapl-sysfs", "intel-rapl:0:0/core", 2)),
            null);
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new EnergyMetrics(() -> s));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("jouletrace_zone_energy_joules_total{", "zone=\"intel-rapl:0:0/core\"");
  }

  @Test
  void defect2_gpuDevicesListKeepsItsCommasInEverySource() {
    AgentConfig args =
        ConfigLoader.load("gpu.devices=0,1,report.json=r.json", new Properties(), Map.of());
    assertThat(args.errors()).isEmpty();
    assertThat(args.gpuDevices()).isEqualTo("0,1");
    assertThat(args.reportJson()).isEqualTo(Path.of("r.json"));
    AgentConfig uuids =
        ConfigLoader.load("gpu.devices=GPU-aa,GPU-bb,GPU-cc", new Properties(), Map.of());
    assertThat(uuids.gpuDevices()).isEqualTo("GPU-aa,GPU-bb,GPU-cc");
    assertThat(
            ConfigLoader.load(null, props("jouletrace.gpu.devices", "2,3"), Map.of()).gpuDevices())
        .isEqualTo("2,3");
    assertThat(
            ConfigLoader.load(null, new Properties(), Map.of("JOULETRACE_GPU_DEVICES", "0, 1"))
                .gpuDevices())
        .isEqualTo("0,1");
    // Elsewhere a part without '=' is still an error.
    assertThat(ConfigLoader.load("pue=1.2,1", new Properties(), Map.of()).errors())
        .singleElement()
        .asString()
        .contains("malformed agent argument '1'");
  }

  @Test
  void defect3_configuredPathThatDoesNotExistIsNamedWithItsKey(@TempDir Path dir) throws Exception {
    // Paths under a fresh directory: an absolute path such as /nonexistent may exist on a machine.
    Path missing = dir.resolve("nonexistent");
    AgentConfig c =
        ConfigLoader.load(
            "powercap.root=" + missing,
            props("jouletrace.msr.root", missing.resolve("cpu").toString()),
            Map.of());
    assertThat(c.errors())
        .hasSize(2)
        .anySatisfy(
            e ->
                assertThat(e)
                    .contains(
                        "'" + missing + "'",
                        "'powercap.root'",
                        "agent arguments",
                        "does not exist"))
        .anySatisfy(
            e -> assertThat(e).contains("'msr.root'", "-Djouletrace.msr.root", "does not exist"));
    Path file = Files.createFile(dir.resolve("plain"));
    assertThat(ConfigLoader.load("powercap.root=" + file, new Properties(), Map.of()).errors())
        .singleElement()
        .asString()
        .contains("'powercap.root'", "not a directory");
    assertThat(ConfigLoader.load("powercap.root=" + dir, new Properties(), Map.of()).errors())
        .isEmpty();
  }

  @Test
  void readmeKeyTableIsTheCatalogue() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    int start = readme.indexOf("| key | default | meaning |");
    assertThat(start).as("README has a key table").isGreaterThan(0);
    int end = readme.indexOf("\n\n", start);
    assertThat(readme.substring(start, end + 1))
        .as("README's key table; the catalogue renders it as:%n%s", Key.markdownTable())
        .isEqualTo(Key.markdownTable());
  }

  @Test
  void everyKeyDefaultParsesAndEveryEnvironmentNameMapsBack() {
    AgentConfig c = ConfigLoader.load(null, new Properties(), Map.of());
    for (Key k : Key.values()) {
      if (!k.defaultValue().isEmpty()) {
        assertThat(c.<Object>get(k)).as(k.key()).isNotNull();
      }
      assertThat(
              ConfigLoader.load(
                      null, new Properties(), Map.of(k.environmentName(), k.defaultValue()))
                  .isSet(k))
          .as(k.environmentName())
          .isEqualTo(
              k.type() != Key.Type.DIRECTORY || Files.isDirectory(Path.of(k.defaultValue())));
    }
  }
}

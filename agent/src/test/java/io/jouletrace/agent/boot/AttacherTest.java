package io.jouletrace.agent.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class AttacherTest {

  @Test
  void featureVersionOfOldAndNewSpecificationVersions() {
    assertThat(Attacher.featureVersion("1.8")).isEqualTo(8);
    assertThat(Attacher.featureVersion("17")).isEqualTo(17);
    assertThat(Attacher.featureVersion("21")).isEqualTo(21);
    assertThat(Attacher.featureVersion("25.0")).isEqualTo(25);
    assertThat(Attacher.featureVersion(null)).isEqualTo(-1);
    assertThat(Attacher.featureVersion("x")).isEqualTo(-1);
  }

  @Test
  void noteOnlyForJava21AndLaterWithoutAnExplicitFlag() {
    assertThat(Attacher.dynamicLoadingNote("17", null, "-Xmx1g")).isNull();
    assertThat(Attacher.dynamicLoadingNote("1.8", null, null)).isNull();
    assertThat(Attacher.dynamicLoadingNote(null, null, null)).isNull();
    assertThat(Attacher.dynamicLoadingNote("21", null, "-Xmx1g"))
        .isEqualTo(
            "runs Java 21: it prints a warning about this dynamically loaded agent"
                + " (start it with -XX:+EnableDynamicAgentLoading to avoid that)");
    assertThat(Attacher.dynamicLoadingNote("25", "", "")).startsWith("runs Java 25:");
    assertThat(Attacher.dynamicLoadingNote("25", null, "-Xmx1g -XX:+EnableDynamicAgentLoading"))
        .isNull();
    assertThat(Attacher.dynamicLoadingNote("25", "+EnableDynamicAgentLoading", null)).isNull();
  }

  @Test
  void lastExplicitSettingWins() {
    assertThat(Attacher.explicitSetting(null)).isNull();
    assertThat(Attacher.explicitSetting("-Xmx1g -XX:+EnableDynamicAgentLoadingX")).isNull();
    assertThat(Attacher.explicitSetting("-XX:+EnableDynamicAgentLoading")).isTrue();
    assertThat(Attacher.explicitSetting(" -XX:-EnableDynamicAgentLoading ")).isFalse();
    assertThat(
            Attacher.explicitSetting(
                "-XX:-EnableDynamicAgentLoading -Xss1m -XX:+EnableDynamicAgentLoading"))
        .isTrue();
    assertThat(Attacher.explicitSetting("+EnableDynamicAgentLoading\n-EnableDynamicAgentLoading"))
        .isFalse();
  }

  @Test
  void pids() {
    assertThat(Attacher.parsePid("4242")).isEqualTo(4242);
    assertThat(Attacher.parsePid(" 7 ")).isEqualTo(7);
    assertThat(Attacher.parsePid("0")).isEqualTo(-1);
    assertThat(Attacher.parsePid("-5")).isEqualTo(-1);
    assertThat(Attacher.parsePid("abc")).isEqualTo(-1);
    assertThat(Attacher.parsePid(null)).isEqualTo(-1);
  }

  @Test
  void rowsSayWhetherTheAgentRunsAndToleratePropertiesNotRead() {
    Properties with = new Properties();
    with.setProperty("java.specification.version", "25");
    with.setProperty(Attacher.RUNNING_PROPERTY, "0.1.0");
    Properties without = new Properties();
    without.setProperty("java.specification.version", "17");

    assertThat(Attacher.row("12", "app.Main --epochs 3", with))
        .containsExactly("12", "25", "yes 0.1.0", "app.Main --epochs 3");
    assertThat(Attacher.row("345", "345", without)).containsExactly("345", "17", "no", "(unknown)");
    assertThat(Attacher.row("6", "", null)).containsExactly("6", "?", "?", "(unknown)");
  }

  @Test
  void tablePadsAllButTheLastColumn() {
    String nl = System.lineSeparator();
    String table =
        Attacher.table(
            List.of(
                new String[] {"12", "25", "yes 0.1.0", "app.Main --epochs 3"},
                new String[] {"34567", "17", "no", "other.jar"}));
    assertThat(table)
        .isEqualTo(
            "pid    java  jouletrace  main class and arguments"
                + nl
                + "12     25    yes 0.1.0   app.Main --epochs 3"
                + nl
                + "34567  17    no          other.jar"
                + nl);
  }
}

package io.jouletrace.exporter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class FlameGraphTest {

  private static final String FOLDED =
      "train-step;Main.main;Trainer.fit;Net.forward 600\n"
          + "train-step;Main.main;Trainer.fit;Net.backward 300\n"
          + "train-step;Main.main;Trainer.fit 100\n"
          + "data-loading;Main.main;Loader.next<T> 250\n"
          + "other;[no sample] 50\n"
          + "\n"
          + "garbage line without weight\n";

  /** Reads every frame of a rendered graph: title text to rect width. */
  private static Map<String, Double> widths(String svg) throws Exception {
    Document d =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    NodeList groups = d.getElementsByTagName("g");
    Map<String, Double> out = new HashMap<>();
    for (int i = 0; i < groups.getLength(); i++) {
      Element g = (Element) groups.item(i);
      String title = g.getElementsByTagName("title").item(0).getTextContent();
      String name = title.substring(0, title.lastIndexOf(" ("));
      double w =
          Double.parseDouble(
              ((Element) g.getElementsByTagName("rect").item(0)).getAttribute("width"));
      out.merge(name, w, Double::sum);
    }
    return out;
  }

  @Test
  void widthsAreProportionalToEnergyAndTheSvgIsWellFormed() throws Exception {
    String svg = FlameGraph.svg(new StringReader(FOLDED), null);
    Map<String, Double> w = widths(svg);
    double total = 600 + 300 + 100 + 250 + 50;
    double px = FlameGraph.WIDTH / total;
    assertThat(w.get("all")).isCloseTo(FlameGraph.WIDTH, within(0.01));
    assertThat(w.get("train-step")).isCloseTo(1000 * px, within(0.01));
    assertThat(w.get("Trainer.fit")).isCloseTo(1000 * px, within(0.01));
    assertThat(w.get("Net.forward")).isCloseTo(600 * px, within(0.01));
    assertThat(w.get("Net.backward")).isCloseTo(300 * px, within(0.01));
    assertThat(w.get("data-loading")).isCloseTo(250 * px, within(0.01));
    assertThat(w.get("[no sample]")).isCloseTo(50 * px, within(0.01));
    // '<' in a frame name is escaped, not markup
    assertThat(w).containsKey("Loader.next<T>");
    assertThat(svg).contains("1300 mJ").doesNotContain("garbage");
  }

  @Test
  void aPhaseFilterKeepsOnlyThatPhaseWithoutItsFrame() throws Exception {
    String svg = FlameGraph.svg(new StringReader(FOLDED), "train-step");
    Map<String, Double> w = widths(svg);
    assertThat(w).doesNotContainKeys("train-step", "data-loading", "Loader.next<T>", "[no sample]");
    assertThat(w.get("Main.main")).isCloseTo(FlameGraph.WIDTH, within(0.01));
    assertThat(w.get("Net.forward")).isCloseTo(FlameGraph.WIDTH * 0.6, within(0.01));
    assertThat(svg).contains("train-step, 1000 mJ");
  }

  @Test
  void emptyInputGivesAnEmptyGraph() throws Exception {
    String svg = FlameGraph.svg(new StringReader(""), null);
    assertThat(widths(svg)).isEmpty();
    assertThat(svg).startsWith("<svg").contains("0 mJ");
  }
}

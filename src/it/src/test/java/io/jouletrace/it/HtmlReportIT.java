package io.jouletrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML report of a real DJL run, opened in headless Chromium: the page renders the phases, logs
 * no console error, requests nothing from the network, and its screenshot is not blank.
 */
class HtmlReportIT {

  @Test
  void djlReportRendersOfflineInChromium(@TempDir Path dir) throws Exception {
    Path chromium = Servers.binary("chromium");
    assertThat(chromium).as("chromium is not installed (apt-get install chromium)").isNotNull();
    Path html = dir.resolve("djl-report.html");
    ForkedJvm.Result r =
        new ForkedJvm(dir)
            .env("DJL_OFFLINE", "true")
            .env("OPT_OUT_TRACKING", "true")
            .env("OMP_NUM_THREADS", "1")
            .agent(
                "prometheus.port=off,report.json="
                    + dir.resolve("r.json")
                    + ",report.html="
                    + html
                    // no profile.collapsed: the flame graph comes from the stacks in memory
                    + ",profile=true,labels=job_name=djl-html")
            .arg("-jar", ForkedJvm.DJL_JAR.toString(), "--epochs", "10")
            .run(240);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(Files.size(html)).isLessThan(1_000_000);

    // Every request Chromium makes would go through this proxy, loopback included: none may come.
    try (ServerSocket proxy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<String> requests = Collections.synchronizedList(new ArrayList<>());
      Thread t =
          new Thread(
              () -> {
                try {
                  while (true) {
                    try (Socket s = proxy.accept()) {
                      byte[] head = new byte[200];
                      int n = s.getInputStream().read(head);
                      requests.add(
                          n > 0 ? new String(head, 0, n, StandardCharsets.ISO_8859_1) : "");
                    }
                  }
                } catch (java.io.IOException closed) {
                  // test over
                }
              });
      t.setDaemon(true);
      t.start();

      Path png = dir.resolve("djl-report.png");
      Chrome dom = chromium(chromium, dir, proxy.getLocalPort(), "--dump-dom", html);
      Chrome shot =
          chromium(
              chromium,
              dir,
              proxy.getLocalPort(),
              "--screenshot=" + png,
              html,
              "--window-size=1100,1400");
      assertThat(dom.out()).contains("JouleTrace run report", "<svg id=\"power\"");
      for (String phase :
          List.of("train-step", "data-loading", "validation", "inference", "checkpoint", "other")) {
        assertThat(dom.out()).as(phase).contains(phase);
      }
      assertThat(dom.out()).containsPattern("<rect class=\"band\"");
      assertThat(dom.out())
          .contains("<h2>Energy per method</h2>", "<table id=\"methods-self\">")
          .contains("<h2>Measuring cost</h2>", "<td>sampler</td>");
      // the energy flame graph: all phases, and one per phase picked by radio buttons (on Java
      // 17 the last second's samples of a short run may not be delivered, so which phases have
      // frames of their own varies; ten epochs leave JFR time to hand over the start-up's: one
      // CI run of two epochs got no sample at all, and one of three on a day the VM ran them in
      // 0.8 s)
      assertThat(dom.out()).contains("<div id=\"flamegraph\">", "id=\"fg0\" checked");
      assertThat(dom.out()).contains("\">train-step</label>");
      String all = dom.out().substring(dom.out().indexOf("id=\"fg0-graph\">"));
      all = all.substring(0, all.indexOf("</div>"));
      assertThat(all)
          .as("agent's stderr:%n%s", r.stderr())
          .contains("<svg", "DjlTrainingExample.main");
      // and the CSS shows the checked one, the all-phases graph, and hides the others: a copy of
      // the page with a script that writes each graph's computed display into the DOM
      Path probe = dir.resolve("probe.html");
      Files.writeString(
          probe,
          Files.readString(html)
              .replace(
                  "</body>",
                  "<script>document.body.setAttribute('data-fg', Array.from("
                      + "document.querySelectorAll('#flamegraph .fg')).map("
                      + "e => getComputedStyle(e).display).join(','));</script></body>"));
      String shown = chromium(chromium, dir, proxy.getLocalPort(), "--dump-dom", probe).out();
      Matcher fg = Pattern.compile("data-fg=\"([^\"]*)\"").matcher(shown);
      assertThat(fg.find()).as(shown).isTrue();
      List<String> displays = List.of(fg.group(1).split(","));
      assertThat(displays.get(0)).as("%s", displays).isEqualTo("block");
      assertThat(displays.subList(1, displays.size())).as("%s", displays).containsOnly("none");
      assertThat(dom.out()).contains("class=\"estimated\">estimated");
      for (Chrome c : List.of(dom, shot)) {
        assertThat(c.err()).doesNotContain("CONSOLE", "Uncaught", "ERR_");
      }
      // Chromium's own background calls (update and time services of Google) also come through
      // the proxy; any other request came from the page.
      assertThat(pageRequests(requests)).as("network requests of the page").isEmpty();
      // The proxy does see a page's requests: a control page with one image from the network.
      Path control = dir.resolve("control.html");
      Files.writeString(
          control,
          "<html><body><img src=\"http://jouletrace-control.invalid/x.png\"></body></html>");
      chromium(chromium, dir, proxy.getLocalPort(), "--dump-dom", control);
      assertThat(pageRequests(requests)).anyMatch(q -> q.contains("jouletrace-control.invalid"));

      BufferedImage img = ImageIO.read(png.toFile());
      assertThat(img.getWidth()).isGreaterThan(500);
      double sum = 0;
      double sq = 0;
      int nonWhite = 0;
      int n = 0;
      for (int y = 0; y < img.getHeight(); y += 2) {
        for (int x = 0; x < img.getWidth(); x += 2) {
          int rgb = img.getRGB(x, y);
          double l =
              0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
          sum += l;
          sq += l * l;
          nonWhite += l < 240 ? 1 : 0;
          n++;
        }
      }
      double mean = sum / n;
      double variance = sq / n - mean * mean;
      System.out.printf(
          "screenshot %s: luminance variance %.1f, %.1f %% non-white%n",
          png, variance, 100.0 * nonWhite / n);
      assertThat(variance).isGreaterThan(100);
      assertThat(nonWhite).isGreaterThan(n / 50);
      Path keep = Path.of("target", "djl-report.png").toAbsolutePath();
      Files.copy(png, keep, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(html, Path.of("target", "djl-report.html"), StandardCopyOption.REPLACE_EXISTING);
      System.out.println("screenshot kept at " + keep);
    }
  }

  record Chrome(String out, String err) {}

  static List<String> pageRequests(List<String> requests) {
    synchronized (requests) {
      return requests.stream()
          .filter(q -> !q.matches("(?s)\\S+ \\S*(googleapis|google|gstatic)\\.com[:/].*"))
          .toList();
    }
  }

  static Chrome chromium(Path bin, Path dir, int proxyPort, String mode, Path html, String... extra)
      throws Exception {
    Path profile = Files.createTempDirectory(dir, "chrome-profile");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                bin.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--disable-features=NetworkTimeServiceQuerying",
                "--enable-logging=stderr",
                "--v=0",
                "--proxy-server=http://127.0.0.1:" + proxyPort,
                "--proxy-bypass-list=<-loopback>",
                "--user-data-dir=" + profile));
    cmd.addAll(List.of(extra));
    cmd.add(mode);
    cmd.add(html.toUri().toString());
    Path out = dir.resolve("chrome-out-" + profile.getFileName() + ".txt");
    Path err = dir.resolve("chrome-err-" + profile.getFileName() + ".txt");
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    String e = Files.readString(err);
    assertThat(done).as("chromium finished: " + e).isTrue();
    assertThat(p.exitValue()).as(e).isZero();
    return new Chrome(Files.readString(out), e);
  }
}

package io.jouletrace.exporter;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.util.TreeMap;

/**
 * Renders folded stacks ({@code frame;frame;frame weight}, as written by {@code profile.collapsed})
 * as an energy flame graph: one self-contained inline SVG element, no script, no external style, so
 * that a report can embed it as it is. Each frame's width is its total weight; hovering shows the
 * frame, its millijoules and its share.
 *
 * <pre>{@code
 * String svg = FlameGraph.svg(Files.newBufferedReader(collapsed), "train-step");
 * }</pre>
 */
public final class FlameGraph {

  /** Width of the graph in SVG user units. */
  static final double WIDTH = 1200;

  /** Height of one frame. */
  static final int ROW = 16;

  /** Frames narrower than this are left out (their weight stays in their parent's width). */
  static final double MIN_WIDTH = 0.1;

  private FlameGraph() {}

  /**
   * Renders folded stacks.
   *
   * @param collapsed lines {@code frame;...;frame weight}; the first frame is the phase, as in the
   *     agent's file (blank lines and lines without a weight are skipped)
   * @param phase only the stacks of this phase, drawn without the phase frame; {@code null} for all
   *     phases, each phase a frame at the root
   * @return an {@code <svg>} element
   * @throws IOException when {@code collapsed} cannot be read
   */
  public static String svg(Reader collapsed, String phase) throws IOException {
    Node root = new Node("all");
    BufferedReader in =
        collapsed instanceof BufferedReader b ? b : new BufferedReader(collapsed, 1 << 16);
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      int space = line.lastIndexOf(' ');
      if (space <= 0) {
        continue;
      }
      double weight;
      try {
        weight = Double.parseDouble(line.substring(space + 1).trim());
      } catch (NumberFormatException e) {
        continue;
      }
      if (!(weight > 0)) {
        continue;
      }
      String[] frames = line.substring(0, space).split(";", -1);
      int from = 0;
      if (phase != null) {
        if (!frames[0].equals(phase)) {
          continue;
        }
        from = 1;
      }
      Node n = root;
      n.total += weight;
      for (int i = from; i < frames.length; i++) {
        n = n.child(frames[i]);
        n.total += weight;
      }
    }
    return render(root, phase == null ? "all phases" : phase);
  }

  private static String render(Node root, String title) {
    int depth = root.depth();
    int height = (depth + 1) * ROW + 24;
    StringBuilder b = new StringBuilder(1 << 14);
    b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"jouletrace-flamegraph\"")
        .append(" viewBox=\"0 0 ")
        .append(num(WIDTH))
        .append(' ')
        .append(height)
        .append("\" width=\"100%\" font-family=\"monospace\" font-size=\"11\">\n");
    b.append("<text x=\"4\" y=\"14\" font-size=\"13\">Energy flame graph: ")
        .append(escape(title))
        .append(", ")
        .append(num(root.total))
        .append(" mJ</text>\n");
    if (root.total > 0) {
      draw(b, root, 0, WIDTH, 0, height, root.total);
    }
    b.append("</svg>\n");
    return b.toString();
  }

  private static void draw(
      StringBuilder b, Node n, double x, double w, int level, int height, double all) {
    double y = height - (level + 1) * ROW;
    String name = n.name;
    b.append("<g><title>")
        .append(escape(name))
        .append(" (")
        .append(num(n.total))
        .append(" mJ, ")
        .append(Decimals.fixed(100 * n.total / all, 2))
        .append(" %)</title><rect x=\"")
        .append(num(x))
        .append("\" y=\"")
        .append(num(y))
        .append("\" width=\"")
        .append(num(w))
        .append("\" height=\"")
        .append(ROW - 1)
        .append("\" fill=\"")
        .append(color(name))
        .append("\"/>");
    int chars = (int) ((w - 6) / 7);
    if (chars >= 3) {
      String label = name.length() <= chars ? name : name.substring(0, chars - 2) + "..";
      b.append("<text x=\"")
          .append(num(x + 3))
          .append("\" y=\"")
          .append(num(y + ROW - 4))
          .append("\">")
          .append(escape(label))
          .append("</text>");
    }
    b.append("</g>\n");
    double cx = x;
    for (Node c : n.children.values()) {
      double cw = w * c.total / n.total;
      if (cw >= MIN_WIDTH) {
        draw(b, c, cx, cw, level + 1, height, all);
      }
      cx += cw;
    }
  }

  /** A warm colour chosen by the frame's name, stable from run to run; pseudo-frames are grey. */
  private static String color(String name) {
    if (name.startsWith("[")) {
      return "rgb(190,190,190)";
    }
    int h = name.hashCode();
    int r = 205 + Math.floorMod(h, 50);
    int g = Math.floorMod(h >> 8, 180);
    int bl = Math.floorMod(h >> 16, 55);
    return "rgb(" + r + "," + g + "," + bl + ")";
  }

  private static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Decimals.fixed(v, 2);
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  private static final class Node {
    final String name;
    final TreeMap<String, Node> children = new TreeMap<>();
    double total;

    Node(String name) {
      this.name = name;
    }

    Node child(String frame) {
      return children.computeIfAbsent(frame, Node::new);
    }

    int depth() {
      int d = 0;
      for (Node c : children.values()) {
        d = Math.max(d, c.depth() + 1);
      }
      return d;
    }
  }
}

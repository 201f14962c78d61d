package io.jouletrace.agent.profile;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Interned stacks: a call tree whose nodes are stack prefixes, root first, with at most {@code
 * maxNodes} nodes. A stack that would need more is cut to the longest prefix already known, and the
 * id returned says so ({@link #isCut}); it is drawn as that prefix followed by {@value #TRUNCATED}.
 * Memory is therefore bounded whatever the application does.
 *
 * <p>Not thread-safe: the profiler calls it under its own lock.
 */
final class StackTree {

  /** Frame drawn where a stack was cut. */
  static final String TRUNCATED = "[truncated]";

  static final int ROOT = 0;

  private final int maxNodes;
  private final Map<String, Integer> frameIds = new HashMap<>();
  private final List<String> frames = new ArrayList<>();
  private final Map<Long, Integer> children = new HashMap<>();
  private int[] parent = new int[256];
  private int[] frame = new int[256];
  private int size = 1;

  StackTree(int maxNodes) {
    this.maxNodes = Math.max(16, maxNodes);
    parent[ROOT] = -1;
    frame[ROOT] = -1;
  }

  /** Returns the id of a frame name, assigning one the first time. */
  int frameId(String name) {
    Integer id = frameIds.get(name);
    if (id != null) {
      return id;
    }
    int assigned = frames.size();
    frames.add(name);
    frameIds.put(name, assigned);
    return assigned;
  }

  /**
   * Interns a stack.
   *
   * @param frameIdsRootFirst frame ids from {@link #frameId}, outermost first
   * @param n how many of them
   * @return the stack's id: a node, shifted left by one, with bit 0 set when the stack was cut
   */
  int intern(int[] frameIdsRootFirst, int n) {
    int node = ROOT;
    for (int i = 0; i < n; i++) {
      int f = frameIdsRootFirst[i];
      long key = ((long) node << 32) | (f & 0xFFFFFFFFL);
      Integer child = children.get(key);
      if (child == null) {
        if (size >= maxNodes) {
          return (node << 1) | 1;
        }
        child = add(node, f);
        children.put(key, child);
      }
      node = child;
    }
    return node << 1;
  }

  /** Interns a one-frame stack such as {@code [no sample]}. */
  int pseudo(String name) {
    return intern(new int[] {frameId(name)}, 1);
  }

  private int add(int parentNode, int f) {
    if (size == parent.length) {
      parent = Arrays.copyOf(parent, size * 2);
      frame = Arrays.copyOf(frame, size * 2);
    }
    parent[size] = parentNode;
    frame[size] = f;
    return size++;
  }

  static boolean isCut(int stack) {
    return (stack & 1) != 0;
  }

  static int node(int stack) {
    return stack >>> 1;
  }

  /** Returns the number of nodes, the root included. */
  int size() {
    return size;
  }

  /**
   * Returns a stack's frame names, outermost first, with {@value #TRUNCATED} last when it was cut.
   */
  List<String> frames(int stack) {
    ArrayList<String> out = new ArrayList<>();
    if (isCut(stack)) {
      out.add(TRUNCATED);
    }
    for (int n = node(stack); n != ROOT; n = parent[n]) {
      out.add(frames.get(frame[n]));
    }
    java.util.Collections.reverse(out);
    return out;
  }
}

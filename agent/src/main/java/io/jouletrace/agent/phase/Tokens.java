package io.jouletrace.agent.phase;

/**
 * Phase tokens: bit 62 set (so a token is never 0), 21 bits of thread slot, 11 bits of depth, 30
 * bits of generation. The generation makes a second {@code close()} of the same phase harmless.
 */
final class Tokens {

  static final int GENERATION_MASK = (1 << 30) - 1;
  static final int MAX_SLOT = (1 << 21) - 1;

  private Tokens() {}

  static long encode(int slot, int depth, int generation) {
    return (1L << 62) | ((long) slot << 41) | ((long) depth << 30) | generation;
  }

  static int slot(long token) {
    return (int) ((token >>> 41) & MAX_SLOT);
  }

  static int depth(long token) {
    return (int) ((token >>> 30) & 0x7FF);
  }

  static int generation(long token) {
    return (int) (token & GENERATION_MASK);
  }
}

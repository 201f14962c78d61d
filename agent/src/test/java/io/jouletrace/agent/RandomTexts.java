package io.jouletrace.agent;

import java.util.Random;

/** Random texts over a given alphabet, for tests that compare a parser with the one it replaces. */
public final class RandomTexts {

  private final Random random;

  public RandomTexts(long seed) {
    this.random = new Random(seed);
  }

  /** A text of 0 to {@code maxLength} characters, each drawn from {@code alphabet}. */
  public String next(String alphabet, int maxLength) {
    int n = random.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
  }
}

package io.jouletrace.testapp;

import io.jouletrace.api.EnergyPhase;

/** Stand-ins for framework types: a hierarchy, an annotated method and a recursive method. */
public final class Shapes {

  private Shapes() {}

  /** A base type whose subtypes' {@code area} methods are phases under a subtype rule. */
  public interface Shape {
    double area();
  }

  /** A direct implementation. */
  public static class Square implements Shape {
    @Override
    public double area() {
      return 4;
    }
  }

  /** An indirect one, overriding and calling its super. */
  public static final class BigSquare extends Square {
    @Override
    public double area() {
      return super.area() * 4;
    }
  }

  /** An annotated method and a recursive one. */
  public static final class Tokenizer {
    @EnergyPhase("tokenize")
    public int tokenize(String text) {
      return text.split(" ").length;
    }

    public int countdown(int n) {
      return n == 0 ? 0 : 1 + countdown(n - 1);
    }
  }
}

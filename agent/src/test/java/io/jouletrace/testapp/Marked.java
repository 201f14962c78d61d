package io.jouletrace.testapp;

import io.jouletrace.api.EnergyPhase;

/** {@code @EnergyPhase} where it can mark nothing: methods without a body. */
public final class Marked {

  private Marked() {}

  /** An interface whose method is annotated. */
  public interface Job {
    @EnergyPhase("job")
    void run();
  }

  /** An abstract class whose abstract method is annotated, beside one with a body. */
  public abstract static class Step {
    @EnergyPhase("step")
    public abstract int apply(int x);

    @EnergyPhase("kept")
    public int twice(int x) {
      return 2 * apply(x);
    }
  }
}

package io.jouletrace.testapp;

/**
 * Classes a test loads through its own class loader after the gate is registered: reflection on
 * {@link Signatures}'s methods would load {@link Named}, which nothing else ever loads; {@link
 * Target} is the class to instrument whose first load starts the weaver.
 */
public final class Signatures {

  private Signatures() {}

  public static Named make() {
    return null;
  }

  /** Named only in the signature above. */
  public static final class Named {
    private Named() {}
  }

  /** The class to instrument. */
  public static final class Target {
    private Target() {}

    public static int tick(int x) {
      return x * 3;
    }
  }
}

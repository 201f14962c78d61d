package io.jouletrace.examples.spark;

/** DJL without network, in the driver and in each executor (see the training example). */
final class Offline {

  private Offline() {}

  /** Sets DJL's offline and no-tracking properties unless given; before DJL's first class. */
  static void configure() {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    if (System.getProperty("OPT_OUT_TRACKING") == null) {
      System.setProperty("OPT_OUT_TRACKING", "true");
    }
  }
}

package io.jouletrace.agent.profile;

import java.util.Collection;

/** Whole millijoules whose sum is the rounded sum (largest remainders get the spare units). */
final class Rounding {

  private Rounding() {}

  static long[] millijoules(Collection<Double> joules) {
    int n = joules.size();
    long[] out = new long[n];
    double[] rest = new double[n];
    double sum = 0;
    long floors = 0;
    int i = 0;
    for (double j : joules) {
      double mj = Math.max(0, j) * 1000;
      sum += mj;
      out[i] = (long) Math.floor(mj);
      rest[i] = mj - out[i];
      floors += out[i];
      i++;
    }
    long spare = Math.round(sum) - floors;
    Integer[] order = new Integer[n];
    for (int k = 0; k < n; k++) {
      order[k] = k;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(rest[b], rest[a]));
    for (int k = 0; k < n && k < spare; k++) {
      out[order[k]]++;
    }
    return out;
  }
}

package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WindowSecondsTest {

  @Test
  void listsExactlyThePhasesWithTimeInAscendingOrderAndClearsThem() {
    Random r = new Random(11);
    WindowSeconds w = new WindowSeconds(256);
    for (int round = 0; round < 200; round++) {
      double[] expected = new double[256]; // the plain array the window stands for
      for (int k = r.nextInt(12); k > 0; k--) {
        int p = r.nextInt(256);
        double s = r.nextInt(4) == 0 ? 0 : r.nextDouble();
        expected[p] += s;
        w.add(p, s);
      }
      List<Integer> listed = new ArrayList<>();
      for (int i = 0, n = w.count(); i < n; i++) {
        listed.add(w.phase(i));
      }
      List<Integer> nonZero = new ArrayList<>();
      for (int p = 0; p < 256; p++) {
        if (expected[p] != 0) {
          nonZero.add(p);
        }
        assertThat(w.of(p)).isEqualTo(expected[p]);
      }
      assertThat(listed).isEqualTo(nonZero);
      w.clear();
      assertThat(w.count()).isZero();
      for (int p = 0; p < 256; p++) {
        assertThat(w.of(p)).isZero();
      }
    }
  }
}

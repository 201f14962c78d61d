package io.jouletrace.agent.timeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.PhaseBand;
import io.jouletrace.exporter.EnergySnapshot.PowerPoint;
import io.jouletrace.exporter.EnergySnapshot.PowerSeries;
import io.jouletrace.sources.Device;
import io.jouletrace.sources.Domain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PowerTimelineTest {

  static final long T0 = 1_000_000_000L;
  static final long TICK = 100_000_000L; // 100 ms

  static double joules(PowerSeries s) {
    double j = 0;
    for (PowerPoint p : s.points()) {
      j += p.watts() * (p.end() - p.start());
    }
    return j;
  }

  @Test
  void oneHourKeepsABoundedNumberOfPointsAndEveryJoule() {
    PowerTimeline t = new PowerTimeline(T0, 600, 600);
    List<Device> devices =
        List.of(
            new Device("package-0", Domain.CPU, "rapl-sysfs", true, Map.of()),
            new Device("dram", Domain.DRAM, "model", false, Map.of()));
    double[] cumulative = new double[2];
    WindowSeconds phases = new WindowSeconds(4);
    int ticks = 36_000; // one hour at 100 ms
    for (int i = 1; i <= ticks; i++) {
      double cpuWatts = (i / 600) % 2 == 0 ? 80 : 20; // a minute at 80 W, a minute at 20 W
      cumulative[0] += cpuWatts * 0.1;
      cumulative[1] += 5 * 0.1;
      phases.clear();
      phases.add(1 + (i / 50) % 3, 0.1); // a phase change every 5 s among three phases
      t.record(T0 + i * TICK, devices, cumulative, phases);
    }
    EnergySnapshot.Timeline tl = t.freeze(p -> "phase-" + p);
    assertThat(tl.devices()).hasSize(2);
    for (PowerSeries s : tl.devices()) {
      assertThat(s.points().size()).isBetween(300, 601);
      assertThat(s.points().get(0).start()).isEqualTo(0.0);
      assertThat(s.points().get(s.points().size() - 1).end()).isCloseTo(3600, within(1e-6));
      for (int i = 1; i < s.points().size(); i++) {
        assertThat(s.points().get(i).start()).isEqualTo(s.points().get(i - 1).end());
      }
    }
    assertThat(joules(tl.devices().get(0))).isCloseTo(cumulative[0], within(1e-6 * cumulative[0]));
    assertThat(joules(tl.devices().get(1))).isCloseTo(cumulative[1], within(1e-6 * cumulative[1]));
    // Merging keeps the minute-long steps visible: some points near 80 W, some near 20 W.
    assertThat(tl.devices().get(0).points()).anyMatch(p -> p.watts() > 75);
    assertThat(tl.devices().get(0).points()).anyMatch(p -> p.watts() < 25);
    assertThat(tl.devices().get(1).measured()).isFalse();
    assertThat(tl.bands().size()).isBetween(2, 600);
    assertThat(tl.bands().get(tl.bands().size() - 1).end()).isCloseTo(3600, within(1e-6));
  }

  @Test
  void bandsFollowTheDominantPhaseAndADeviceOpenedLateSpreadsItsFirstJoulesFromTheStart() {
    PowerTimeline t = new PowerTimeline(T0, 600, 600);
    Device cpu = new Device("cpu-model", Domain.CPU, "model", false, Map.of());
    Device gpu = new Device("gpu-0", Domain.GPU, "nvml-energy", true, Map.of());
    List<Device> devices = new ArrayList<>(List.of(cpu));
    WindowSeconds phases = new WindowSeconds(3);
    phases.add(2, 0.03);
    phases.add(1, 0.07); // phase 1 holds most of the window
    t.record(T0 + TICK, devices, new double[] {1}, phases);
    t.record(T0 + 2 * TICK, devices, new double[] {2}, phases);
    phases.clear();
    phases.add(2, 0.03);
    devices.add(gpu);
    t.record(T0 + 3 * TICK, devices, new double[] {3, 30}, phases);
    EnergySnapshot.Timeline tl = t.freeze(p -> p == 1 ? "train-step" : "data-loading");
    assertThat(tl.bands())
        .containsExactly(
            new PhaseBand("train-step", 0, 0.2),
            new PhaseBand("data-loading", 0.2, 0.30000000000000004));
    PowerSeries g = tl.devices().get(1);
    assertThat(g.points()).hasSize(1);
    assertThat(g.points().get(0).start()).isEqualTo(0.0);
    assertThat(g.points().get(0).watts()).isCloseTo(100, within(1e-6));
  }

  @Test
  void theLedgerFeedsItAtEveryTick() {
    io.jouletrace.agent.phase.PhaseRegistry registry =
        new io.jouletrace.agent.phase.PhaseRegistry(16, w -> {});
    EnergyLedger ledger = new EnergyLedger(registry, 16, AttributionListener.NONE, 0);
    int src =
        ledger.addSource(List.of(new Device("package-0", Domain.CPU, "test", true, Map.of())), 0);
    int a = registry.idOf("train-step");
    ledger.event(500_000_000L, 0, a);
    for (long t = TICK; t <= 20 * TICK; t += TICK) {
      ledger.sample(src, t, new double[] {50 * t * 1e-9}, new double[] {1});
      ledger.tick(t, 1);
    }
    EnergySnapshot.Timeline tl = ledger.timeline();
    assertThat(tl.devices())
        .singleElement()
        .satisfies(s -> assertThat(s.id()).isEqualTo("package-0"));
    assertThat(tl.devices().get(0).points())
        .hasSize(20)
        .allSatisfy(p -> assertThat(p.watts()).isCloseTo(50, within(1e-6)));
    assertThat(tl.bands())
        .containsExactly(new PhaseBand("other", 0, 0.5), new PhaseBand("train-step", 0.5, 2.0));
  }
}

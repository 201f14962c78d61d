package io.jouletrace.agent.carbon;

import io.jouletrace.exporter.EnergySnapshot;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Domain;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Snapshots for the carbon stage to fill. */
public final class CarbonTestSnapshots {

  private CarbonTestSnapshots() {}

  /** One phase, {@code other}, with no energy of its own. */
  public static EnergySnapshot other() {
    return new EnergySnapshot(
        Instant.EPOCH,
        null,
        1,
        "training",
        Map.of(),
        "process",
        Map.of(Domain.CPU, "measured"),
        List.of(),
        List.of(new PhaseEnergy("other", 1, Map.of(Domain.CPU, 0.0), 0, 0)),
        null,
        List.of(),
        List.of(),
        null);
  }
}

package io.jouletrace.exporter;

import io.jouletrace.exporter.EnergySnapshot.CarbonFactors;
import io.jouletrace.exporter.EnergySnapshot.DeviceEnergy;
import io.jouletrace.exporter.EnergySnapshot.PhaseEnergy;
import io.jouletrace.sources.Domain;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A small known snapshot shared by the exporter tests. */
final class Snapshots {

  private Snapshots() {}

  static EnergySnapshot known() {
    return new EnergySnapshot(
        Instant.parse("2026-11-26T10:00:00Z"),
        Instant.parse("2026-11-26T10:00:10Z"),
        10.0,
        "training",
        Map.of("job", "mlp"),
        "process",
        Map.of(Domain.CPU, "measured", Domain.DRAM, "measured"),
        List.of(
            new DeviceEnergy(
                "package-0", Domain.CPU, "rapl-sysfs", true, 300.0, 30.0, 10.0, Map.of()),
            new DeviceEnergy("dram-0", Domain.DRAM, "rapl-sysfs", true, 50.0, 5.0, 10.0, Map.of())),
        List.of(
            new PhaseEnergy(
                "train-step", 8.0, Map.of(Domain.CPU, 240.0, Domain.DRAM, 40.0), 0.5, 0.25),
            new PhaseEnergy(
                "other", 2.0, Map.of(Domain.CPU, 60.0, Domain.DRAM, 10.0), 0.125, 0.0625)),
        new CarbonFactors(475, "test", 1.0, 1000, 150, 4, 1.0),
        List.of(),
        List.of(new EnergySnapshot.ZoneEnergy("rapl-sysfs", "intel-rapl:0:0/core", 200.0)),
        null,
        null);
  }
}

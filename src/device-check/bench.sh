#!/usr/bin/env bash
# Phase-boundary cost on the device machine: what its clock costs and what enter + exit costs,
# with the runtime the GPU check carries (.devrun/jdk) and src/bench/target/benchmarks.jar.
# Writes the JMH results to ${OUT:-/tmp/device-bench}/phase-boundary.json. BENCHMARKS (a regex of
# method names), WARMUP, ITERATIONS and JMH_ARGS (e.g. "-bm avgt") narrow the run.
set -u
out=${OUT:-/tmp/device-bench}
mkdir -p "$out"
echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
lscpu | grep -E "^Model name|^CPU\(s\)|^Thread|^Hypervisor" || true
.devrun/jdk/bin/java -version 2>&1 | head -1
.devrun/jdk/bin/java -jar src/bench/target/benchmarks.jar \
  "PhaseBoundaryBenchmark.(${BENCHMARKS:-enterExit|twoClockReads|twoClockReadsWhileDraining|apiPhaseClose})\$" \
  -wi "${WARMUP:-3}" -w 1 -i "${ITERATIONS:-5}" -r 1 -f 1 -prof gc ${JMH_ARGS:-} \
  -rf json -rff "$out/phase-boundary.json" 2>&1 \
  | grep -E "^Benchmark|avgt|p0.50|alloc.rate.norm|benchmark threads"

#!/usr/bin/env bash
# Real-GPU check of per-phase GPU energy (run on a GPU machine from the repository root): phases of
# 1 s, 500 ms and 200 ms at several power levels, and a training-loop rhythm, each compared with an
# independent pynvml reading at the same boundaries (compare_phases.py). Prepare .devrun as
# run.sh says, and compile GpuPhasesApp into .devrun/classes as well:
#   javac -d .devrun/classes -cp src/api/target/jouletrace-api-*.jar src/device-check/GpuPhasesApp.java
# Usage: src/device-check/phases.sh [repetitions, default 8]. Writes to ${OUT:-/tmp/device-phases}.
set -u
out=${OUT:-/tmp/device-phases}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,power.draw,power.limit --format=csv
.devrun/jdk/bin/java \
  -javaagent:agent/target/jouletrace-agent.jar=attribution=host,gpu=on,prometheus.port=off,phases.max=1024,report.json=$out/report.json \
  -cp ".devrun/classes:$(ls src/api/target/jouletrace-api-*.jar | head -1)" GpuPhasesApp "${1:-8}" \
  python3 src/device-check/gpu_phases.py "$out/poll.txt" > "$out/app.log" 2>&1
echo "java exit $?"
grep -v '^PHASE ' "$out/app.log" | tail -20
python3 src/device-check/compare_phases.py "$out/report.json" "$out/app.log" "$out/poll.txt"

#!/usr/bin/env bash
# Real-GPU check of the agent's NVML path (run on a GPU machine from the repository root).
# Needs: .devrun/jdk (a jlinked Java runtime), .devrun/classes (GpuWindowApp compiled),
# agent/target/jouletrace-agent.jar, src/api/target/jouletrace-api-*.jar; python3 with torch and
# nvidia-ml-py. Writes report.json and app.log to ${OUT:-/tmp/device-check}.
#
# Prepare them on the build machine (after `mvn -B -DskipTests install`):
#   jlink --add-modules java.base,java.instrument,java.management,jdk.management,jdk.httpserver,\
#     jdk.unsupported,java.sql,java.naming,java.logging,java.xml --strip-debug --no-header-files \
#     --no-man-pages --compress=2 --output .devrun/jdk
#   javac -d .devrun/classes -cp src/api/target/jouletrace-api-*.jar src/device-check/GpuWindowApp.java
set -u
out=${OUT:-/tmp/device-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,power.draw --format=csv
.devrun/jdk/bin/java \
  -javaagent:agent/target/jouletrace-agent.jar=attribution=host,gpu=on,prometheus.port=off,report.json=$out/report.json \
  -cp ".devrun/classes:$(ls src/api/target/jouletrace-api-*.jar | head -1)" GpuWindowApp \
  python3 src/device-check/gpu_load.py "${1:-40}" > "$out/app.log" 2>&1
echo "java exit $?"
cat "$out/app.log"
python3 src/device-check/compare.py "$out/report.json" "$out/app.log"

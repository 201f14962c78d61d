#!/usr/bin/env bash
# Runs one job of the DJL-on-Spark example on Spark's local-cluster[2,1,1024] (a master and two
# workers in the driver JVM, each executor a JVM of its own), with the JouleTrace agent on the
# driver and on both executors. Build first (from the repository root):
#   mvn -B -q -pl src/examples/djl-spark -am package -DskipTests
# then:
#   src/examples/djl-spark/run-local-cluster.sh score            # or: sweep
# Environment: OUT (reports and Prometheus targets, default target/spark-run), AGENT_ARGS (more
# agent keys for every JVM, e.g. powercap.root=/tmp/fake), EXTRA (more example arguments).
set -euo pipefail
job=${1:?usage: run-local-cluster.sh score|sweep}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target=$here/target
agent=$root/agent/target/jouletrace-agent.jar
out=${OUT:-$target/spark-run}
mkdir -p "$out/reports" "$out/sd"

# SPARK_HOME as local-cluster needs it: a RELEASE file and jars/ (links to Maven's Spark jars).
home=$target/spark-home
mkdir -p "$home/jars"
echo "Spark 4.2.0 (Maven Central jars)" > "$home/RELEASE"
tr ":" "\n" < "$target/spark-classpath.txt" | while read -r jar || [ -n "$jar" ]; do
  ln -sf "$jar" "$home/jars/$(basename "$jar")"
done
libs=$(cat "$target/app-classpath.txt")

case $job in
  score) stage=inference; args=(--job score --rows 4096 --partitions 4) ;;
  sweep) stage=experimentation; args=(--job sweep --learning-rates 0.001,0.01 --epochs 2) ;;
  *) echo "job: score or sweep" >&2; exit 2 ;;
esac
app=djl-$job-$(date +%Y%m%d%H%M%S)
common="stage=$stage,prometheus.port=9464-9480,prometheus.sd-file=$out/sd${AGENT_ARGS:+,$AGENT_ARGS}"

opens=""
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util \
    java.util.concurrent java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action \
    sun.util.calendar; do
  opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
done

export SPARK_HOME=$home SPARK_SCALA_VERSION=2.13 JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
export DJL_OFFLINE=true OPT_OUT_TRACKING=true OMP_NUM_THREADS=1 SPARK_LOCAL_IP=127.0.0.1
# shellcheck disable=SC2086
exec java $opens \
  "-javaagent:$agent=labels=app=$app;executor=driver,report.json=$out/reports/$app-driver.json,$common" \
  "-Dspark.master=local-cluster[2,1,1024]" \
  "-Dspark.jars=$target/djl-spark.jar" \
  "-Dspark.executor.extraClassPath=$libs" \
  "-Dspark.executor.extraJavaOptions=-javaagent:$agent=labels=app=$app;spark_app={{APP_ID}};executor={{EXECUTOR_ID}},report.json=$out/reports/$app-{{EXECUTOR_ID}}.json,$common" \
  -Dspark.executorEnv.OMP_NUM_THREADS=1 -Dspark.executorEnv.DJL_OFFLINE=true \
  -Dspark.executorEnv.OPT_OUT_TRACKING=true \
  -Dspark.driver.host=127.0.0.1 -Dspark.ui.enabled=false -Dspark.sql.shuffle.partitions=2 \
  -Dspark.scheduler.minRegisteredResourcesRatio=1.0 \
  -Dspark.scheduler.maxRegisteredResourcesWaitingTime=120s \
  -cp "$(cat "$target/spark-classpath.txt"):$target/djl-spark.jar:$libs" \
  io.jouletrace.examples.spark.DjlSparkExample "${args[@]}" ${EXTRA:-}

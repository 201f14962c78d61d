package org.apache.spark.scheduler;

import java.util.Properties;
import java.util.function.Supplier;

/**
 * Stands in for Spark's task class in the in-JVM tests: the same name, a transient {@code
 * localProperties} field set before {@code run} (as Spark's executor does), and a final {@code
 * run}.
 */
public class Task {
  private transient Properties localProperties;
  private final Supplier<Object> body;

  public Task(Properties localProperties, Supplier<Object> body) {
    this.localProperties = localProperties;
    this.body = body;
  }

  public final Object run(long taskAttemptId, int attemptNumber) {
    return body.get();
  }

  public Properties localProperties() {
    return localProperties;
  }
}

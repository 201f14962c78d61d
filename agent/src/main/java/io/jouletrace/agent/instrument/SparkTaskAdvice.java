package io.jouletrace.agent.instrument;

import io.jouletrace.bridge.Dispatch;
import io.jouletrace.bridge.TaskPhases;
import net.bytebuddy.asm.Advice;

/**
 * Inlined around {@code org.apache.spark.scheduler.Task.run}: when the driver set the local
 * property {@value SparkTasks#PROPERTY} (Spark ships a job's local properties with each of its
 * tasks, in the task's {@code localProperties}), the task's execution is a phase of that name.
 * Without the property nothing is opened. Only JDK and bridge classes are referenced, so the
 * inlined code resolves in any class loader.
 */
public final class SparkTaskAdvice {

  private SparkTaskAdvice() {}

  @Advice.OnMethodEnter(suppress = Throwable.class)
  public static long enter(
      @Advice.FieldValue("localProperties") java.util.Properties localProperties) {
    return localProperties == null
        ? 0L
        : TaskPhases.taskStarts(localProperties.getProperty("jouletrace.phase"));
  }

  @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
  public static void exit(@Advice.Enter long token) {
    Dispatch.exit(token);
  }
}

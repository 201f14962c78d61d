package io.jouletrace.agent.profile;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * Ties JFR's clock to {@link System#nanoTime()}: committed by the profiler with the nanoTime read
 * just before, it arrives with JFR's timestamp for the same instant. Off unless the profiler's own
 * stream enables it.
 */
@Name("io.jouletrace.ClockSync")
@Label("JouleTrace clock sync")
@Category("JouleTrace")
@Description("System.nanoTime() at the event's start, to map JFR timestamps to it")
@StackTrace(false)
@Enabled(false)
public final class ClockSyncEvent extends jdk.jfr.Event {

  @Label("System.nanoTime()")
  public long nanoTime;
}

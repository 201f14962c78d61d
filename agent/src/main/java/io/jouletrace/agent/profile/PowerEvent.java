package io.jouletrace.agent.profile;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The average power of one device over one sampling tick (the event spans the tick). */
@Name("io.jouletrace.Power")
@Label("Device power")
@Category("JouleTrace")
@Description("Average power of one device over one sampling interval, before any share")
@StackTrace(false)
public final class PowerEvent extends jdk.jfr.Event {

  @Label("Device")
  public String device;

  @Label("Domain")
  public String domain;

  @Label("Source")
  public String source;

  @Label("Watts")
  public double watts;

  @Label("Joules")
  public double joules;
}

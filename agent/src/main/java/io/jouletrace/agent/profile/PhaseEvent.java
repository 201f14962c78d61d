package io.jouletrace.agent.profile;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** The energy of one phase over one sampling tick (the event spans the tick). */
@Name("io.jouletrace.Phase")
@Label("Energy phase")
@Category("JouleTrace")
@Description("Energy and carbon charged to one phase over one sampling interval")
@StackTrace(false)
public final class PhaseEvent extends jdk.jfr.Event {

  @Label("Phase")
  public String phase;

  @Label("Phase time")
  @Description("The phase's wall time in the interval (shared when threads overlap)")
  @Timespan(Timespan.NANOSECONDS)
  public long phaseTime;

  @Label("CPU joules")
  public double cpuJoules;

  @Label("DRAM joules")
  public double dramJoules;

  @Label("GPU joules")
  public double gpuJoules;

  @Label("Joules")
  public double joules;

  @Label("Grams CO2e")
  @Description("Operational plus embodied")
  public double grams;
}

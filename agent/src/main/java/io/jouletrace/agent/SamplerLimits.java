package io.jouletrace.agent;

/** Limits of the sampler's reads between ticks, shared with its tests. */
public final class SamplerLimits {

  /**
   * Boundary reads allowed per interval: a job whose phases change every millisecond (DJL's
   * batches) would otherwise have its counters read a thousand times a second. Beyond this, the
   * windows' split by each phase's learnt power keeps short phases apart.
   */
  public static final int MAX_BOUNDARY_READS_PER_TICK = 20;

  /**
   * Share of one core the sampler may spend between two ticks on polling for boundaries and reading
   * counters at them. When an interval costs more (code not yet compiled, slow counter files, a
   * phase change every millisecond), the next interval allows half as many boundary reads; when it
   * costs less, one more, up to {@link #MAX_BOUNDARY_READS_PER_TICK}.
   */
  public static final double BOUNDARY_CPU_SHARE = 0.01;

  /**
   * The longest time between two ticks while the job is quiet: no thread changed phase or is inside
   * one, no counter is read on an update grid (GPUs), and the profiler and JFR events are off,
   * whether the process computes or not (all of its energy then goes to {@code other}). A phase
   * change wakes the sampler at once and ticks resume at {@code interval}. Every tick costs a
   * wake-up and a read of every counter and of {@code /proc}, which a job outside its phases need
   * not pay ten times a second.
   */
  public static final long QUIET_TICK_NANOS = 1_000_000_000L;

  /**
   * What one wake-up of a sleeping thread costs in CPU time, beyond what its own CPU time shows: a
   * thread that only wakes every 100 ms used 52 to 68 us of CPU per wake-up on the CI VM ({@code
   * WakeUpCost}; the C program in {@code src/bench} 52 us).
   */
  public static final long WAKE_UP_NANOS = 60_000L;

  /** The longest a reader of the live figures waits for the tick it asks for. */
  public static final long FRESHEN_WAIT_MILLIS = 100;

  /**
   * The longest time the agent's optional start-up work (loading and running the report's code
   * once, so that exit does not pay for it) waits for a sampling window in which the host had a
   * core to spare. A job's own start-up keeps every core busy for a while; work of the agent's that
   * can wait should not compete with it. After this long it runs anyway (the job may keep the host
   * busy throughout), and a job that ends first never runs it.
   */
  public static final long SPARE_CPU_WAIT_MILLIS = 10_000;

  /**
   * The longest time the {@code /metrics} endpoint waits, as the work above does, before it starts:
   * short, because a user may scrape a job as soon as it runs.
   */
  public static final long ENDPOINT_WAIT_MILLIS = 1_000;

  /**
   * Threads with phase changes that the collections between two ticks must have taken (or threads
   * new to phases since the last tick) for the following ticks to leave their attribution for later
   * while the host is saturated ({@link #DEFER_IDLE_CORES}): each costs the sampler the cache lines
   * its owner wrote last, and a thousand of them about half a millisecond. A job whose phases a few
   * threads change, however fast (DJL's main thread, ten thousand changes a second), never waits:
   * every tick attributes at once, and the counters are read at phase boundaries.
   */
  public static final int DEFER_MIN_THREADS = 1_000;

  /**
   * A window in which, on average, fewer of the host's logical CPUs than this were idle is a
   * saturated one: the sampler's work there is taken from the job's threads.
   */
  public static final double DEFER_IDLE_CORES = 0.5;

  /**
   * The longest that readings wait for their attribution while the host stays saturated: then the
   * changes are collected and the readings attributed anyway, and the wait begins again. A reader
   * of the live figures, a thread whose ring fills, and exit end the wait at once.
   */
  public static final long DEFER_MAX_NANOS = 2_000_000_000L;

  private SamplerLimits() {}
}

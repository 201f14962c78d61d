package io.jouletrace.agent.carbon;

import io.jouletrace.agent.phase.PhaseRecorder;
import io.jouletrace.agent.phase.PhaseRegistry;
import io.jouletrace.bridge.Dispatch;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Work units per phase and unit name (SCI's R): DJL's training and validation samples and inference
 * inputs, counted by advice, and any unit an application counts with {@code JouleTrace.count}.
 * Counting takes no lock and allocates nothing once a unit name is known.
 */
public final class WorkUnits implements Dispatch.Counter {

  /** Most distinct unit names; later ones are counted as {@code overflow}. */
  public static final int MAX_UNITS = 16;

  private final PhaseRegistry registry;
  private final PhaseRecorder recorder;
  private final int maxPhases;
  private final AtomicLongArray all;
  private final AtomicLongArray steady;
  private final Map<String, Integer> ids = new ConcurrentHashMap<>();
  private final String[] names = new String[MAX_UNITS];
  private int size;
  private final LongSupplier nanos;
  private final long steadyFrom;
  private final boolean noWarmup;
  private final Consumer<String> warn;
  private volatile boolean overflowReported;

  private static final ClassValue<MethodHandle> GET_SIZE =
      new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
          try {
            return MethodHandles.publicLookup()
                .findVirtual(type, "getSize", MethodType.methodType(int.class))
                .asType(MethodType.methodType(int.class, Object.class));
          } catch (ReflectiveOperationException e) {
            return null;
          }
        }
      };

  /**
   * Creates the counters.
   *
   * @param registry phase names
   * @param recorder the phase recorder (for the calling thread's phase); may be {@code null} in
   *     tests that count only in named phases
   * @param maxPhases capacity of {@code registry}
   * @param steadyFromNanos {@link System#nanoTime()} from which units count as steady state
   * @param nanos the clock
   * @param warn one-line warnings
   */
  public WorkUnits(
      PhaseRegistry registry,
      PhaseRecorder recorder,
      int maxPhases,
      long steadyFromNanos,
      LongSupplier nanos,
      Consumer<String> warn) {
    this.registry = registry;
    this.recorder = recorder;
    this.maxPhases = Math.max(2, maxPhases);
    this.all = new AtomicLongArray(this.maxPhases * MAX_UNITS);
    this.steady = new AtomicLongArray(this.maxPhases * MAX_UNITS);
    this.nanos = nanos;
    this.steadyFrom = steadyFromNanos;
    this.noWarmup = steadyFromNanos == Long.MIN_VALUE;
    this.warn = warn;
    names[0] = "overflow";
    ids.put("overflow", 0);
    size = 1;
  }

  @Override
  public void count(String unit, long n) {
    add(recorder == null ? PhaseRegistry.OTHER : recorder.currentPhase(), unit, n);
  }

  @Override
  public void countIn(String phase, String unit, long n) {
    add(registry.idOf(phase), unit, n);
  }

  @Override
  public void countSize(String phase, String unit, Object batch) {
    MethodHandle h = GET_SIZE.get(batch.getClass());
    if (h == null) {
      return;
    }
    try {
      add(registry.idOf(phase), unit, (int) h.invokeExact(batch));
    } catch (Throwable t) {
      // a getSize that throws is the batch's problem, not a count
    }
  }

  private void add(int phase, String unit, long n) {
    if (n <= 0 || phase < 0 || phase >= maxPhases) {
      return;
    }
    Integer u = ids.get(unit == null ? "unnamed" : unit);
    int id = u != null ? u : assign(unit == null ? "unnamed" : unit);
    int cell = phase * MAX_UNITS + id;
    all.addAndGet(cell, n);
    if (noWarmup || nanos.getAsLong() >= steadyFrom) {
      steady.addAndGet(cell, n);
    }
  }

  private synchronized int assign(String unit) {
    Integer u = ids.get(unit);
    if (u != null) {
      return u;
    }
    if (size == MAX_UNITS) {
      if (!overflowReported) {
        overflowReported = true;
        warn.accept(
            "jouletrace: more than "
                + (MAX_UNITS - 1)
                + " work unit names; '"
                + unit
                + "' and later names are counted as 'overflow'");
      }
      return 0;
    }
    names[size] = unit;
    ids.put(unit, size);
    return size++;
  }

  /**
   * Returns the units counted in a phase.
   *
   * @param phase phase id
   * @param steadyOnly only those counted after the warm-up
   * @return unit name to count, units with a count only
   */
  public synchronized Map<String, Long> units(int phase, boolean steadyOnly) {
    Map<String, Long> out = new LinkedHashMap<>();
    if (phase < 0 || phase >= maxPhases) {
      return out;
    }
    AtomicLongArray a = steadyOnly ? steady : all;
    for (int u = 0; u < size; u++) {
      long v = a.get(phase * MAX_UNITS + u);
      if (v > 0 || (steadyOnly && all.get(phase * MAX_UNITS + u) > 0)) {
        out.put(names[u], v);
      }
    }
    return out;
  }
}

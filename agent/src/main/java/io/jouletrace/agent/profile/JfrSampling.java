package io.jouletrace.agent.profile;

import io.jouletrace.agent.AgentThreads;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Recording;
import jdk.jfr.RecordingState;
import jdk.jfr.consumer.RecordedClass;
import jdk.jfr.consumer.RecordedClassLoader;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;
import jdk.jfr.consumer.RecordingStream;

/**
 * Stack samples from JFR's streaming API ({@code jdk.ExecutionSample} for threads running Java,
 * {@code jdk.NativeMethodSample} for threads in native code such as a JNI call into PyTorch), fed
 * to an {@link EnergyProfiler} on the {@code jouletrace-profiler} daemon thread. The stream is a
 * recording of its own: a recording the user started goes on as before (JFR gives every recording
 * the shortest sampling period any of them asks for), and either may stop without the other.
 *
 * <p>Clocks: JFR stamps events in ticks of the same monotonic clock as {@link System#nanoTime()}
 * (on Linux, unless {@code -XX:+UseFastUnorderedTimeStamps}) and hands them out as an {@link
 * Instant}: the chunk's wall-clock start plus the ticks since. The offset between the two is
 * therefore constant within a chunk but may step when a chunk starts after the wall clock was
 * adjusted. It is measured, not assumed: the profiler commits a {@link ClockSyncEvent} carrying
 * {@code System.nanoTime()} every quarter second, and when it comes back its JFR timestamp minus
 * that value is the offset used from then on (until the first one, {@code Instant.now()} minus
 * {@code System.nanoTime()} at start). The same event says up to when samples have been delivered.
 */
public final class JfrSampling {

  /** Native methods in which a thread waits without using a CPU: their samples carry no energy. */
  static final Set<String> IDLE_NATIVE =
      Set.of(
          "sun.nio.ch.EPoll.wait",
          "sun.nio.ch.EPollArrayWrapper.epollWait",
          "sun.nio.ch.KQueue.poll",
          "sun.nio.ch.Net.poll",
          "sun.nio.ch.Net.accept",
          "sun.nio.ch.ServerSocketChannelImpl.accept0",
          "sun.nio.ch.SocketDispatcher.read0",
          "sun.nio.ch.FileDispatcherImpl.read0",
          "sun.nio.ch.IOUtil.drain1",
          "java.net.SocketInputStream.socketRead0",
          "java.net.PlainSocketImpl.socketAccept",
          "java.io.FileInputStream.readBytes",
          "java.io.FileInputStream.read0",
          "java.lang.ProcessHandleImpl.waitForProcessExit0",
          "java.lang.ProcessImpl.waitForProcessExit0",
          "jdk.internal.misc.Signal.wait");

  private static final String EXECUTION = "jdk.ExecutionSample";
  private static final String NATIVE = "jdk.NativeMethodSample";
  private static final String SYNC = "io.jouletrace.ClockSync";
  private static final String COMPILATION = "jdk.Compilation";

  /** Threads of this process looked at, at most, to find the JIT's and JFR's. */
  private static final int TASKS_LISTED = 4096;

  /** The class loader of the agent's own classes, by its class's name. */
  private static final String AGENT_LOADER = loaderName(JfrSampling.class.getClassLoader());

  private static final long SYNC_MILLIS = 250;
  private static final long END_WAIT_MILLIS = 1_500;

  /** The longest the agent's shutdown waits for the profile's stream to stop and close. */
  private static final long STOP_WAIT_MILLIS = 3_000;

  private final EnergyProfiler profiler;
  private final Duration interval;
  private final Consumer<String> warn;
  private final Map<RecordedMethod, String> names = new IdentityHashMap<>();

  /**
   * Stacks already interned, by the parser's object for them (one per stack and chunk): most
   * samples repeat a stack, and then cost one lookup. {@link #IDLE} for an idle native wait.
   */
  private final Map<RecordedStackTrace, Integer> stacks = new IdentityHashMap<>();

  private static final int IDLE = -1;
  private String[] frames = new String[64];
  private volatile RecordingStream stream;
  private volatile boolean closed;
  private volatile boolean failed;
  private volatile long offset;
  private long synced = Long.MIN_VALUE;
  private Thread thread;

  /** Segments of the recording the stream has handed out in full ({@link #onFlush}). */
  private volatile long flushes;

  /**
   * A second recording of the same samples, written to {@link #tailFile} when JFR's own shutdown
   * hook stops it, for a run that ends before the stream has handed out anything; no longer written
   * once the stream has handed out a segment. Null when it could not start.
   */
  private volatile Recording tail;

  private volatile Path tailFile;

  /** The tail recording is to be written at exit ({@link #disarmTail}). */
  private volatile boolean tailArmed;

  /** Why the tail recording could not start, or was not read. */
  private volatile String tailProblem;

  /** Samples handed to {@link #onSample}. */
  private volatile long streamed;

  /** Samples handed over from the tail's file at exit (the stream had handed out none). */
  private volatile long fromTail = -1;

  /**
   * Whether {@code RecordingStream.stop()} exists (Java 20+), which hands out what the stream has
   * not, a new chunk's too. There the tail recording is closed at the stream's first segment: left
   * running, it made the count of the JIT's time on the agent's and JFR's code about 25 % higher
   * than the compilation log's on Java 25 ({@code
   * ProfilerIT.theJitsTimeOnTheAgentsCodeAndJfrsThreadsAreCounted}: +11 to +41 % in 6 runs, -2 to
   * +9 % in 8 closed). On Java 17 to 19 it is only disarmed ({@link #disarmTail}).
   */
  private static final boolean STREAM_STOPS = streamStops();

  private static boolean streamStops() {
    try {
      RecordingStream.class.getMethod("stop");
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  /** How the stop went, for {@link #state()}. */
  private volatile String stopLine = "not stopped";

  /** What ended the stream when it did not end on its own. */
  private volatile Throwable endedBy;

  /** The stream's recording has run: there is something to hand out once it stops. */
  private volatile boolean recordingRan;

  /** The JIT's time on the agent's code; null until sampling starts or when it cannot be told. */
  private volatile JitCost jit;

  /**
   * Whether JFR runs for the profile alone: its threads and its code's compilations are the agent's
   * then. JFR was not running when the profile started it, and no other recording has run since
   * (one started on the command line starts after the agent's {@code premain}).
   */
  private volatile boolean jfrOurs;

  /** Whether JFR's threads have been looked for (at the first flush, on the profiler's thread). */
  private boolean jfrListed;

  /**
   * Creates the sampling side.
   *
   * @param profiler receives the samples
   * @param interval sampling period
   * @param warn receives one-line problems
   */
  public JfrSampling(EnergyProfiler profiler, Duration interval, Consumer<String> warn) {
    this.profiler = profiler;
    this.interval = interval;
    this.warn = warn;
  }

  /** Starts sampling on the {@code jouletrace-profiler} daemon thread; never throws. */
  public void start() {
    thread = AgentThreads.daemon("profiler", this::run);
    thread.start();
  }

  private void run() {
    RecordingStream rs;
    try {
      String why = unavailable();
      if (why != null) {
        throw new IllegalStateException(why);
      }
      offset = epochNanos(Instant.now()) - System.nanoTime();
      jfrOurs = !FlightRecorder.isInitialized();
      Map<Long, Long> compilers = compilerThreads();
      JitCost cost = new JitCost(AgentThreads::cpuOfTask, JfrSampling::compilerThreads);
      cost.jfrOurs(jfrOurs);
      rs = new RecordingStream();
      rs.setOrdered(false);
      rs.setReuse(true);
      rs.enable(EXECUTION).withPeriod(interval);
      rs.enable(NATIVE).withPeriod(interval);
      rs.enable(ClockSyncEvent.class);
      if (compilers != null && !compilers.isEmpty()) {
        rs.enable(COMPILATION).withoutThreshold().withoutStackTrace();
        rs.onEvent(COMPILATION, e -> onCompilation(cost, e));
        jit = cost;
        AgentThreads.countElsewhere("jit", cost::agentNanos);
      }
      rs.onEvent(EXECUTION, this::onSample);
      rs.onEvent(NATIVE, this::onSample);
      rs.onEvent(SYNC, this::onSync);
      rs.onFlush(this::onFlush);
    } catch (Throwable t) {
      failed = true;
      warn.accept(unavailableLine(t.toString()));
      profiler.finish();
      return;
    }
    stream = rs;
    if (closed) {
      rs.close();
      return;
    }
    // JFR records nothing from the thread that runs a stream, so the clock events come from a
    // thread of their own.
    Thread clock = AgentThreads.daemon("profiler-clock", this::clock);
    clock.start();
    JitCost cost = jit;
    RecordingListener running =
        new RecordingListener(
            Thread.currentThread(),
            start -> {
              recordingRan = true;
              if (cost != null) {
                cost.start(); // first: what follows may set the JIT to work on the agent's code
              }
              if (start != null) {
                profiler.samplingStarted(epochNanos(start) - offset);
              }
            },
            this::onStopped);
    if (shuttingDown()) {
      // A recording that starts once JFR's own shutdown hook has run waits for ever (see stop())
      rs.close();
      return;
    }
    startTail();
    try {
      FlightRecorder.addListener(running);
      rs.start(); // returns when the stream ends
    } catch (Throwable t) {
      endedBy = t;
      if (!closed) {
        warn.accept(
            "profile=true: JFR sampling stopped ("
                + t
                + "); energy per method covers the run until then");
      }
    } finally {
      FlightRecorder.removeListener(running);
    }
  }

  /**
   * Starts the tail recording. A stream cannot read its chunk before JFR's first flush, about a
   * second after the start, and a run that ends before then lost the whole profile in about one
   * exit in ten (Java 17 and 25 alike): JFR's shutdown hook finishes the chunk and deletes the
   * repository, and the stream may not open the file in between. A recording with a destination is
   * written there by that same hook before it deletes anything. Once the stream has handed out a
   * segment it is no longer needed ({@link #STREAM_STOPS}). A failure costs only this fallback.
   */
  private void startTail() {
    try {
      Path f = Files.createTempFile("jouletrace-profile-", ".jfr");
      f.toFile().deleteOnExit();
      Recording r = new Recording();
      r.setName("jouletrace-profile-exit");
      r.enable(EXECUTION).withPeriod(interval);
      r.enable(NATIVE).withPeriod(interval);
      r.enable(ClockSyncEvent.class);
      r.setToDisk(true);
      r.setDestination(f);
      // it keeps no chunk the stream's recording would not keep
      r.setMaxAge(Duration.ofSeconds(10));
      tailFile = f;
      tail = r;
      tailArmed = true;
      r.start();
    } catch (Throwable t) {
      tailProblem = t.toString();
      closeTail();
    }
  }

  /**
   * Java 17 to 19, once the stream has handed out a segment: it has its chunk open and hands out
   * the rest at exit by itself. The tail recording is no longer written at exit, but runs on:
   * stopping or closing it would make JFR start a new chunk, which the stream could not read before
   * JFR's next flush, a second later, and there it has no {@code stop()} that would (a run that
   * ended then lost up to that second's samples).
   */
  private synchronized void disarmTail() {
    tailArmed = false;
    Recording r = tail;
    if (r != null) {
      try {
        r.setDestination(null);
      } catch (Throwable t) {
        // stopped already: nothing more is written
      }
    }
    deleteTailFile();
  }

  /** Closes the tail recording without writing it, and removes its file. */
  private synchronized void closeTail() {
    Recording r = tail;
    tail = null;
    if (r != null) {
      try {
        r.setDestination(null);
      } catch (Throwable t) {
        // stopped already: nothing more is written
      }
      try {
        r.close();
      } catch (Throwable t) {
        // best effort
      }
    }
    deleteTailFile();
  }

  private void deleteTailFile() {
    Path f = tailFile;
    tailFile = null;
    if (f != null) {
      try {
        Files.deleteIfExists(f);
      } catch (Exception e) {
        // removed at exit
      }
    }
  }

  /**
   * At exit, when the stream handed out nothing: waits for JFR's shutdown hook to have written the
   * tail recording (it closes it after), at most {@value #END_WAIT_MILLIS} ms, and hands its
   * samples and clock events over as the stream would have.
   *
   * @return {@code true} when the file was read whole
   */
  private boolean readTail() {
    Recording r = tail;
    Path f = tailFile;
    if (r == null || f == null || !tailArmed) {
      return false;
    }
    long deadline = System.nanoTime() + END_WAIT_MILLIS * 1_000_000L;
    while (r.getState() != RecordingState.CLOSED) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      LockSupport.parkNanos(1_000_000L);
    }
    long n = 0;
    try (RecordingFile file = new RecordingFile(f)) {
      List<RecordedEvent> samples = new ArrayList<>();
      while (file.hasMoreEvents()) {
        RecordedEvent e = file.readEvent();
        String type = e.getEventType().getName();
        if (type.equals(SYNC)) {
          onSync(e);
        } else if (type.equals(EXECUTION) || type.equals(NATIVE)) {
          samples.add(e);
        }
      }
      for (RecordedEvent e : samples) { // with the clock's offset of the whole file
        onSample(e);
        n++;
      }
      if (synced != Long.MIN_VALUE) {
        profiler.sampledUpTo(synced);
      }
      fromTail = n;
      return true;
    } catch (Exception e) {
      warn.accept(
          "profile=true: the profile's copy at exit could not be read ("
              + e
              + "); energy per method covers the samples delivered before");
      return false;
    } finally {
      tailArmed = false;
      deleteTailFile();
    }
  }

  /**
   * Tells when this stream's recording runs, with its start (the count of the JIT's time starts
   * then: from then on every compilation has its event), and when it stops, with its stop: JFR
   * tells its listeners of the start on the thread that starts the recording, before the stream
   * blocks there to read events, and of the stop on the thread that stops it, which at exit is
   * usually JFR's own shutdown hook.
   */
  private static final class RecordingListener implements FlightRecorderListener {
    private final Thread starter;
    private final Consumer<Instant> onRunning;
    private final Consumer<Instant> onStopped;
    private volatile Recording ours;

    RecordingListener(Thread starter, Consumer<Instant> onRunning, Consumer<Instant> onStopped) {
      this.starter = starter;
      this.onRunning = onRunning;
      this.onStopped = onStopped;
    }

    @Override
    public void recordingStateChanged(Recording recording) {
      Recording r = ours;
      if (r == null) {
        if (Thread.currentThread() == starter && recording.getState() == RecordingState.RUNNING) {
          ours = recording;
          onRunning.accept(recording.getStartTime());
        }
      } else if (recording == r && recording.getState() != RecordingState.RUNNING) {
        FlightRecorder.removeListener(this);
        Instant at = recording.getStopTime();
        if (at != null) {
          onStopped.accept(at);
        }
      }
    }
  }

  /**
   * The stream's recording stopped: no sample can come for the energy after it (the JVM's exit when
   * JFR's own shutdown hook stopped it).
   */
  private void onStopped(Instant at) {
    profiler.samplingStopped(epochNanos(at) - offset);
  }

  /** Whether the JVM has begun to exit (its shutdown hooks run): no hook can be added then. */
  private boolean shuttingDown() {
    if (closed) {
      return true;
    }
    Thread probe = new Thread(() -> {}, "jouletrace-probe");
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    } catch (RuntimeException e) { // a security manager that forbids it: cannot tell
      return false;
    }
  }

  /**
   * How the stream went, for a debug line: segments handed out, and what ended it when it did not
   * end on its own.
   *
   * @return one line
   */
  public String state() {
    Throwable t = endedBy;
    return flushes
        + " segments handed out, "
        + stopLine
        + (fromTail >= 0 ? ", " + fromTail + " samples read from the exit's copy" : "")
        + (tailProblem == null ? "" : ", no copy at exit (" + tailProblem + ")")
        + (recordingRan ? "" : ", the recording never ran")
        + (t == null ? "" : ", the stream ended by " + t);
  }

  /** Returns {@code true} when JFR could not be used: there is no profile. */
  public boolean failed() {
    return failed;
  }

  /**
   * Says why JFR cannot be used in this JVM.
   *
   * @return the reason, or {@code null} when it can
   */
  public static String unavailable() {
    try {
      return FlightRecorder.isAvailable()
          ? null
          : "Flight Recorder is disabled in this JVM (-XX:-FlightRecorder)";
    } catch (Throwable t) { // e.g. a runtime image without the jdk.jfr module
      return t.toString();
    }
  }

  /**
   * The one line said when JFR cannot be used.
   *
   * @param why the reason
   * @return the line
   */
  public static String unavailableLine(String why) {
    return "profile=true: JFR is not available ("
        + why
        + "); no energy per method, the rest of the measurement is unaffected";
  }

  private void onSample(RecordedEvent e) {
    streamed++; // the profiler's thread alone writes it (and the stopping one once it has ended)
    try {
      RecordedStackTrace st = e.getStackTrace();
      RecordedThread t = e.getThread("sampledThread");
      if (st == null || t == null) {
        profiler.drop();
        return;
      }
      long time = epochNanos(e.getStartTime()) - offset;
      long thread = t.getJavaThreadId();
      Integer known = stacks.get(st);
      if (known != null) {
        if (known == IDLE) {
          profiler.drop();
        } else {
          profiler.sample(time, thread, known);
        }
        return;
      }
      List<RecordedFrame> list = st.getFrames();
      int n = list.size();
      if (n == 0) {
        profiler.drop();
        return;
      }
      if (n > frames.length) {
        frames = new String[Math.max(n, frames.length * 2)];
      }
      boolean nativeSample = NATIVE.equals(e.getEventType().getName());
      for (int i = 0; i < n; i++) {
        frames[n - 1 - i] = name(list.get(i).getMethod()); // JFR lists the running frame first
      }
      if (stacks.size() > 20_000) {
        stacks.clear();
      }
      if (nativeSample && IDLE_NATIVE.contains(frames[n - 1])) {
        stacks.put(st, IDLE);
        profiler.drop();
        return;
      }
      int stack = profiler.intern(frames, n, st.isTruncated());
      stacks.put(st, stack);
      profiler.sample(time, thread, stack);
    } catch (RuntimeException ex) {
      profiler.drop();
    }
  }

  private String name(RecordedMethod m) {
    if (m == null) {
      return "[unknown]";
    }
    String s = names.get(m);
    if (s == null) {
      if (names.size() > 50_000) {
        names.clear();
      }
      s = m.getType().getName() + "." + m.getName();
      names.put(m, s);
    }
    return s;
  }

  /**
   * One compilation, by whose method it compiled: the agent's (loaded by the agent's class loader,
   * or the bridge), JFR's, or another's.
   */
  private static void onCompilation(JitCost cost, RecordedEvent e) {
    try {
      RecordedMethod m = e.getValue("method");
      RecordedThread t = e.getThread();
      if (m != null && t != null) {
        cost.compiled(
            t.getOSThreadId(), kind(t.getJavaName()), e.getDuration().toNanos(), code(m.getType()));
      }
    } catch (RuntimeException ex) {
      // not counted
    }
  }

  /** A compiler thread's compiler: its name without the number ({@code C2 CompilerThread}). */
  private static String kind(String threadName) {
    if (threadName == null) {
      return "";
    }
    int end = threadName.length();
    while (end > 0 && Character.isDigit(threadName.charAt(end - 1))) {
      end--;
    }
    return threadName.substring(0, end);
  }

  /**
   * Whose a class is.
   *
   * @param c the class of a compiled method
   */
  private static JitCost.Code code(RecordedClass c) {
    String name = c.getName();
    if (name.startsWith("io.jouletrace.bridge.")) {
      return JitCost.Code.AGENT;
    }
    if (name.startsWith("jdk.jfr.")) {
      return JitCost.Code.JFR;
    }
    RecordedClassLoader loader = c.getClassLoader();
    RecordedClass type = loader == null ? null : loader.getType();
    return AGENT_LOADER != null && type != null && AGENT_LOADER.equals(type.getName())
        ? JitCost.Code.AGENT
        : JitCost.Code.OTHER;
  }

  /** The JIT's compiler threads, with their CPU time; null when they cannot be listed. */
  private static Map<Long, Long> compilerThreads() {
    return AgentThreads.cpuOfTasksNamed(n -> n.contains("Compiler"), TASKS_LISTED);
  }

  private static String loaderName(ClassLoader l) {
    // Only a loader of the agent's own (not the JDK's application loader, in tests) names the
    // agent's classes.
    return l == null || l == ClassLoader.getSystemClassLoader() ? null : l.getClass().getName();
  }

  /** JFR's threads, when JFR runs for the profile alone: counted as the agent's while it does. */
  private void countJfrThreads() {
    Map<Long, Long> found = AgentThreads.cpuOfTasksNamed(n -> n.startsWith("JFR "), TASKS_LISTED);
    if (found != null && !found.isEmpty()) {
      AgentThreads.countElsewhere("jfr", () -> jfrOurs ? jfrCpu(found) : 0);
    }
  }

  /**
   * Whether JFR still runs for the profile alone: no recording but the stream's has run since. Once
   * another has, neither JFR's threads nor its code's compilations are counted, for the whole run.
   */
  private void checkJfrOurs() {
    if (!jfrOurs) {
      return;
    }
    boolean alone;
    try {
      Recording t = tail;
      alone = FlightRecorder.getFlightRecorder().getRecordings().size() <= (t == null ? 1 : 2);
    } catch (RuntimeException e) {
      alone = false; // cannot tell: not counted
    }
    if (!alone) {
      jfrOurs = false;
      JitCost cost = jit;
      if (cost != null) {
        cost.jfrOurs(false);
      }
    }
  }

  /** JFR's threads' CPU time, the last known for one that ended. */
  private static long jfrCpu(Map<Long, Long> threads) {
    synchronized (threads) {
      long sum = 0;
      for (Map.Entry<Long, Long> e : threads.entrySet()) {
        long cpu = AgentThreads.cpuOfTask(e.getKey());
        if (cpu >= 0) {
          e.setValue(cpu);
        }
        sum += e.getValue();
      }
      return sum;
    }
  }

  private void onSync(RecordedEvent e) {
    long nano = e.getLong("nanoTime");
    offset = epochNanos(e.getStartTime()) - nano;
    synced = Math.max(synced, nano);
  }

  /**
   * The end of a flushed segment: every sample taken before the latest clock event was committed
   * was in a buffer by then, buffers are flushed together, and the whole segment has been handed
   * out (the stream is unordered, so not before).
   */
  private void onFlush() {
    if (closed) {
      Thread.interrupted(); // a wake-up from stop() that came after the nap it was meant for
    }
    if (tailArmed) {
      // the stream has its chunk open: it hands out the rest at exit by itself
      if (STREAM_STOPS) {
        closeTail();
      } else {
        disarmTail();
      }
    }
    if (synced != Long.MIN_VALUE) {
      profiler.sampledUpTo(synced);
    }
    JitCost cost = jit;
    if (cost != null) {
      cost.refresh();
    }
    checkJfrOurs();
    if (jfrOurs && !jfrListed) {
      jfrListed = true;
      countJfrThreads();
    }
    flushes++; // the profiler's thread alone writes it
  }

  /**
   * Every {@value #SYNC_MILLIS} ms until the profiler stops: reads the CPU time of the threads (all
   * of them in a JVM of up to {@value ThreadCpu#ALL_UP_TO} threads, else those sampled lately),
   * then commits a clock event. The clock event's instant comes first, so once it is delivered the
   * profiler has readings from at or after it.
   */
  private void clock() {
    while (!closed) {
      ClockSyncEvent sync = new ClockSyncEvent();
      sync.begin(); // its instant is now, not when it is committed after the readings
      sync.nanoTime = System.nanoTime();
      readCpu();
      sync.commit();
      LockSupport.parkNanos(SYNC_MILLIS * 1_000_000L);
    }
  }

  /** Hands the profiler the CPU time of its threads; never throws. */
  private void readCpu() {
    try {
      long[] all = ThreadCpu.allThreadsIfFew();
      long[] ids = all != null ? all : profiler.sampledThreads();
      long[] nanos = ThreadCpu.read(ids);
      profiler.threadCpu(System.nanoTime(), ids, nanos, ids.length, all != null);
    } catch (RuntimeException | LinkageError e) {
      // without readings, samples weigh alike
    }
  }

  /**
   * Stops sampling, delivering the samples JFR still holds where the JDK can (Java 20 and later),
   * and closes the profile. Returns within {@value #STOP_WAIT_MILLIS} ms, since JFR can wait for
   * ever when the JVM exits as the recording starts: a recording that starts after JFR's own
   * shutdown hook stopped JFR's recorder thread waits for that thread holding JFR's lock, which
   * every stop and close of a recording needs; and a stream that has not found its first file when
   * that hook removes JFR's repository looks for it again and again, while {@code
   * RecordingStream.stop()} waits for the stream. The stream is stopped on a thread of its own, and
   * when that does not return in time the profile covers the run up to what was delivered.
   */
  public void stop() {
    closed = true;
    long t0 = System.nanoTime();
    RecordingStream rs = stream;
    boolean all = rs == null;
    if (rs != null) {
      FutureTask<Boolean> stopping = new FutureTask<>(() -> stopStream(rs));
      AgentThreads.daemon("profiler", stopping).start();
      try {
        all = stopping.get(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        readCpu(); // the last buckets' readings
        JitCost cost = jit;
        if (cost != null && all) {
          cost.refresh(); // the stream has handed out its compilations
        }
      } catch (TimeoutException e) {
        warn.accept(
            "profile=true: JFR did not stop within "
                + STOP_WAIT_MILLIS
                + " ms (the JVM exited as its recording started); energy per method covers the"
                + " samples delivered before");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        // not stopped: what the stream has not handed out by now is not delivered
      }
    }
    stopLine =
        (all ? "all" : "not all")
            + " delivered after the stop, which took "
            + (System.nanoTime() - t0) / 1_000_000
            + " ms";
    if (all) {
      profiler.finish();
    } else {
      profiler.finishAt(profiler.sampledUpTo());
    }
  }

  /**
   * Stops the stream and waits for it to hand out what it holds, as far as the JDK allows; closes
   * it.
   *
   * @return {@code true} when everything recorded was handed out
   */
  private boolean stopStream(RecordingStream rs) {
    boolean all = false;
    try {
      Method stop = RecordingStream.class.getMethod("stop"); // Java 20+
      // stop() waits for the stream to hand out the rest, which it looks for after its nap: a
      // second thread (counted as the profiler) cuts the nap short
      AtomicBoolean stopped = new AtomicBoolean();
      AgentThreads.daemon("profiler", () -> awaitDelivery(false, stopped)).start();
      try {
        stop.invoke(rs);
      } finally {
        stopped.set(true);
      }
      all = true;
    } catch (NoSuchMethodException e) {
      all = awaitEnd();
    } catch (InvocationTargetException e) {
      // IllegalStateException: JFR's own shutdown hook stopped the recording first, or it has
      // not started (and there is nothing to wait for)
      all = e.getCause() instanceof IllegalStateException && recordingRan && awaitLastSegment();
    } catch (Throwable t) {
      // not stopped: what the stream has not handed out by now is not delivered
    }
    try {
      rs.close();
    } catch (Throwable t) {
      // closing is best effort at exit
    }
    if (thread != null) {
      try {
        thread.join(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // The stream ended, or was stopped, without handing out anything: the copy hands its samples
    // over, once the stream can no longer hand out any of its own.
    if (flushes == 0 && streamed == 0 && tailArmed && (thread == null || !thread.isAlive())) {
      all = readTail() || all;
    }
    return all;
  }

  /**
   * Java 17 to 19 have no {@code stop()} that delivers, and closing drops what JFR has not flushed
   * (up to a second of samples, all of a short run's). At exit, though, JFR's own shutdown hook
   * stops every recording, this stream's too, and the stream then hands out the rest and ends:
   * waits for that, at most {@value #END_WAIT_MILLIS} ms.
   *
   * @return {@code true} when the stream ended, having delivered everything
   */
  private boolean awaitEnd() {
    return awaitDelivery(false, null);
  }

  /**
   * Java 20 and later, once JFR's own shutdown hook has stopped the recording: the recording's last
   * segment is on disk, and the stream hands it out when it next looks at the file, but it does not
   * end then, so {@link #awaitEnd()} cannot tell. The stream ends each segment it hands out with a
   * flush, and naps again only once it has found no more data after it: the first nap after a flush
   * that came after the stop means everything was handed out, and so does a nap while it looks for
   * a next chunk file ({@link #awaitsNextChunk}). Waits at most {@value #END_WAIT_MILLIS} ms.
   *
   * @return {@code true} when every event recorded up to the stop was handed out
   */
  private boolean awaitLastSegment() {
    return awaitDelivery(true, null);
  }

  /**
   * Waits for the stream's thread to end, or, with {@code segment}, to nap after a flush that came
   * after this call or while it looks for a next chunk file, or for {@code done}; at most {@value
   * #END_WAIT_MILLIS} ms. The stream looks for new data after a nap of up to a second, which an
   * interrupt cuts short (JFR's nap returns on it, and the thread is this class's own): the rest is
   * handed out within milliseconds of the stop, instead of half a second later on average. A
   * wake-up that lands elsewhere is cleared at the next flush.
   *
   * @return {@code true} when the stream ended, napped after a later flush or looks for a next
   *     chunk
   */
  private boolean awaitDelivery(boolean segment, AtomicBoolean done) {
    Thread t = thread;
    if (t == null) {
      return false;
    }
    long seen = flushes;
    long deadline = System.nanoTime() + END_WAIT_MILLIS * 1_000_000L;
    long wake = System.nanoTime();
    while (t.isAlive() && (done == null || !done.get())) {
      long f = flushes; // read before the state: a nap seen after it came after that flush
      boolean napping = t.getState() == Thread.State.TIMED_WAITING;
      if (segment && napping && (f != seen || awaitsNextChunk(t))) {
        return true;
      }
      long now = System.nanoTime();
      if (now - deadline >= 0) {
        return false;
      }
      // Only once the recording runs: before that, the thread is inside JFR's start, whose
      // waits are not the stream's nap.
      if (napping && recordingRan && now - wake >= 0) {
        t.interrupt();
        wake = now + 20_000_000L;
      }
      LockSupport.parkNanos(1_000_000L);
    }
    return !t.isAlive(); // ended, having handed out everything
  }

  /**
   * Whether the stream's thread waits for a chunk file after the one it read: it looks for the next
   * file only once it has handed out the whole of the last one, which after a stop is the final
   * chunk. The stream can get there before {@link #awaitDelivery} starts, and then flushes no more
   * (JFR's shutdown holds JFR's lock while the agent's stop waits for it, and the stream hands out
   * the rest meanwhile): without this, the wait would run to its end and cut the profile at the
   * last clock event. Reads JFR's own frames, so a JDK that renames them falls back to the flushes.
   */
  private static boolean awaitsNextChunk(Thread t) {
    for (StackTraceElement f : t.getStackTrace()) {
      if (f.getMethodName().equals("nextPath")
          && f.getClassName().equals("jdk.jfr.internal.consumer.RepositoryFiles")) {
        return true;
      }
    }
    return false;
  }

  private static long epochNanos(Instant i) {
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }
}

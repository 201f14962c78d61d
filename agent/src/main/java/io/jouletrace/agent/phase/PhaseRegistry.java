package io.jouletrace.agent.phase;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Maps phase names to small integer ids. Id {@value #OTHER} is {@code other} (time outside any
 * phase), id {@value #OVERFLOW} collects every name beyond {@code phases.max}.
 */
public final class PhaseRegistry {

  /** Id of the {@code other} phase. */
  public static final int OTHER = 0;

  /** Id of the bucket for names beyond the cap. */
  public static final int OVERFLOW = 1;

  /** Most ids a registry hands out: ids travel in 16 bits, and one code is reserved. */
  public static final int MAX_IDS = 0xFFFF;

  /** Name of the bucket for names beyond the cap. */
  public static final String OVERFLOW_NAME = "overflow";

  private final ConcurrentHashMap<String, Integer> ids = new ConcurrentHashMap<>();
  private final String[] names;
  private final AtomicBoolean overflowReported = new AtomicBoolean();
  private final Consumer<String> warn;
  private int size;

  /**
   * The id {@link #idOf} last returned for a name, -1 before any; written only when it changes. Its
   * name is read from {@link #names} after it: the write of the name comes before any lookup can
   * return its id, so no lock is needed.
   */
  private volatile int recent = -1;

  /**
   * Creates a registry.
   *
   * @param max most distinct names, {@code other} and {@code overflow} included (2 to {@value
   *     #MAX_IDS})
   * @param warn receives the one overflow warning
   */
  public PhaseRegistry(int max, Consumer<String> warn) {
    this.names = new String[Math.max(2, Math.min(MAX_IDS, max))];
    this.warn = warn;
    names[OTHER] = "other";
    names[OVERFLOW] = OVERFLOW_NAME;
    ids.put("other", OTHER);
    ids.put(OVERFLOW_NAME, OVERFLOW);
    size = 2;
  }

  /**
   * Returns the id of a name, assigning one the first time.
   *
   * @param name a phase name; {@code null} or blank becomes {@code unnamed}
   * @return its id
   */
  public int idOf(String name) {
    Integer id = ids.get(name == null ? "" : name);
    if (id != null) {
      remember(id);
      return id;
    }
    int assigned = assign(name);
    remember(assigned);
    // Warned outside this object's lock: the warning goes to the ledger, whose lock is held
    // while a snapshot asks this registry for names.
    if (assigned == OVERFLOW && overflowReported.compareAndSet(false, true)) {
      warn.accept(
          "jouletrace: more than "
              + names.length
              + " distinct phase names (phases.max); phase '"
              + (name == null || name.isBlank() ? "unnamed" : name)
              + "' and later new names are counted as '"
              + OVERFLOW_NAME
              + "'");
    }
    return assigned;
  }

  private void remember(int id) {
    if (recent != id) {
      recent = id;
    }
  }

  /**
   * Starts a new thread's own cache of names ({@link ThreadPhases#idOf}) with the name {@link
   * #idOf} last returned an id for: a new thread's first phase is most often the one the thread
   * before it opened (tasks of one kind on a pool of fresh threads). Allocates nothing.
   */
  void seed(ThreadPhases t) {
    int id = recent;
    if (id >= 0) {
      t.seed(names[id], id);
    }
  }

  /** The id {@link #idOf} last returned, -1 before any (tests). */
  int recentId() {
    return recent;
  }

  private synchronized int assign(String raw) {
    String name = raw == null || raw.isBlank() ? "unnamed" : raw;
    Integer id = ids.get(name);
    if (id != null) {
      if (raw == null || !raw.equals(name)) {
        ids.putIfAbsent(raw == null ? "" : raw, id);
      }
      return id;
    }
    if (size == names.length) {
      return OVERFLOW;
    }
    int assigned = size;
    names[assigned] = name;
    size = assigned + 1;
    ids.put(name, assigned);
    if (raw == null || !raw.equals(name)) {
      ids.put(raw == null ? "" : raw, assigned);
    }
    return assigned;
  }

  /**
   * Returns a name.
   *
   * @param id an id returned by {@link #idOf(String)}
   * @return the name
   */
  public synchronized String name(int id) {
    return names[id];
  }

  /**
   * The names in use, by id.
   *
   * @return a copy
   */
  public synchronized List<String> names() {
    List<String> out = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      out.add(name(i));
    }
    return out;
  }

  /** Returns how many ids are in use. */
  public synchronized int size() {
    return size;
  }
}

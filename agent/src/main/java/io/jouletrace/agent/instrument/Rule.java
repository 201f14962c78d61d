package io.jouletrace.agent.instrument;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One automatic phase: the methods, in some classes, whose execution is the phase.
 *
 * <p>The pattern syntax of {@code phase.<name>=<classes>#<methods>} (several separated by {@code
 * ;}): {@code <classes>} is a fully qualified class name, a glob over it ({@code *} any characters,
 * {@code ?} one character, e.g. {@code com.acme.*Loader}), or {@code +} and a class or interface
 * name for that type and every subtype (e.g. {@code +ai.djl.training.dataset.Dataset}); {@code
 * <methods>} is a glob over the method name ({@code *} for all). Constructors and abstract methods
 * are never phases.
 *
 * @param kind how {@code type} is matched
 * @param type the class name, glob, or super type name
 * @param methods a regular expression over the names of the methods
 * @param phase the phase name
 * @param around what the methods are wrapped in
 */
public record Rule(Kind kind, String type, String methods, String phase, Around around) {

  /** A rule whose every call is a phase named {@code phase}. */
  public Rule(Kind kind, String type, String methods, String phase) {
    this(kind, type, methods, phase, Around.PHASE);
  }

  // equals and hashCode are written out: a record's generated ones are bootstrapped through method
  // handles at their first call, which cost a DJL job about 30 ms of CPU as its first class was
  // woven (the weaver keeps the rules that matched in a set).

  @Override
  public boolean equals(Object o) {
    return o instanceof Rule r
        && r.kind == kind
        && r.around == around
        && Objects.equals(r.type, type)
        && Objects.equals(r.methods, methods)
        && Objects.equals(r.phase, phase);
  }

  @Override
  public int hashCode() {
    int h = Objects.hashCode(kind);
    h = 31 * h + Objects.hashCode(type);
    h = 31 * h + Objects.hashCode(methods);
    h = 31 * h + Objects.hashCode(phase);
    return 31 * h + Objects.hashCode(around);
  }

  /**
   * Returns this rule with another wrapping of its methods.
   *
   * @param a the wrapping
   * @return a copy
   */
  public Rule with(Around a) {
    return new Rule(kind, type, methods, phase, a);
  }

  /**
   * The line for a rule that matched no method in a run: its class pattern, and why a JDK class
   * never matches.
   *
   * @return one line, e.g. {@code phase.load: no method woven for com.acme.Loader ...}
   */
  public String unmatched() {
    String cls = (kind == Kind.SUBTYPES ? "+" : "") + type;
    boolean jdk = type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun.");
    return "phase."
        + phase
        + ": no method woven for "
        + cls
        + " in this run (no class of that name was loaded, or no method of it matched)"
        + (jdk
            ? "; classes of the JVM's boot loader (java.lang, java.util, ...) are never woven"
            : "");
  }

  /** What a rule's methods are wrapped in. */
  public enum Around {
    /** Each call is a phase named after the rule. */
    PHASE,
    /**
     * Each call is a phase named by the task's {@code jouletrace.phase} local property (Spark's
     * {@code Task.run}, whose class has the field {@code localProperties}); none when it has none.
     */
    SPARK_TASK
  }

  /** How a rule's {@code type} is matched. */
  public enum Kind {
    /** Exactly this class. */
    EXACT,
    /** This type and its subtypes, interfaces excluded. */
    SUBTYPES,
    /** Class names matching a glob. */
    GLOB
  }

  /** The class names a glob rule matches, as a pattern (compiled off the start-up path). */
  Pattern typePattern() {
    return Pattern.compile(kind == Kind.GLOB ? globToRegex(type) : Pattern.quote(type));
  }

  /** The names of the methods that become phases, as a pattern. */
  Pattern methodPattern() {
    return Pattern.compile(methods);
  }

  /**
   * A rule for exactly one class.
   *
   * @param type fully qualified class name
   * @param methods method names
   * @param phase phase name
   * @return the rule
   */
  public static Rule exact(String type, String phase, String... methods) {
    return new Rule(Kind.EXACT, type, anyName(methods), phase);
  }

  /**
   * A rule for a type and its subtypes.
   *
   * @param type fully qualified class or interface name
   * @param methods method names
   * @param phase phase name
   * @return the rule
   */
  public static Rule subtypes(String type, String phase, String... methods) {
    return new Rule(Kind.SUBTYPES, type, anyName(methods), phase);
  }

  /** A regular expression for exactly these names (matchers are built off the start-up path). */
  private static String anyName(String... names) {
    StringBuilder b = new StringBuilder();
    for (String n : names) {
      b.append(b.length() == 0 ? "" : "|").append(quote(n));
    }
    return b.toString();
  }

  /**
   * What {@link Pattern#quote} returns, without loading the regular-expression engine's classes in
   * {@code premain} (the default rules are built there; their patterns are compiled later).
   */
  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 4).append("\\Q");
    int from = 0;
    for (int end; (end = s.indexOf("\\E", from)) >= 0; from = end + 2) {
      b.append(s, from, end).append("\\E\\\\E\\Q");
    }
    return b.append(s, from, s.length()).append("\\E").toString();
  }

  /**
   * Parses the value of a {@code phase.<name>} key.
   *
   * @param phase the phase name (the part of the key after {@code phase.})
   * @param spec e.g. {@code com.acme.Tokenizer#encode*;+com.acme.Step#run}
   * @return the rules
   * @throws IllegalArgumentException naming the part that is malformed
   */
  public static List<Rule> parse(String phase, String spec) {
    List<Rule> rules = new ArrayList<>();
    for (String part : spec.split(";")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      int hash = p.indexOf('#');
      if (hash <= 0 || hash == p.length() - 1 || p.indexOf('#', hash + 1) >= 0) {
        throw new IllegalArgumentException("'" + p + "' is not <class pattern>#<method pattern>");
      }
      String cls = p.substring(0, hash).trim();
      String method = p.substring(hash + 1).trim();
      if (!method.matches("[\\w$*?]+")) {
        throw new IllegalArgumentException(
            "method pattern '" + method + "' may hold only name" + " characters, * and ?");
      }
      String m = globToRegex(method);
      if (cls.startsWith("+")) {
        String type = cls.substring(1);
        requireClassName(type, p);
        rules.add(new Rule(Kind.SUBTYPES, type, m, phase));
      } else if (cls.contains("*") || cls.contains("?")) {
        if (!cls.matches("[\\w$.*?]+")) {
          throw new IllegalArgumentException("class pattern '" + cls + "' is malformed");
        }
        rules.add(new Rule(Kind.GLOB, cls, m, phase));
      } else {
        requireClassName(cls, p);
        rules.add(new Rule(Kind.EXACT, cls, m, phase));
      }
    }
    if (rules.isEmpty()) {
      throw new IllegalArgumentException("no <class pattern>#<method pattern> given");
    }
    return rules;
  }

  private static void requireClassName(String name, String part) {
    if (!name.matches("[\\w$]+(\\.[\\w$]+)*")) {
      throw new IllegalArgumentException("'" + name + "' in '" + part + "' is not a class name");
    }
  }

  /** Turns a glob with {@code *} and {@code ?} into an anchored regular expression. */
  static String globToRegex(String glob) {
    StringBuilder b = new StringBuilder();
    for (char c : glob.toCharArray()) {
      switch (c) {
        case '*' -> b.append(".*");
        case '?' -> b.append('.');
        default -> b.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return b.toString();
  }
}

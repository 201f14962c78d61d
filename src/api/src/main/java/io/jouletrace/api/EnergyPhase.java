package io.jouletrace.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method whose every execution is an energy phase, with no code change inside it. Needs the
 * agent; without it the annotation does nothing.
 *
 * <pre>{@code
 * @EnergyPhase("tokenize")
 * List<int[]> tokenize(List<String> texts) { ... }
 * }</pre>
 *
 * <p>A call nested in a phase of the same name (recursion) is part of that phase, not a new one.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface EnergyPhase {

  /**
   * Returns the phase name, as it appears in the {@code phase} label and the report.
   *
   * @return the name
   */
  String value();
}

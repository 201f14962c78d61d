package io.jouletrace.exporter;

import java.util.List;

/**
 * Energy per method, from the sampling profiler: the job's energy, already attributed to phases,
 * shared among the stacks sampled in each phase.
 *
 * @param joules energy the profiler handed out, all phases together; equal to the sum of the self
 *     joules of every method, pseudo-frames ({@code [no sample]}, {@code [truncated]}) included
 * @param samples stack samples used
 * @param droppedSamples samples not used: idle native waits, samples that arrived after their
 *     window was closed, or over the buffer's bound
 * @param stacks distinct call-tree nodes kept
 * @param truncatedSamples samples whose stack was cut: deeper than the JVM's stack depth or beyond
 *     {@code profile.max-stacks}
 * @param collapsedFile the folded-stacks file written, or {@code null}
 * @param overall the top methods over all phases (phase name {@code all})
 * @param phases the top methods of each phase, most energy first
 * @param folded the folded stacks of all phases (each stack under its phase, weights in
 *     millijoules), for the HTML report's flame graph, or {@code null}; not part of the JSON report
 */
public record EnergyProfile(
    double joules,
    long samples,
    long droppedSamples,
    int stacks,
    long truncatedSamples,
    String collapsedFile,
    PhaseMethods overall,
    List<PhaseMethods> phases,
    String folded) {

  public EnergyProfile {
    phases = List.copyOf(phases);
  }

  /** A profile without folded stacks in memory. */
  public EnergyProfile(
      double joules,
      long samples,
      long droppedSamples,
      int stacks,
      long truncatedSamples,
      String collapsedFile,
      PhaseMethods overall,
      List<PhaseMethods> phases) {
    this(
        joules,
        samples,
        droppedSamples,
        stacks,
        truncatedSamples,
        collapsedFile,
        overall,
        phases,
        null);
  }

  /**
   * Returns this profile with its folded stacks in memory.
   *
   * @param text folded stacks, one {@code frame;frame;... millijoules} per line
   * @return a copy
   */
  public EnergyProfile withFolded(String text) {
    return new EnergyProfile(
        joules,
        samples,
        droppedSamples,
        stacks,
        truncatedSamples,
        collapsedFile,
        overall,
        phases,
        text);
  }

  /**
   * The methods with the most energy in one phase.
   *
   * @param phase phase name, or {@code all}
   * @param joules the phase's profiled energy
   * @param bySelf most self joules first
   * @param byTotal most total (inclusive) joules first
   */
  public record PhaseMethods(
      String phase, double joules, List<MethodEnergy> bySelf, List<MethodEnergy> byTotal) {

    public PhaseMethods {
      bySelf = List.copyOf(bySelf);
      byTotal = List.copyOf(byTotal);
    }
  }

  /**
   * Energy of one method.
   *
   * @param method {@code package.Class.method}, or a pseudo-frame in brackets
   * @param selfJoules energy of the samples in which it was the running frame
   * @param totalJoules energy of the samples in which it was on the stack (once per sample, even
   *     when recursive)
   * @param samples samples in which it was on the stack
   */
  public record MethodEnergy(String method, double selfJoules, double totalJoules, long samples) {}
}

package io.jouletrace.agent.instrument;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import io.jouletrace.agent.Log;
import java.lang.instrument.Instrumentation;
import java.util.List;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.agent.builder.ResettableClassFileTransformer;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * Installs the automatic phases with Byte Buddy. Classes loaded before the agent (dynamic attach)
 * are retransformed. Failures are reported once per class and never reach the application.
 */
public final class Instrumenter {

  /**
   * One automatic phase: the methods of a type whose execution is the phase.
   *
   * @param type the class, by exact name
   * @param methods which of its methods
   * @param phase the phase name
   */
  public record Rule(String type, ElementMatcher<? super MethodDescription> methods, String phase) {}

  /** The built-in rules for DJL (see the README for why each method was chosen). */
  public static List<Rule> djlRules() {
    return List.of(
        new Rule("ai.djl.training.EasyTrain", named("trainBatch"), "train-step"),
        new Rule("ai.djl.training.EasyTrain", named("validateBatch"), "validation"),
        new Rule("ai.djl.training.EasyTrain", named("evaluateDataset"), "validation"),
        // predict(I) delegates to batchPredict(List): instrumenting both would count twice.
        new Rule("ai.djl.inference.Predictor", named("batchPredict").and(not(isAbstract())),
            "inference"));
  }

  private Instrumenter() {}

  /**
   * Installs the API bridge and the given rules.
   *
   * @param inst the JVM's instrumentation
   * @param rules automatic phases
   * @param log where failures are reported
   * @return the transformer, to reset in tests
   */
  public static ResettableClassFileTransformer install(
      Instrumentation inst, List<Rule> rules, Log log) {
    ClassFileLocator advice = ClassFileLocator.ForClassLoader.of(Instrumenter.class.getClassLoader());
    AgentBuilder builder =
        newAgentBuilder()
            .disableClassFormatChanges()
            .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
            .with(AgentBuilder.TypeStrategy.Default.DECORATE)
            .with(new FailureListener(log))
            .ignore(nameStartsWith("net.bytebuddy.").or(nameStartsWith("io.jouletrace.agent."))
                .or(nameStartsWith("io.jouletrace.bridge.")));

    AgentBuilder.Identified.Extendable api =
        builder
            .type(named("io.jouletrace.api.JouleTrace"))
            .transform(
                new AgentBuilder.Transformer.ForAdvice()
                    .include(advice)
                    .advice(named("enter").and(isStatic()).and(takesArguments(String.class)),
                        ApiAdvice.Enter.class.getName())
                    .advice(named("exit").and(isStatic()).and(takesArguments(long.class)),
                        ApiAdvice.Exit.class.getName())
                    .advice(named("recording").and(isStatic()).and(takesArguments(0)),
                        ApiAdvice.Recording.class.getName()));
    AgentBuilder current = api;
    for (Rule rule : rules) {
      current =
          current
              .type(named(rule.type()))
              .transform(
                  new AgentBuilder.Transformer.ForAdvice(
                          Advice.withCustomMapping().bind(PhaseName.class, rule.phase()))
                      .include(advice)
                      .advice(rule.methods(), PhaseAdvice.class.getName()));
    }
    return current.installOn(inst);
  }

  /**
   * Creates the builder with Byte Buddy's Nexus turned off. The advice needs no Nexus (no class
   * format changes, no loaded type initializers), and looking it up touches {@code sun.misc.Unsafe},
   * which Java 24+ reports with a warning on the application's stderr. The switch is a system
   * property read once per class loader: it is set only around the construction, which loads the
   * agent's own copy of the Nexus classes, and then put back.
   */
  private static AgentBuilder newAgentBuilder() {
    String key = "net.bytebuddy.nexus.disabled";
    String previous = System.getProperty(key);
    System.setProperty(key, "true");
    try {
      return new AgentBuilder.Default();
    } finally {
      if (previous == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, previous);
      }
    }
  }

  /** Reports each failed transformation once, on one line. */
  private static final class FailureListener extends AgentBuilder.Listener.Adapter {
    private final Log log;

    FailureListener(Log log) {
      this.log = log;
    }

    @Override
    public void onError(
        String typeName,
        ClassLoader classLoader,
        JavaModule module,
        boolean loaded,
        Throwable throwable) {
      log.line("could not instrument " + typeName + ": " + throwable);
    }
  }
}

package io.jouletrace.agent.instrument;

import static net.bytebuddy.matcher.ElementMatchers.annotationType;
import static net.bytebuddy.matcher.ElementMatchers.is;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isAnnotatedWith;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.annotation.AnnotationDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.pool.TypePool;

/**
 * Weaves the phase advice into the classes the {@link Instrumenter.Gate} hands over, with Byte
 * Buddy's type pool, {@link ByteBuddy#decorate decorating} builder and {@link Advice}: the class
 * keeps its shape (no member added or removed, so a loaded class can be retransformed), and the
 * advice code is inlined around each selected method.
 *
 * <p>This is what Byte Buddy's {@code AgentBuilder} does for such advice, without its machinery for
 * everything else (listeners, redefinition strategies, a transformer class generated at start-up),
 * which costs several hundred milliseconds of CPU at start-up on a small machine.
 *
 * <p>Every class is described from its class file, never by reflection: reflection on a class being
 * retransformed would load the classes its methods name, and a class loaded during a transformation
 * reaches no transformer (the JVM does not re-enter them on that thread).
 */
final class Weaver implements ClassFileTransformer {

  private static final List<String> NEVER =
      List.of("net.bytebuddy.", "io.jouletrace.agent.", "io.jouletrace.bridge.");

  /** A rule with its advice, parsed once. */
  private record Woven(ElementMatcher<? super TypeDescription> type, AsmVisitorWrapper advice) {}

  private final ByteBuddy byteBuddy;
  private final List<Woven> woven = new ArrayList<>();
  private final Advice.WithCustomMapping annotatedAdvice;
  private final ClassFileLocator agentClasses;
  private final TypeDescription phaseAdvice;

  Weaver(List<Rule> rules, boolean apiBridge) {
    this.byteBuddy =
        new ByteBuddy()
            .with(TypeValidation.DISABLED)
            .with(Implementation.Context.Disabled.Factory.INSTANCE)
            .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE);
    this.agentClasses = ClassFileLocator.ForClassLoader.of(Weaver.class.getClassLoader());
    // The advice class is parsed once for all rules.
    this.phaseAdvice =
        TypePool.Default.of(agentClasses).describe(PhaseAdvice.class.getName()).resolve();
    if (apiBridge) {
      woven.add(
          new Woven(
              named(Instrumenter.API),
              new AsmVisitorWrapper.Compound(
                  Advice.to(ApiAdvice.Enter.class, agentClasses)
                      .on(named("enter").and(isStatic()).and(takesArguments(String.class))),
                  Advice.to(ApiAdvice.Exit.class, agentClasses)
                      .on(named("exit").and(isStatic()).and(takesArguments(long.class))),
                  Advice.to(ApiAdvice.Recording.class, agentClasses)
                      .on(named("recording").and(isStatic()).and(takesArguments(0))))));
    }
    for (Rule rule : rules) {
      woven.add(
          new Woven(
              rule.typeMatcher(),
              Advice.withCustomMapping()
                  .bind(PhaseName.class, rule.phase())
                  .to(
                      rule.advice() == null
                          ? phaseAdvice
                          : TypePool.Default.of(agentClasses)
                              .describe(rule.advice().getName())
                              .resolve(),
                      agentClasses)
                  .on(rule.methodMatcher())));
    }
    for (CountAdvice.CountRule c : CountAdvice.djl()) {
      woven.add(
          new Woven(
              c.rule().typeMatcher(),
              Advice.withCustomMapping()
                  .bind(PhaseName.class, c.rule().phase())
                  .bind(UnitName.class, c.unit())
                  .to(
                      c.batchAtOne() ? CountAdvice.BatchSize.class : CountAdvice.ListSize.class,
                      agentClasses)
                  .on(
                      net.bytebuddy.matcher.ElementMatchers.nameMatches(c.rule().methods())
                          .and(not(isAbstract()))
                          .and(takesArguments(c.batchAtOne() ? 2 : 1)))));
    }
    if (apiBridge) {
      woven.add(
          new Woven(
              named(Instrumenter.API),
              Advice.to(ApiAdvice.Count.class, agentClasses)
                  .on(
                      named("count")
                          .and(isStatic())
                          .and(takesArguments(String.class, long.class)))));
    }
    this.annotatedAdvice = Advice.withCustomMapping();
  }

  @Override
  public byte[] transform(
      Module module,
      ClassLoader loader,
      String className,
      Class<?> redefined,
      ProtectionDomain domain,
      byte[] bytes) {
    String name = className.replace('/', '.');
    for (String prefix : NEVER) {
      if (name.startsWith(prefix)) {
        return null;
      }
    }
    ClassFileLocator locator =
        new ClassFileLocator.Compound(
            ClassFileLocator.Simple.of(name, bytes), ClassFileLocator.ForClassLoader.of(loader));
    // A pool per class: nothing parsed is kept, so no class loader is held on to.
    TypePool pool = TypePool.Default.WithLazyResolution.of(locator);
    TypeDescription type = pool.describe(name).resolve();
    DynamicType.Builder<?> builder = null;
    for (Woven w : woven) {
      if (w.type().matches(type)) {
        builder = (builder == null ? byteBuddy.decorate(type, locator) : builder).visit(w.advice());
      }
    }
    for (MethodDescription.InDefinedShape m :
        type.getDeclaredMethods()
            .filter(isAnnotatedWith(named(Instrumenter.ENERGY_PHASE)).and(not(isAbstract())))) {
      AnnotationDescription a =
          m.getDeclaredAnnotations()
              .filter(annotationType(named(Instrumenter.ENERGY_PHASE)))
              .getOnly();
      String phase = a.getValue("value").resolve(String.class);
      builder =
          (builder == null ? byteBuddy.decorate(type, locator) : builder)
              .visit(
                  annotatedAdvice
                      .bind(PhaseName.class, phase)
                      .to(phaseAdvice, agentClasses)
                      .on(is(m)));
    }
    return builder == null ? null : builder.make(pool).getBytes();
  }
}

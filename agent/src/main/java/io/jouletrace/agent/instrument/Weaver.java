package io.jouletrace.agent.instrument;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import net.bytebuddy.jar.asm.AnnotationVisitor;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.FieldVisitor;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;

/**
 * Weaves the phase calls into the classes the {@link Instrumenter.Gate} hands over, with the ASM
 * that Byte Buddy ships: each selected method opens its phase on entry and closes it on every way
 * out (each return, and a handler for anything thrown), as {@code try/finally} would.
 *
 * <p>The class keeps its shape: no member is added or removed, so a loaded class can be
 * retransformed. The phase's token lives in new local variables after the method's own, and every
 * stack map frame of the method is extended with them, so no frame has to be recomputed (which
 * would need the common super class of types the method merges, i.e. loading classes while one is
 * being defined). The woven code calls only the bridge ({@code io.jouletrace.bridge}), whose
 * methods never throw.
 *
 * <p>Byte Buddy's {@code Advice} did the same from annotated advice classes; its type model and
 * advice machinery load about 800 classes, which cost a DJL job half a CPU-second and held its
 * first data set load for about 0.3 s while they loaded. This weaver needs ASM's reader and writer.
 *
 * <p>Types are told from their class files, never by reflection: reflection on a class being
 * defined would load the classes its methods name, and a class loaded during a transformation
 * reaches no transformer (the JVM does not re-enter them on that thread). A subtype rule reads the
 * class files of the super types through the class's loader.
 */
final class Weaver implements ClassFileTransformer {

  private static final List<String> NEVER =
      List.of("net/bytebuddy/", "io/jouletrace/agent/", "io/jouletrace/bridge/");

  private static final String DISPATCH = "io/jouletrace/bridge/Dispatch";
  private static final String TASK_PHASES = "io/jouletrace/bridge/TaskPhases";
  private static final String ENERGY_PHASE =
      "L" + Instrumenter.ENERGY_PHASE.replace('.', '/') + ";";
  private static final String API = Instrumenter.API.replace('.', '/');

  /** What is woven around one method: phases opened on entry, counts taken on entry. */
  private static final class Plan {
    /** Phase names; {@code null} for the phase a Spark task carries in its local properties. */
    final List<String> phases = new ArrayList<>();

    final List<CountAdvice.CountRule> counts = new ArrayList<>();

    /** The API hook this method is (attached agent), or null. */
    String api;
  }

  /** A method as its class file declares it. */
  private static final class MethodInfo {
    final int access;
    final String name;
    final String desc;
    int maxLocals;
    String energyPhase;

    MethodInfo(int access, String name, String desc) {
      this.access = access;
      this.name = name;
      this.desc = desc;
    }

    boolean hasCode() {
      return (access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) == 0;
    }

    boolean phaseCandidate() {
      return hasCode() && !name.equals("<init>") && !name.equals("<clinit>");
    }
  }

  /** A class as its class file declares it. */
  private static final class ClassInfo {
    int access;
    String superName;
    String[] interfaces = new String[0];
    final List<MethodInfo> methods = new ArrayList<>();
    final Map<String, String> fields = new HashMap<>();
  }

  /** A rule with its patterns compiled; {@code count} for a counting rule. */
  private record Target(Rule rule, Pattern type, Pattern methods, CountAdvice.CountRule count) {
    Target(Rule rule, CountAdvice.CountRule count) {
      this(rule, rule.typePattern(), rule.methodPattern(), count);
    }
  }

  private final List<Target> targets = new ArrayList<>();
  private final boolean apiBridge;

  /** The rules that matched a method of a class handed over so far. */
  private final Set<Rule> matched;

  /** Where an annotation that can mark nothing is said (a problem line, printed once). */
  private final Consumer<String> warn;

  /** Compiles the rules' patterns: on the instrument thread, off the application's path. */
  Weaver(List<Rule> rules, boolean apiBridge) {
    this(rules, apiBridge, ConcurrentHashMap.newKeySet(), line -> {});
  }

  /**
   * @param matched receives each rule once a method of a class handed over matches it
   * @param warn receives a line for each {@code @EnergyPhase} on a method without a body
   */
  Weaver(List<Rule> rules, boolean apiBridge, Set<Rule> matched, Consumer<String> warn) {
    this.matched = matched;
    this.warn = warn;
    for (Rule r : rules) {
      targets.add(new Target(r, null));
    }
    for (CountAdvice.CountRule c : CountAdvice.djl()) {
      targets.add(new Target(c.rule(), c));
    }
    this.apiBridge = apiBridge;
  }

  @Override
  public byte[] transform(
      Module module,
      ClassLoader loader,
      String className,
      Class<?> redefined,
      ProtectionDomain domain,
      byte[] bytes) {
    for (String prefix : NEVER) {
      if (className.startsWith(prefix)) {
        return null;
      }
    }
    ClassReader reader = new ClassReader(bytes);
    ClassInfo info = survey(reader);
    Map<String, Plan> plans = plan(className, info, loader);
    if (plans.isEmpty()) {
      return null;
    }
    int version = reader.readUnsignedShort(6);
    boolean frames = version >= Opcodes.V1_6;
    ClassWriter writer = new ClassWriter(reader, 0);
    reader.accept(
        new ClassVisitor(Opcodes.ASM9, writer) {
          @Override
          public MethodVisitor visitMethod(
              int access, String name, String desc, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
            Plan p = plans.get(name + desc);
            if (p == null) {
              return mv;
            }
            MethodInfo m = method(info, name, desc);
            return new Wrap(mv, className, m, p, frames);
          }
        },
        ClassReader.EXPAND_FRAMES);
    return writer.toByteArray();
  }

  private static MethodInfo method(ClassInfo info, String name, String desc) {
    for (MethodInfo m : info.methods) {
      if (m.name.equals(name) && m.desc.equals(desc)) {
        return m;
      }
    }
    throw new IllegalStateException("method " + name + desc + " not surveyed");
  }

  /** Reads the class's declarations, its methods' annotations and local variable counts. */
  private static ClassInfo survey(ClassReader reader) {
    ClassInfo info = new ClassInfo();
    reader.accept(
        new ClassVisitor(Opcodes.ASM9) {
          @Override
          public void visit(
              int version,
              int access,
              String name,
              String signature,
              String superName,
              String[] interfaces) {
            info.access = access;
            info.superName = superName;
            info.interfaces = interfaces == null ? new String[0] : interfaces;
          }

          @Override
          public FieldVisitor visitField(
              int access, String name, String desc, String signature, Object value) {
            info.fields.put(name, desc);
            return null;
          }

          @Override
          public MethodVisitor visitMethod(
              int access, String name, String desc, String signature, String[] exceptions) {
            MethodInfo m = new MethodInfo(access, name, desc);
            info.methods.add(m);
            return new MethodVisitor(Opcodes.ASM9) {
              @Override
              public AnnotationVisitor visitAnnotation(String annotation, boolean visible) {
                if (!ENERGY_PHASE.equals(annotation)) {
                  return null;
                }
                return new AnnotationVisitor(Opcodes.ASM9) {
                  @Override
                  public void visit(String key, Object value) {
                    if ("value".equals(key) && value instanceof String s) {
                      m.energyPhase = s;
                    }
                  }
                };
              }

              @Override
              public void visitMaxs(int maxStack, int maxLocals) {
                m.maxLocals = maxLocals;
              }
            };
          }
        },
        ClassReader.SKIP_FRAMES | ClassReader.SKIP_DEBUG);
    return info;
  }

  /** What to weave into each method of the class, by name and descriptor. */
  private Map<String, Plan> plan(String className, ClassInfo info, ClassLoader loader) {
    Map<String, Plan> plans = new LinkedHashMap<>();
    if (apiBridge && className.equals(API)) {
      for (MethodInfo m : info.methods) {
        String hook = apiHook(m);
        if (hook != null) {
          planOf(plans, m).api = hook;
        }
      }
      return plans; // the API's hooks are never phases themselves
    }
    String dotted = className.replace('/', '.');
    boolean isInterface = (info.access & Opcodes.ACC_INTERFACE) != 0;
    Map<String, Boolean> subtypeOf = new HashMap<>();
    for (Target t : targets) {
      if (!typeMatches(t, dotted, isInterface, info, loader, subtypeOf)) {
        continue;
      }
      Rule r = t.rule();
      if (r.around() == Rule.Around.SPARK_TASK
          && !"Ljava/util/Properties;".equals(info.fields.get(SparkTasks.LOCAL_PROPERTIES))) {
        throw new IllegalStateException(
            "no field " + SparkTasks.LOCAL_PROPERTIES + " of type java.util.Properties");
      }
      CountAdvice.CountRule c = t.count();
      for (MethodInfo m : info.methods) {
        if (!m.phaseCandidate() || !t.methods().matcher(m.name).matches()) {
          continue;
        }
        if (c == null) {
          planOf(plans, m).phases.add(r.around() == Rule.Around.SPARK_TASK ? null : r.phase());
          matched.add(r);
        } else if (Type.getArgumentTypes(m.desc).length == (c.batchAtOne() ? 2 : 1)) {
          planOf(plans, m).counts.add(c);
        }
      }
    }
    for (MethodInfo m : info.methods) {
      if (m.energyPhase != null && m.phaseCandidate()) {
        planOf(plans, m).phases.add(m.energyPhase);
      } else if (m.energyPhase != null && !m.hasCode()) {
        // Annotations are not inherited: on an abstract, interface or native method it has no
        // code to wrap, and the methods that implement it are not marked by it.
        warn.accept(
            "@EnergyPhase(\""
                + m.energyPhase
                + "\") on "
                + dotted
                + "."
                + m.name
                + ", which has no body (abstract, an interface's, or native), marks nothing:"
                + " annotate the methods that implement it, or set phase."
                + m.energyPhase
                + "=+"
                + dotted
                + "#"
                + m.name);
      }
    }
    return plans;
  }

  private static String apiHook(MethodInfo m) {
    if ((m.access & Opcodes.ACC_STATIC) == 0 || !m.hasCode()) {
      return null;
    }
    String key = m.name + m.desc;
    return switch (key) {
      case "enter(Ljava/lang/String;)J",
          "exit(J)V",
          "recording()Z",
          "count(Ljava/lang/String;J)V" ->
          key;
      default -> null;
    };
  }

  private static boolean typeMatches(
      Target t,
      String dotted,
      boolean isInterface,
      ClassInfo info,
      ClassLoader loader,
      Map<String, Boolean> subtypeOf) {
    Rule r = t.rule();
    return switch (r.kind()) {
      case EXACT -> r.type().equals(dotted);
      case GLOB -> t.type().matcher(dotted).matches();
      case SUBTYPES ->
          !isInterface && (r.type().equals(dotted) || subtypeOf(r.type(), info, loader, subtypeOf));
    };
  }

  // Written without lambdas: the JVM spins a class for each lambda at its first call, on the
  // thread that loads the first class to weave.

  private static Plan planOf(Map<String, Plan> plans, MethodInfo m) {
    String key = m.name + m.desc;
    Plan p = plans.get(key);
    if (p == null) {
      p = new Plan();
      plans.put(key, p);
    }
    return p;
  }

  private static boolean subtypeOf(
      String root, ClassInfo info, ClassLoader loader, Map<String, Boolean> known) {
    Boolean is = known.get(root);
    if (is == null) {
      is = isSubtype(info, root.replace('.', '/'), loader);
      known.put(root, is);
    }
    return is;
  }

  /**
   * Whether a class with these direct super types has {@code root} among its super types, read from
   * the class files that its loader finds. A super type whose class file cannot be found ends that
   * branch of the search.
   */
  private static boolean isSubtype(ClassInfo info, String root, ClassLoader loader) {
    ArrayDeque<String> todo = new ArrayDeque<>();
    Set<String> seen = new HashSet<>();
    if (info.superName != null) {
      todo.add(info.superName);
    }
    todo.addAll(List.of(info.interfaces));
    while (!todo.isEmpty()) {
      String t = todo.poll();
      if (t.equals(root)) {
        return true;
      }
      if (t.equals("java/lang/Object") || !seen.add(t)) {
        continue;
      }
      byte[] b = classFile(t, loader);
      if (b == null) {
        continue;
      }
      ClassReader r = new ClassReader(b);
      if (r.getSuperName() != null) {
        todo.add(r.getSuperName());
      }
      todo.addAll(List.of(r.getInterfaces()));
    }
    return false;
  }

  private static byte[] classFile(String internalName, ClassLoader loader) {
    String resource = internalName + ".class";
    try (InputStream in =
        loader != null
            ? loader.getResourceAsStream(resource)
            : ClassLoader.getSystemResourceAsStream(resource)) {
      return in == null ? null : in.readAllBytes();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Weaves one method. Counts come first on entry, then the phases open in rule order, and they
   * close in the reverse order before each return and in a handler, registered last, that covers
   * the whole original code and rethrows.
   */
  private static final class Wrap extends MethodVisitor {
    private final String owner;
    private final MethodInfo method;
    private final Plan plan;
    private final boolean frames;
    private final int firstSlot;
    private final Label start = new Label();

    /** A frame for the original code's first instruction, owed after an API hook's return. */
    private Object[] owedFrame;

    Wrap(MethodVisitor mv, String owner, MethodInfo method, Plan plan, boolean frames) {
      super(Opcodes.ASM9, mv);
      this.owner = owner;
      this.method = method;
      this.plan = plan;
      this.frames = frames;
      this.firstSlot = method.maxLocals;
    }

    private boolean isStatic() {
      return (method.access & Opcodes.ACC_STATIC) != 0;
    }

    /** The slot of the {@code i}th argument. */
    private int argSlot(int i) {
      int slot = isStatic() ? 0 : 1;
      Type[] args = Type.getArgumentTypes(method.desc);
      for (int k = 0; k < i; k++) {
        slot += args[k].getSize();
      }
      return slot;
    }

    @Override
    public void visitCode() {
      super.visitCode();
      if (plan.api != null) {
        api(plan.api);
        return;
      }
      for (CountAdvice.CountRule c : plan.counts) {
        super.visitLdcInsn(c.rule().phase());
        super.visitLdcInsn(c.unit());
        super.visitVarInsn(Opcodes.ALOAD, argSlot(c.batchAtOne() ? 1 : 0));
        super.visitMethodInsn(
            Opcodes.INVOKESTATIC,
            DISPATCH,
            c.batchAtOne() ? "countSize" : "countList",
            "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/Object;)V",
            false);
      }
      for (int i = 0; i < plan.phases.size(); i++) {
        String phase = plan.phases.get(i);
        if (phase == null) {
          super.visitVarInsn(Opcodes.ALOAD, 0);
          super.visitFieldInsn(
              Opcodes.GETFIELD, owner, SparkTasks.LOCAL_PROPERTIES, "Ljava/util/Properties;");
          super.visitMethodInsn(
              Opcodes.INVOKESTATIC,
              TASK_PHASES,
              "taskStartsWith",
              "(Ljava/util/Properties;)J",
              false);
        } else {
          super.visitLdcInsn(phase);
          super.visitMethodInsn(
              Opcodes.INVOKESTATIC, DISPATCH, "enter", "(Ljava/lang/String;)J", false);
        }
        super.visitVarInsn(Opcodes.LSTORE, firstSlot + 2 * i);
      }
      if (!plan.phases.isEmpty()) {
        super.visitLabel(start);
      }
    }

    /**
     * An API hook of a JVM the agent was attached to: the hook calls the bridge and returns, unless
     * {@code enter} got no token from it (nothing is recorded), when the API's own code runs.
     */
    private void api(String hook) {
      switch (hook) {
        case "enter(Ljava/lang/String;)J" -> {
          Label own = new Label();
          super.visitVarInsn(Opcodes.ALOAD, 0);
          super.visitMethodInsn(
              Opcodes.INVOKESTATIC, DISPATCH, "enter", "(Ljava/lang/String;)J", false);
          super.visitInsn(Opcodes.DUP2);
          super.visitInsn(Opcodes.LCONST_0);
          super.visitInsn(Opcodes.LCMP);
          super.visitJumpInsn(Opcodes.IFEQ, own);
          super.visitInsn(Opcodes.LRETURN);
          super.visitLabel(own);
          if (frames) {
            Object[] args = initialLocals();
            super.visitFrame(Opcodes.F_NEW, args.length, args, 1, new Object[] {Opcodes.LONG});
          }
          super.visitInsn(Opcodes.POP2);
          return;
        }
        case "exit(J)V" -> {
          super.visitVarInsn(Opcodes.LLOAD, 0);
          super.visitMethodInsn(Opcodes.INVOKESTATIC, DISPATCH, "exit", "(J)V", false);
          super.visitInsn(Opcodes.RETURN);
        }
        case "recording()Z" -> {
          super.visitMethodInsn(Opcodes.INVOKESTATIC, DISPATCH, "isRecording", "()Z", false);
          super.visitInsn(Opcodes.IRETURN);
        }
        case "count(Ljava/lang/String;J)V" -> {
          super.visitVarInsn(Opcodes.ALOAD, 0);
          super.visitVarInsn(Opcodes.LLOAD, 1);
          super.visitMethodInsn(
              Opcodes.INVOKESTATIC, DISPATCH, "count", "(Ljava/lang/String;J)V", false);
          super.visitInsn(Opcodes.RETURN);
        }
        default -> throw new IllegalStateException(hook);
      }
      // The original code now follows a return: it needs a frame of its own, unless the class
      // file has one at its first instruction already.
      owedFrame = frames ? initialLocals() : null;
    }

    /** The locals on entry: {@code this} (unless static) and the arguments. */
    private Object[] initialLocals() {
      List<Object> locals = new ArrayList<>();
      if (!isStatic()) {
        locals.add(owner);
      }
      for (Type t : Type.getArgumentTypes(method.desc)) {
        locals.add(frameType(t));
      }
      return locals.toArray();
    }

    private static Object frameType(Type t) {
      return switch (t.getSort()) {
        case Type.BOOLEAN, Type.BYTE, Type.CHAR, Type.SHORT, Type.INT -> Opcodes.INTEGER;
        case Type.FLOAT -> Opcodes.FLOAT;
        case Type.LONG -> Opcodes.LONG;
        case Type.DOUBLE -> Opcodes.DOUBLE;
        default -> t.getInternalName();
      };
    }

    /**
     * Emits the owed frame, if any, before the original code's first instruction. ASM has no single
     * callback before an instruction, so every {@code visit...Insn} below calls this first.
     */
    private void payOwedFrame() {
      Object[] f = owedFrame;
      if (f != null) {
        owedFrame = null;
        super.visitFrame(Opcodes.F_NEW, f.length, f, 0, new Object[0]);
      }
    }

    @Override
    public void visitFrame(int type, int nLocal, Object[] local, int nStack, Object[] stack) {
      owedFrame = null; // the class file's own frame for this place
      if (plan.phases.isEmpty()) {
        super.visitFrame(type, nLocal, local, nStack, stack);
        return;
      }
      // Read with EXPAND_FRAMES: every frame is F_NEW and lists all locals. The tokens are live
      // everywhere in the original code: add them after the method's own locals.
      List<Object> locals = new ArrayList<>(nLocal + 2 + plan.phases.size());
      int slots = 0;
      for (int i = 0; i < nLocal; i++) {
        locals.add(local[i]);
        slots += local[i] == Opcodes.LONG || local[i] == Opcodes.DOUBLE ? 2 : 1;
      }
      addTokens(locals, slots);
      super.visitFrame(type, locals.size(), locals.toArray(), nStack, stack);
    }

    /**
     * Pads {@code locals} (filling {@code slots}) with TOP up to the first token, then the tokens.
     */
    private void addTokens(List<Object> locals, int slots) {
      for (int s = slots; s < firstSlot; s++) {
        locals.add(Opcodes.TOP);
      }
      for (int i = 0; i < plan.phases.size(); i++) {
        locals.add(Opcodes.LONG);
      }
    }

    private void closePhases() {
      for (int i = plan.phases.size() - 1; i >= 0; i--) {
        super.visitVarInsn(Opcodes.LLOAD, firstSlot + 2 * i);
        super.visitMethodInsn(Opcodes.INVOKESTATIC, DISPATCH, "exit", "(J)V", false);
      }
    }

    @Override
    public void visitInsn(int opcode) {
      payOwedFrame();
      if (opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN) {
        closePhases();
      }
      super.visitInsn(opcode);
    }

    @Override
    public void visitIntInsn(int opcode, int operand) {
      payOwedFrame();
      super.visitIntInsn(opcode, operand);
    }

    @Override
    public void visitVarInsn(int opcode, int varIndex) {
      payOwedFrame();
      super.visitVarInsn(opcode, varIndex);
    }

    @Override
    public void visitTypeInsn(int opcode, String type) {
      payOwedFrame();
      super.visitTypeInsn(opcode, type);
    }

    @Override
    public void visitFieldInsn(int opcode, String fieldOwner, String name, String descriptor) {
      payOwedFrame();
      super.visitFieldInsn(opcode, fieldOwner, name, descriptor);
    }

    @Override
    public void visitMethodInsn(
        int opcode, String methodOwner, String name, String descriptor, boolean isInterface) {
      payOwedFrame();
      super.visitMethodInsn(opcode, methodOwner, name, descriptor, isInterface);
    }

    @Override
    public void visitInvokeDynamicInsn(
        String name,
        String descriptor,
        net.bytebuddy.jar.asm.Handle bootstrap,
        Object... bootstrapArguments) {
      payOwedFrame();
      super.visitInvokeDynamicInsn(name, descriptor, bootstrap, bootstrapArguments);
    }

    @Override
    public void visitJumpInsn(int opcode, Label label) {
      payOwedFrame();
      super.visitJumpInsn(opcode, label);
    }

    @Override
    public void visitLdcInsn(Object value) {
      payOwedFrame();
      super.visitLdcInsn(value);
    }

    @Override
    public void visitIincInsn(int varIndex, int increment) {
      payOwedFrame();
      super.visitIincInsn(varIndex, increment);
    }

    @Override
    public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
      payOwedFrame();
      super.visitTableSwitchInsn(min, max, dflt, labels);
    }

    @Override
    public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
      payOwedFrame();
      super.visitLookupSwitchInsn(dflt, keys, labels);
    }

    @Override
    public void visitMultiANewArrayInsn(String descriptor, int numDimensions) {
      payOwedFrame();
      super.visitMultiANewArrayInsn(descriptor, numDimensions);
    }

    @Override
    public void visitMaxs(int maxStack, int maxLocals) {
      if (plan.phases.isEmpty()) {
        // counts push three values, the API's enter hook six slots (its token, twice, and a zero)
        super.visitMaxs(Math.max(maxStack, 6), maxLocals);
        return;
      }
      Label end = new Label();
      Label handler = new Label();
      super.visitLabel(end);
      super.visitLabel(handler);
      if (frames) {
        List<Object> locals = new ArrayList<>();
        addTokens(locals, 0);
        super.visitFrame(
            Opcodes.F_NEW,
            locals.size(),
            locals.toArray(),
            1,
            new Object[] {"java/lang/Throwable"});
      }
      closePhases();
      super.visitInsn(Opcodes.ATHROW);
      // Last in the exception table: the method's own handlers come first.
      super.visitTryCatchBlock(start, end, handler, null);
      super.visitMaxs(Math.max(maxStack, 3) + 2, firstSlot + 2 * plan.phases.size());
    }
  }
}

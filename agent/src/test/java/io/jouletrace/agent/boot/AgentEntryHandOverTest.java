package io.jouletrace.agent.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the boot classes start the runtime of the isolated loader: through the start that {@code
 * AgentStart} offers, and through {@code AgentRuntime.start} by reflection for an agent jar that
 * has no {@code AgentStart} (older than the boot classes). The runtimes here are generated: each
 * records the arguments it was started with in a system property, tagged by the way it was reached.
 */
class AgentEntryHandOverTest {

  private static final String PROPERTY = "jouletrace.test.handOver";
  private static final String START_DESC =
      "(Ljava/lang/String;Ljava/lang/instrument/Instrumentation;Z)V";

  @TempDir Path tmp;

  @AfterEach
  void clear() {
    System.clearProperty(PROPERTY);
  }

  @Test
  void theRuntimeStartsThroughTheStartItsLoaderOffers() throws Exception {
    // No AgentRuntime in this jar: reflection would fail.
    handOver("io/jouletrace/agent/AgentStart", offeringStart(), "interface", true);
    assertThat(System.getProperty(PROPERTY)).isEqualTo("offered:interface:true");
  }

  @Test
  void anOlderAgentJarWithoutTheOfferIsStartedByReflection() throws Exception {
    handOver("io/jouletrace/agent/AgentRuntime", staticRuntime(), "reflection", false);
    assertThat(System.getProperty(PROPERTY)).isEqualTo("static:reflection:false");
  }

  /** Hands over to an isolated loader whose jar holds one class. */
  private void handOver(String internalName, byte[] bytes, String args, boolean attached)
      throws Exception {
    Path jar = jar(internalName, bytes);
    try (JarFile file = new JarFile(jar.toFile())) {
      AgentEntry.handOver(
          new AgentClassLoader(
              file, jar.toUri().toURL(), AgentEntryHandOverTest.class.getClassLoader()),
          args,
          null,
          attached);
    }
  }

  private Path jar(String internalName, byte[] bytes) throws Exception {
    Path path = tmp.resolve("agent.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(path))) {
      out.putNextEntry(
          new JarEntry(AgentClassLoader.PREFIX + internalName + AgentClassLoader.CLASS_SUFFIX));
      out.write(bytes);
      out.closeEntry();
    }
    return path;
  }

  /**
   * {@code final class AgentStart implements Handover.Start}: offers an instance of itself when
   * initialized; its {@code start} records {@code offered:<args>:<attached>}.
   */
  private static byte[] offeringStart() {
    String self = "io/jouletrace/agent/AgentStart";
    String start = Type.getInternalName(Handover.Start.class);
    ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS);
    cw.visit(
        Opcodes.V17,
        Opcodes.ACC_FINAL | Opcodes.ACC_SUPER,
        self,
        null,
        "java/lang/Object",
        new String[] {start});
    MethodVisitor init = cw.visitMethod(0, "<init>", "()V", null, null);
    init.visitCode();
    init.visitVarInsn(Opcodes.ALOAD, 0);
    init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
    init.visitInsn(Opcodes.RETURN);
    init.visitMaxs(0, 0);
    init.visitEnd();
    MethodVisitor clinit = cw.visitMethod(Opcodes.ACC_STATIC, "<clinit>", "()V", null, null);
    clinit.visitCode();
    clinit.visitTypeInsn(Opcodes.NEW, self);
    clinit.visitInsn(Opcodes.DUP);
    clinit.visitMethodInsn(Opcodes.INVOKESPECIAL, self, "<init>", "()V", false);
    clinit.visitMethodInsn(
        Opcodes.INVOKESTATIC,
        Type.getInternalName(Handover.class),
        "offer",
        "(L" + start + ";)V",
        false);
    clinit.visitInsn(Opcodes.RETURN);
    clinit.visitMaxs(0, 0);
    clinit.visitEnd();
    recordArguments(cw, Opcodes.ACC_PUBLIC, "offered:", 1);
    cw.visitEnd();
    return cw.toByteArray();
  }

  /**
   * {@code public final class AgentRuntime} with {@code public static void start(String,
   * Instrumentation, boolean)} that records {@code static:<args>:<attached>}.
   */
  private static byte[] staticRuntime() {
    ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS);
    cw.visit(
        Opcodes.V17,
        Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER,
        "io/jouletrace/agent/AgentRuntime",
        null,
        "java/lang/Object",
        null);
    recordArguments(cw, Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "static:", 0);
    cw.visitEnd();
    return cw.toByteArray();
  }

  /**
   * {@code start(args, inst, attached)}: {@code System.setProperty(PROPERTY, tag + args + ":" +
   * attached)}; the arguments begin at local {@code first}.
   */
  private static void recordArguments(ClassWriter cw, int access, String tag, int first) {
    MethodVisitor m = cw.visitMethod(access, "start", START_DESC, null, null);
    m.visitCode();
    m.visitLdcInsn(PROPERTY);
    m.visitTypeInsn(Opcodes.NEW, "java/lang/StringBuilder");
    m.visitInsn(Opcodes.DUP);
    m.visitLdcInsn(tag);
    m.visitMethodInsn(
        Opcodes.INVOKESPECIAL, "java/lang/StringBuilder", "<init>", "(Ljava/lang/String;)V", false);
    m.visitVarInsn(Opcodes.ALOAD, first);
    append(m, "Ljava/lang/String;");
    m.visitLdcInsn(":");
    append(m, "Ljava/lang/String;");
    m.visitVarInsn(Opcodes.ILOAD, first + 2);
    append(m, "Z");
    m.visitMethodInsn(
        Opcodes.INVOKEVIRTUAL,
        "java/lang/StringBuilder",
        "toString",
        "()Ljava/lang/String;",
        false);
    m.visitMethodInsn(
        Opcodes.INVOKESTATIC,
        "java/lang/System",
        "setProperty",
        "(Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;",
        false);
    m.visitInsn(Opcodes.POP);
    m.visitInsn(Opcodes.RETURN);
    m.visitMaxs(0, 0);
    m.visitEnd();
  }

  /** {@code StringBuilder.append} of a value of the given descriptor on the stack. */
  private static void append(MethodVisitor m, String type) {
    m.visitMethodInsn(
        Opcodes.INVOKEVIRTUAL,
        "java/lang/StringBuilder",
        "append",
        "(" + type + ")Ljava/lang/StringBuilder;",
        false);
  }
}

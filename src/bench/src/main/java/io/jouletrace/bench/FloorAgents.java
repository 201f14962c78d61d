package io.jouletrace.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.ProtectionDomain;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Java agents that measure nothing, the floor below which no agent's cost can go: one whose {@code
 * premain} returns at once (what any {@code -javaagent} costs the JVM: opening the jar, resolving
 * the module graph at start instead of using the archived one, and the instrumentation library),
 * and one that also registers a class-file transformer that changes nothing (what the JVM then pays
 * per loaded class to call into Java). {@link #write} puts each in a jar of its own.
 */
public final class FloorAgents {

  private FloorAgents() {}

  /** An agent whose {@code premain} returns at once. */
  public static final class PremainOnly {
    private PremainOnly() {}

    /**
     * Does nothing.
     *
     * @param args ignored
     * @param inst ignored
     */
    public static void premain(String args, Instrumentation inst) {}
  }

  /** An agent that registers a transformer which leaves every class as it is. */
  public static final class TransformerOnly {
    private TransformerOnly() {}

    /**
     * Registers {@link Unchanged}.
     *
     * @param args ignored
     * @param inst the JVM's instrumentation
     */
    public static void premain(String args, Instrumentation inst) {
      inst.addTransformer(new Unchanged(), true);
    }
  }

  /** Called for every class the JVM loads; returns null (no change). */
  public static final class Unchanged implements ClassFileTransformer {
    @Override
    public byte[] transform(
        ClassLoader loader, String name, Class<?> redefined, ProtectionDomain pd, byte[] b) {
      return null;
    }
  }

  /**
   * Writes an agent jar whose {@code Premain-Class} is {@code agent}, holding the floor agents'
   * classes.
   *
   * @param jar where to write it
   * @param agent {@link PremainOnly} or {@link TransformerOnly}
   * @return {@code jar}
   * @throws IOException if it cannot be written
   */
  public static Path write(Path jar, Class<?> agent) throws IOException {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(new Attributes.Name("Premain-Class"), agent.getName());
    // as the agent's own transformer: able to retransform
    m.getMainAttributes().put(new Attributes.Name("Can-Retransform-Classes"), "true");
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream j = new JarOutputStream(out, m)) {
      for (Class<?> c :
          new Class<?>[] {
            FloorAgents.class, PremainOnly.class, TransformerOnly.class, Unchanged.class
          }) {
        String name = c.getName().replace('.', '/') + ".class";
        try (InputStream in = FloorAgents.class.getClassLoader().getResourceAsStream(name)) {
          if (in == null) {
            throw new IOException("class file not found: " + name);
          }
          j.putNextEntry(new JarEntry(name));
          in.transferTo(j);
          j.closeEntry();
        }
      }
    }
    return jar;
  }
}

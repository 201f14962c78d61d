package io.jouletrace.agent.boot;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.security.cert.Certificate;
import java.util.Collections;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Loads the agent's implementation and its dependencies (Byte Buddy, JNA, OSHI, client_java,
 * Jackson) from the {@value #PREFIX} folder of the agent jar, where their class files are stored
 * with the extension {@value #CLASS_SUFFIX}. The application's class loaders cannot see them, so an
 * application may carry other versions of the same libraries.
 *
 * <p>Parent is the platform class loader: JDK classes are shared, the application's class path is
 * not. The exceptions are the bridge package {@value #BRIDGE} and {@link Handover}, which are taken
 * from the loader that loaded the agent jar so that instrumented code, the boot classes and the
 * agent see the same classes.
 *
 * <p>A class the jar holds is defined here without asking the parent first. The parent cannot have
 * it (the jar holds the agent and libraries that are no part of the JDK), and asking made it throw
 * a {@link ClassNotFoundException}, stack trace and all, for each of the several hundred classes
 * the agent loads, on {@code premain}'s path.
 */
final class AgentClassLoader extends ClassLoader {

  static final String PREFIX = "inst/";
  static final String CLASS_SUFFIX = ".classdata";
  static final String BRIDGE = "io.jouletrace.bridge.";

  /** {@link Handover} and its interface, shared with the boot classes as the bridge is. */
  static final String HANDOVER = Handover.class.getName();

  static {
    registerAsParallelCapable();
  }

  private final JarFile jar;
  private final URL jarUrl;
  private final ProtectionDomain domain;
  private final ClassLoader bridgeLoader;
  private final String implementationTitle;
  private final String implementationVersion;

  AgentClassLoader(JarFile jar, URL jarUrl, ClassLoader bridgeLoader) {
    this(jar, jarUrl, bridgeLoader, ClassLoader.getPlatformClassLoader());
  }

  /** A loader with another parent than the platform class loader (tests). */
  AgentClassLoader(JarFile jar, URL jarUrl, ClassLoader bridgeLoader, ClassLoader parent) {
    super("jouletrace", parent);
    this.bridgeLoader = bridgeLoader;
    this.jar = jar;
    java.util.jar.Attributes main = manifestAttributes(jar);
    this.implementationTitle = main == null ? null : main.getValue("Implementation-Title");
    this.implementationVersion = main == null ? null : main.getValue("Implementation-Version");
    this.jarUrl = jarUrl;
    this.domain =
        new ProtectionDomain(new CodeSource(jarUrl, (Certificate[]) null), null, this, null);
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (name.startsWith(BRIDGE) || name.startsWith(HANDOVER)) {
      return Class.forName(name, false, bridgeLoader);
    }
    JarEntry entry = name.startsWith("java.") ? null : jar.getJarEntry(pathOf(name));
    if (entry == null) {
      return super.loadClass(name, resolve);
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        c = define(name, entry);
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }

  private static String pathOf(String className) {
    return PREFIX + className.replace('.', '/') + CLASS_SUFFIX;
  }

  @Override
  protected Class<?> findClass(String name) throws ClassNotFoundException {
    JarEntry entry = jar.getJarEntry(pathOf(name));
    if (entry == null) {
      throw new ClassNotFoundException(name);
    }
    return define(name, entry);
  }

  private Class<?> define(String name, JarEntry entry) throws ClassNotFoundException {
    byte[] bytes;
    try (InputStream in = jar.getInputStream(entry)) {
      bytes = read(in, entry.getSize());
    } catch (IOException e) {
      throw new ClassNotFoundException(name, e);
    }
    definePackageOf(name);
    return defineClass(name, bytes, 0, bytes.length, domain);
  }

  private void definePackageOf(String className) {
    int dot = className.lastIndexOf('.');
    if (dot > 0) {
      String pkg = className.substring(0, dot);
      if (getDefinedPackage(pkg) == null) {
        try {
          // Our packages carry the agent jar's version, which `version` and `list` report.
          definePackage(
              pkg, null, null, null, implementationTitle, implementationVersion, null, null);
        } catch (IllegalArgumentException raced) {
          // another thread defined it first
        }
      }
    }
  }

  @Override
  protected URL findResource(String name) {
    String path =
        PREFIX
            + (name.endsWith(".class")
                ? name.substring(0, name.length() - ".class".length()) + CLASS_SUFFIX
                : name);
    if (jar.getJarEntry(path) == null) {
      return null;
    }
    try {
      return new URL("jar:" + jarUrl.toExternalForm() + "!/" + path);
    } catch (MalformedURLException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a resource of the agent (a bundled table, a library's properties) straight from the jar
   * this loader reads. The default goes through a {@code jar:} URL and its connection, whose
   * handler classes and cached {@code JarFile} the first read pays for, on {@code premain}'s path.
   * Class files, and names the jar does not hold, are looked up as usual.
   */
  @Override
  public InputStream getResourceAsStream(String name) {
    JarEntry entry = name.endsWith(".class") ? null : jar.getJarEntry(PREFIX + name);
    if (entry == null || entry.isDirectory()) {
      return super.getResourceAsStream(name);
    }
    try {
      return jar.getInputStream(entry);
    } catch (IOException e) {
      return null; // as the default does when the resource cannot be read
    }
  }

  @Override
  protected Enumeration<URL> findResources(String name) {
    URL url = findResource(name);
    return url == null
        ? Collections.emptyEnumeration()
        : Collections.enumeration(java.util.List.of(url));
  }

  private static java.util.jar.Attributes manifestAttributes(JarFile jar) {
    try {
      java.util.jar.Manifest m = jar.getManifest();
      return m == null ? null : m.getMainAttributes();
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Reads a class file whose size the jar's directory gives into one array of that size: a copy
   * through a growing buffer (and the 8 KB buffer of {@code transferTo}) for each of the few
   * hundred classes that start-up loads was megabytes of garbage on the application's start.
   */
  static byte[] read(InputStream in, long size) throws IOException {
    if (size < 0 || size > Integer.MAX_VALUE - 8) {
      return in.readAllBytes();
    }
    byte[] bytes = new byte[(int) size];
    int n = in.readNBytes(bytes, 0, bytes.length);
    if (n < bytes.length) {
      throw new EOFException("class file shorter than the jar says: " + n + " of " + size);
    }
    if (in.read() >= 0) {
      throw new IOException("class file longer than the jar says (" + size + " bytes)");
    }
    return bytes;
  }
}

package io.jouletrace.sources.model;

/**
 * Power model used where no counter exists: CPU power = idle + (max - idle) x utilisation, DRAM
 * power = installed GB x watts per GB.
 *
 * <p>Default coefficients are the Cloud Carbon Footprint methodology's averages for AWS instances:
 * 0.74 W per vCPU at 0 % load, 3.5 W per vCPU at 100 %, and 0.392 W per GB of memory
 * (cloudcarbonfootprint.org, "Methodology", Energy Estimate coefficients).
 *
 * @param cpuIdleWatts whole-host CPU power at 0 % utilisation
 * @param cpuMaxWatts whole-host CPU power at 100 % utilisation (the TDP when known)
 * @param dramWattsPerGb memory power per installed gigabyte
 * @param origin where these figures came from, shown in reports ({@code defaults} or {@code
 *     config})
 */
public record ModelParams(
    double cpuIdleWatts, double cpuMaxWatts, double dramWattsPerGb, String origin) {

  /** Idle watts per logical CPU (Cloud Carbon Footprint, AWS average). */
  public static final double IDLE_WATTS_PER_THREAD = 0.74;

  /** Full-load watts per logical CPU (Cloud Carbon Footprint, AWS average). */
  public static final double MAX_WATTS_PER_THREAD = 3.5;

  /** Memory watts per GB (Cloud Carbon Footprint). */
  public static final double DRAM_WATTS_PER_GB = 0.392;

  public ModelParams {
    if (!(cpuIdleWatts >= 0) || !(cpuMaxWatts >= cpuIdleWatts) || !(dramWattsPerGb >= 0)) {
      throw new IllegalArgumentException(
          "power model needs 0 <= cpu.idle <= cpu.tdp and dram.watts-per-gb >= 0, got idle="
              + cpuIdleWatts
              + " tdp="
              + cpuMaxWatts
              + " dram="
              + dramWattsPerGb);
    }
  }

  /** Idle power as a fraction of full-load power, from the same Cloud Carbon Footprint averages. */
  public static final double IDLE_FRACTION = IDLE_WATTS_PER_THREAD / MAX_WATTS_PER_THREAD;

  private static final String TABLE = "cpu-power.csv";

  /**
   * Chooses the model for a CPU: its rated power per socket from the bundled table ({@code
   * cpu-power.csv}, each figure with its source) when the model string matches an entry, else the
   * per-thread defaults. Idle power is {@link #IDLE_FRACTION} of full-load power in both cases.
   *
   * @param cpuModel the CPU model string, e.g. {@code Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz}
   * @param packages number of sockets
   * @param logicalCpus number of logical CPUs
   * @return the model, its {@link #origin()} naming the entry or the fallback
   */
  public static ModelParams forCpu(String cpuModel, int packages, int logicalCpus) {
    String model = cpuModel == null ? "" : cpuModel.toLowerCase(java.util.Locale.ROOT);
    for (String[] row : table()) {
      boolean all = !model.isEmpty();
      // Words apart by white space; no pattern here either (String.split compiles "\\s+").
      java.util.StringTokenizer words =
          new java.util.StringTokenizer(row[0].toLowerCase(java.util.Locale.ROOT));
      while (all && words.hasMoreTokens()) {
        all = containsWord(model, words.nextToken()); // whole: "i7-8700" must not match "i7-8700K"
      }
      if (all) {
        int sockets = Math.max(1, packages);
        double max = Double.parseDouble(row[1]) * sockets;
        return new ModelParams(
            max * IDLE_FRACTION,
            max,
            DRAM_WATTS_PER_GB,
            "table: "
                + row[0]
                + " "
                + row[1]
                + " W x "
                + sockets
                + " socket(s) ("
                + row[2]
                + "), idle "
                + Math.round(IDLE_FRACTION * 100)
                + " %, "
                + DRAM_WATTS_PER_GB
                + " W/GB");
      }
    }
    ModelParams d = defaults(logicalCpus);
    return new ModelParams(
        d.cpuIdleWatts(),
        d.cpuMaxWatts(),
        d.dramWattsPerGb(),
        "CPU model '" + cpuModel + "' not in the table; " + d.origin());
  }

  /**
   * Tells whether {@code word} occurs in {@code text} with no ASCII letter or digit right before or
   * after it. A plain scan rather than a pattern per word: this runs before the application's
   * {@code main}, where compiling some 70 patterns in the interpreter took milliseconds.
   */
  static boolean containsWord(String text, String word) {
    if (word.isEmpty()) {
      return true;
    }
    for (int at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
      int end = at + word.length();
      if ((at == 0 || !letterOrDigit(text.charAt(at - 1)))
          && (end == text.length() || !letterOrDigit(text.charAt(end)))) {
        return true;
      }
    }
    return false;
  }

  private static boolean letterOrDigit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  static java.util.List<String[]> table() {
    java.util.List<String[]> rows = new java.util.ArrayList<>();
    try (java.io.InputStream in = ModelParams.class.getResourceAsStream(TABLE)) {
      if (in == null) {
        return rows;
      }
      java.io.BufferedReader r =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8));
      String line;
      boolean header = true;
      while ((line = r.readLine()) != null) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        if (header) {
          header = false;
          continue;
        }
        String[] f = line.split(",", 3);
        if (f.length == 3) {
          rows.add(new String[] {f[0].trim(), f[1].trim(), f[2].trim()});
        }
      }
    } catch (java.io.IOException e) {
      return rows;
    }
    return rows;
  }

  /**
   * Returns the documented defaults for a host.
   *
   * @param logicalCpus number of logical CPUs
   * @return per-thread coefficients scaled to the host
   */
  public static ModelParams defaults(int logicalCpus) {
    return new ModelParams(
        IDLE_WATTS_PER_THREAD * logicalCpus,
        MAX_WATTS_PER_THREAD * logicalCpus,
        DRAM_WATTS_PER_GB,
        "defaults: Cloud Carbon Footprint per-vCPU "
            + IDLE_WATTS_PER_THREAD
            + "-"
            + MAX_WATTS_PER_THREAD
            + " W x "
            + logicalCpus
            + " CPUs, "
            + DRAM_WATTS_PER_GB
            + " W/GB");
  }
}

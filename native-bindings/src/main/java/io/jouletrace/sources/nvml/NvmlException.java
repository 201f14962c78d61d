package io.jouletrace.sources.nvml;

/**
 * An NVML call that returned something other than {@code NVML_SUCCESS}.
 *
 * <p>Carries the function name, the {@code nvmlReturn_t} code (see the constants on {@link Nvml})
 * and NVML's own description of it from {@code nvmlErrorString}.
 */
public final class NvmlException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String function;
  private final int code;
  private final String nvmlMessage;

  /**
   * Creates the exception.
   *
   * @param function the NVML function that failed, e.g. {@code nvmlInit_v2}
   * @param code the {@code nvmlReturn_t} value
   * @param nvmlMessage {@code nvmlErrorString(code)}, or a fallback when that is unavailable
   */
  public NvmlException(String function, int code, String nvmlMessage) {
    super(function + " failed: " + Nvml.codeName(code) + " (" + code + "): " + nvmlMessage);
    this.function = function;
    this.code = code;
    this.nvmlMessage = nvmlMessage;
  }

  /** Returns the NVML function that failed. */
  public String function() {
    return function;
  }

  /** Returns the {@code nvmlReturn_t} code. */
  public int code() {
    return code;
  }

  /** Returns NVML's description of the code ({@code nvmlErrorString}). */
  public String nvmlMessage() {
    return nvmlMessage;
  }
}

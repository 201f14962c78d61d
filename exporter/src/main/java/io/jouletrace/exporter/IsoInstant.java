package io.jouletrace.exporter;

import java.time.Instant;

/**
 * Instants as {@link Instant#toString()} writes them ({@code 2026-11-30T02:39:19.123456Z}), for the
 * texts written at exit. {@code Instant.toString()} goes through {@link
 * java.time.format.DateTimeFormatter#ISO_INSTANT}, whose first use builds the formatter's parsers
 * and printers, about 10 ms of interpreted code that a short job would wait for at exit; this
 * computes the civil date in the proleptic Gregorian calendar with integer arithmetic.
 */
final class IsoInstant {

  private static final long SECONDS_PER_DAY = 86_400;

  /** Days from 0000-03-01 to 1970-01-01. */
  private static final long EPOCH_SHIFT = 719_468;

  private IsoInstant() {}

  /**
   * Formats an instant.
   *
   * @param t the instant, or null
   * @return what {@code t.toString()} returns; {@code "null"} for null
   */
  static String format(Instant t) {
    if (t == null) {
      return "null";
    }
    long seconds = t.getEpochSecond();
    long days = Math.floorDiv(seconds, SECONDS_PER_DAY);
    int secondOfDay = (int) Math.floorMod(seconds, SECONDS_PER_DAY);
    // Eras of 400 years from 0000-03-01, so that the leap day ends a year.
    long z = days + EPOCH_SHIFT;
    long era = Math.floorDiv(z, 146_097);
    long dayOfEra = z - era * 146_097;
    long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
    long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    long monthFromMarch = (5 * dayOfYear + 2) / 153;
    int day = (int) (dayOfYear - (153 * monthFromMarch + 2) / 5 + 1);
    int month = (int) (monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9);
    long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 0 || year > 9999) {
      return t.toString(); // signed or five-digit years: the formatter's own rules
    }
    StringBuilder b = new StringBuilder(30);
    pad(b, year, 4).append('-');
    pad(b, month, 2).append('-');
    pad(b, day, 2).append('T');
    pad(b, secondOfDay / 3600, 2).append(':');
    pad(b, secondOfDay / 60 % 60, 2).append(':');
    pad(b, secondOfDay % 60, 2);
    int nano = t.getNano();
    if (nano > 0) {
      b.append('.');
      if (nano % 1_000_000 == 0) {
        pad(b, nano / 1_000_000, 3);
      } else if (nano % 1000 == 0) {
        pad(b, nano / 1000, 6);
      } else {
        pad(b, nano, 9);
      }
    }
    return b.append('Z').toString();
  }

  private static StringBuilder pad(StringBuilder b, long value, int width) {
    String digits = Long.toString(value);
    for (int i = digits.length(); i < width; i++) {
      b.append('0');
    }
    return b.append(digits);
  }
}

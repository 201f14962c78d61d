/*
 * The floor under any periodic sampler, outside the JVM: the CPU time a thread uses to do nothing
 * but wake up at a fixed period (clock_nanosleep to an absolute deadline), from the thread's own
 * CPU clock, and, with files named, to read each of them whole at every wake-up (each opened
 * once, read again from its start: what a sampler's tick reads at the least). WakeUpCost and
 * SmallFileReadCost measure the same for a JVM thread.
 *
 *   gcc -O2 -o /tmp/wake_up_cost src/bench/src/main/c/wake_up_cost.c
 *   /tmp/wake_up_cost [period-ms] [seconds] [file...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char buffer[1 << 16];

static double seconds_of(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long period_ms = argc > 1 ? atol(argv[1]) : 100;
  double seconds = argc > 2 ? atof(argv[2]) : 20;
  if (period_ms <= 0 || seconds <= 0) {
    fprintf(stderr, "usage: %s [period-ms > 0] [seconds > 0]\n", argv[0]);
    return 2;
  }
  int files = argc > 3 ? argc - 3 : 0;
  int fds[64];
  if (files > 64) {
    fprintf(stderr, "at most 64 files\n");
    return 2;
  }
  for (int i = 0; i < files; i++) {
    fds[i] = open(argv[3 + i], O_RDONLY);
    if (fds[i] < 0) {
      perror(argv[3 + i]);
      return 1;
    }
  }
  long bytes = 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  double cpu0 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
  double wall0 = seconds_of(CLOCK_MONOTONIC);
  long wake_ups = 0;
  while (seconds_of(CLOCK_MONOTONIC) - wall0 < seconds) {
    next.tv_nsec += period_ms * 1000000L;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    wake_ups++;
    for (int i = 0; i < files; i++) {
      ssize_t n;
      off_t at = 0;
      while ((n = pread(fds[i], buffer, sizeof buffer, at)) > 0) {
        at += n;
      }
      bytes += at;
    }
  }
  double cpu = seconds_of(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  double wall = seconds_of(CLOCK_MONOTONIC) - wall0;
  printf("period %ld ms, %d files (%ld bytes a wake-up): %.1f us of CPU per wake-up, %.4f %% of"
         " one core\n",
         period_ms, files, wake_ups > 0 ? bytes / wake_ups : 0, cpu * 1e6 / wake_ups,
         cpu * 100.0 / wall);
  return 0;
}

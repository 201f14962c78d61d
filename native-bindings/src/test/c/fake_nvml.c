/*
 * A scripted stand-in for libnvidia-ml.so.1, for JouleTrace's tests only.
 *
 * It exports the NVML symbols NvmlLibrary binds, with the real ABI (return codes, struct layouts,
 * opaque device handles), and takes its behaviour from the script file named by the environment
 * variable FAKE_NVML_SCRIPT, read when nvmlInit_v2 takes the reference count from 0 to 1.
 *
 * Time t (seconds) is CLOCK_MONOTONIC since the script's origin: `origin_ns N` (a CLOCK_MONOTONIC
 * reading in ns, e.g. Java's System.nanoTime() taken by the test), or the moment of nvmlInit_v2.
 * Every reading is computed from the script at the moment of the call, so the energy counter is the
 * exact integral of the scripted power trace, and a test can compute the truth on its own.
 *
 * Script lines ('#' starts a comment; <dev> is the NVML index):
 *   origin_ns <ns>                 time zero (default: nvmlInit_v2)
 *   init_error <code>              nvmlInit_v2 returns <code>
 *   driver_version <text>          nvmlSystemGetDriverVersion (default 550.54.15)
 *   nvml_version <text>            nvmlSystemGetNVMLVersion (default 12.550.54.15)
 *   devices <n>                    number of GPUs (default 0, at most 64), before per-GPU lines
 *   name <dev> <text...>           rest of the line (default "Fake GPU")
 *   uuid <dev> <GPU-...>           (default GPU-00000000-0000-0000-0000-0000000000NN)
 *   pci <dev> <busId>              e.g. 00000000:3B:00.0 (default from the index)
 *   energy <dev> unsupported       nvmlDeviceGetTotalEnergyConsumption -> NOT_SUPPORTED
 *   instant <dev> unsupported      the NVML_FI_DEV_POWER_INSTANT field -> NOT_SUPPORTED
 *   power_usage <dev> unsupported  nvmlDeviceGetPowerUsage -> NOT_SUPPORTED
 *   energy_offset <dev> <mJ>       counter value at t=0 (energy since "driver load")
 *   avg_window <dev> <s>           nvmlDeviceGetPowerUsage returns the mean power over the last <s>
 *                                  seconds (Ampere and newer: 1 s); default 0, instantaneous
 *   power <dev> <t_start_s> <W>    piecewise-constant power from t_start on (0 W before the first)
 *   lost <dev> <t_s>               from t_s on, every call on that GPU returns GPU_IS_LOST
 *   energy_backwards <dev> <t_s>   at t_s the counter restarts from 0 (a driver reload)
 *   energy_period <dev> <s> [phase_s]
 *                                  the energy counter updates only every <s> seconds, at
 *                                  phase_s + k * <s> (default phase 0), as real GPUs' do (about
 *                                  every 100 ms): between updates it keeps the energy up to the
 *                                  last update instant; default 0, always current
 *   read_cost_us <dev> <us>        each energy counter read takes that long (real GPUs: about 3
 *                                  ms); the value is taken halfway through
 *   fail <dev> <from> <to> <code>  calls on that GPU return <code> while from <= t < to (seconds)
 *   proc <dev> <pid> <bytes>       a compute process on that GPU ("self": the loading process)
 *   util <dev> <pid> <sm%> [mem%]  a process utilisation sample (any pid, also not in proc lines)
 *   limit <dev> <W>                power limit (default: unsupported)
 *   memory <dev> <bytes>           total memory (default 80 GiB)
 *   mig <dev> <MIG-uuid>           a MIG device on that GPU, reachable by nvmlDeviceGetHandleByUUID
 *
 * Built twice by the test build: as libnvidia-ml.so.1 and, with -DOLD_DRIVER, as
 * libnvidia-ml-old.so.1 without nvmlDeviceGetTotalEnergyConsumption and nvmlDeviceGetFieldValues.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- ABI, as in nvml.h (NVML 12) ---- */

typedef int nvmlReturn_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_FUNCTION_NOT_FOUND 13
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_LIB_RM_VERSION_MISMATCH 18
#define NVML_ERROR_UNKNOWN 999

#define NVML_FI_DEV_POWER_INSTANT 186
#define NVML_VALUE_TYPE_UNSIGNED_INT 1

typedef struct fake_device *nvmlDevice_t; /* nvml.h: struct nvmlDevice_st * */

typedef struct {
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

typedef union {
  double dVal;
  unsigned int uiVal;
  unsigned long ulVal;
  unsigned long long ullVal;
  signed long long sllVal;
  int siVal;
  unsigned short usVal;
} nvmlValue_t;

typedef struct {
  unsigned int fieldId;
  unsigned int scopeId;
  long long timestamp;
  long long latencyUsec;
  unsigned int valueType;
  nvmlReturn_t nvmlReturn;
  nvmlValue_t value;
} nvmlFieldValue_t;

typedef struct {
  unsigned int gpu;
  unsigned int memory;
} nvmlUtilization_t;

typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;

typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef struct {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil;
  unsigned int memUtil;
  unsigned int encUtil;
  unsigned int decUtil;
} nvmlProcessUtilizationSample_t;

/* Sizes on LP64 Linux; NvmlLibraryLayoutTest asserts the same sizes for the JNA structures. */
_Static_assert(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t");
_Static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t");
_Static_assert(sizeof(nvmlUtilization_t) == 8, "nvmlUtilization_t");
_Static_assert(sizeof(nvmlMemory_t) == 24, "nvmlMemory_t");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t (v2 layout)");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32, "nvmlProcessUtilizationSample_t");

/* ---- scripted state ---- */

#define MAX_DEVICES 64
#define MAX_SEGMENTS 256
#define MAX_PROCS 32
#define MAX_MIGS 8

struct segment {
  double start;
  double watts;
};

struct proc {
  unsigned int pid;
  unsigned long long bytes;
};

struct util {
  unsigned int pid;
  unsigned int sm;
  unsigned int mem;
};

struct fake_device {
  int index;
  struct fake_device *parent; /* non-NULL for a MIG device */
  char name[96];
  char uuid[96];
  char pci[32];
  int energy_supported;
  int instant_supported;
  int usage_supported;
  double energy_offset_mj;
  double avg_window;
  struct segment segments[MAX_SEGMENTS];
  int segment_count;
  double lost_at;      /* < 0: never */
  double backwards_at; /* < 0: never */
  double energy_period; /* 0: the counter is current at every read */
  double energy_phase;
  long read_cost_ns;
  double fail_from;
  double fail_to;
  int fail_code;
  struct proc procs[MAX_PROCS];
  int proc_count;
  struct util utils[MAX_PROCS];
  int util_count;
  unsigned int limit_mw;
  unsigned long long memory_total;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int refcount;
static long long origin_ns;
static char driver_version[80];
static char nvml_version[80];
static struct fake_device devices[MAX_DEVICES];
static int device_count;
static struct fake_device migs[MAX_DEVICES * MAX_MIGS];
static int mig_count;

static long long monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned long long realtime_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
}

#ifndef OLD_DRIVER
static void pause_ns(long ns) {
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}
#endif

static double now_s(void) {
  double t = (double)(monotonic_ns() - origin_ns) * 1e-9;
  return t < 0 ? 0 : t;
}

static double power_at(const struct fake_device *d, double t) {
  double w = 0;
  for (int i = 0; i < d->segment_count && d->segments[i].start <= t; i++) {
    w = d->segments[i].watts;
  }
  return w;
}

/* Joules between a and b (a <= b) under the piecewise-constant trace. */
static double integral(const struct fake_device *d, double a, double b) {
  double joules = 0;
  for (int i = 0; i < d->segment_count; i++) {
    double lo = d->segments[i].start;
    double hi = i + 1 < d->segment_count ? d->segments[i + 1].start : b;
    if (lo < a) lo = a;
    if (hi > b) hi = b;
    if (hi > lo) joules += d->segments[i].watts * (hi - lo);
  }
  return joules;
}

#ifndef OLD_DRIVER
static unsigned long long energy_mj(const struct fake_device *d, double t) {
  if (d->energy_period > 0) {
    /* the counter holds the energy up to its latest update instant */
    double k = (t - d->energy_phase) / d->energy_period;
    double last = d->energy_phase + (double)(long long)k * d->energy_period;
    if (last > t) last -= d->energy_period; /* t before the phase: truncation went up */
    t = last < 0 ? 0 : last;
  }
  if (d->backwards_at >= 0 && t >= d->backwards_at) {
    return (unsigned long long)(integral(d, d->backwards_at, t) * 1000.0);
  }
  return (unsigned long long)(d->energy_offset_mj + integral(d, 0, t) * 1000.0);
}
#endif

static int compare_segments(const void *x, const void *y) {
  double a = ((const struct segment *)x)->start;
  double b = ((const struct segment *)y)->start;
  return (a > b) - (a < b);
}

static void reset_state(void) {
  origin_ns = monotonic_ns();
  snprintf(driver_version, sizeof driver_version, "550.54.15");
  snprintf(nvml_version, sizeof nvml_version, "12.550.54.15");
  device_count = 0;
  mig_count = 0;
  memset(devices, 0, sizeof devices);
  memset(migs, 0, sizeof migs);
  for (int i = 0; i < MAX_DEVICES; i++) {
    struct fake_device *d = &devices[i];
    d->index = i;
    snprintf(d->name, sizeof d->name, "Fake GPU");
    snprintf(d->uuid, sizeof d->uuid, "GPU-00000000-0000-0000-0000-0000000000%02d", i);
    snprintf(d->pci, sizeof d->pci, "00000000:%02X:00.0", 0x10 + i);
    d->energy_supported = 1;
    d->instant_supported = 1;
    d->usage_supported = 1;
    d->lost_at = -1;
    d->backwards_at = -1;
    d->memory_total = 80ULL << 30;
  }
}

static int fail_script(const char *path, int line, const char *what) {
  fprintf(stderr, "fake nvml: %s:%d: %s\n", path, line, what);
  return NVML_ERROR_UNKNOWN;
}

/* Reads the script; returns 0, init_error's code, or NVML_ERROR_UNKNOWN for a bad script. */
static int load_script(void) {
  const char *path = getenv("FAKE_NVML_SCRIPT");
  reset_state();
  if (path == NULL || *path == '\0') {
    fprintf(stderr, "fake nvml: FAKE_NVML_SCRIPT is not set\n");
    return NVML_ERROR_UNKNOWN;
  }
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "fake nvml: cannot open %s\n", path);
    return NVML_ERROR_UNKNOWN;
  }
  int init_error = 0;
  int bad = 0;
  char line[512];
  int number = 0;
  while (!bad && fgets(line, sizeof line, f) != NULL) {
    number++;
    char *hash = strchr(line, '#');
    if (hash != NULL) *hash = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    char key[64];
    int used = 0;
    if (sscanf(line, " %63s %n", key, &used) != 1) continue;
    char *rest = line + used;
    if (strcmp(key, "origin_ns") == 0) {
      origin_ns = atoll(rest);
      continue;
    }
    if (strcmp(key, "init_error") == 0) {
      init_error = atoi(rest);
      continue;
    }
    if (strcmp(key, "driver_version") == 0) {
      snprintf(driver_version, sizeof driver_version, "%s", rest);
      continue;
    }
    if (strcmp(key, "nvml_version") == 0) {
      snprintf(nvml_version, sizeof nvml_version, "%s", rest);
      continue;
    }
    if (strcmp(key, "devices") == 0) {
      device_count = atoi(rest);
      if (device_count < 0 || device_count > MAX_DEVICES) {
        bad = fail_script(path, number, "devices out of range");
      }
      continue;
    }
    /* Per-device lines: "<key> <dev> ..." */
    int dev = -1;
    int used_dev = 0;
    if (sscanf(rest, "%d %n", &dev, &used_dev) != 1 || dev < 0 || dev >= device_count) {
      bad = fail_script(path, number, "unknown key or device index out of range");
      continue;
    }
    struct fake_device *d = &devices[dev];
    char *arg = rest + used_dev;
    char self_arg[256];
    if ((strcmp(key, "proc") == 0 || strcmp(key, "util") == 0) && strncmp(arg, "self", 4) == 0) {
      /* "self" stands for the pid of the process that loaded this library */
      snprintf(self_arg, sizeof self_arg, "%u%s", (unsigned int)getpid(), arg + 4);
      arg = self_arg;
    }
    double a = 0, b = 0;
    if (strcmp(key, "name") == 0) {
      snprintf(d->name, sizeof d->name, "%.95s", arg);
    } else if (strcmp(key, "uuid") == 0) {
      sscanf(arg, "%95s", d->uuid);
    } else if (strcmp(key, "pci") == 0) {
      sscanf(arg, "%31s", d->pci);
    } else if (strcmp(key, "energy") == 0) {
      d->energy_supported = strncmp(arg, "unsupported", 11) != 0;
    } else if (strcmp(key, "instant") == 0) {
      d->instant_supported = strncmp(arg, "unsupported", 11) != 0;
    } else if (strcmp(key, "power_usage") == 0) {
      d->usage_supported = strncmp(arg, "unsupported", 11) != 0;
    } else if (strcmp(key, "energy_offset") == 0) {
      d->energy_offset_mj = atof(arg);
    } else if (strcmp(key, "avg_window") == 0) {
      d->avg_window = atof(arg);
    } else if (strcmp(key, "power") == 0) {
      if (sscanf(arg, "%lf %lf", &a, &b) != 2 || d->segment_count == MAX_SEGMENTS) {
        bad = fail_script(path, number, "power needs <dev> <t_start_s> <watts>");
      } else {
        d->segments[d->segment_count].start = a;
        d->segments[d->segment_count].watts = b;
        d->segment_count++;
      }
    } else if (strcmp(key, "lost") == 0) {
      d->lost_at = atof(arg);
    } else if (strcmp(key, "energy_backwards") == 0) {
      d->backwards_at = atof(arg);
    } else if (strcmp(key, "energy_period") == 0) {
      if (sscanf(arg, "%lf %lf", &a, &b) < 1 || a <= 0) {
        bad = fail_script(path, number, "energy_period needs <dev> <seconds> [phase_s]");
      } else {
        d->energy_period = a;
        d->energy_phase = sscanf(arg, "%lf %lf", &a, &b) == 2 ? b : 0;
      }
    } else if (strcmp(key, "read_cost_us") == 0) {
      d->read_cost_ns = (long)(atof(arg) * 1000.0);
    } else if (strcmp(key, "fail") == 0) {
      if (sscanf(arg, "%lf %lf %d", &d->fail_from, &d->fail_to, &d->fail_code) != 3) {
        bad = fail_script(path, number, "fail needs <dev> <from_s> <to_s> <code>");
      }
    } else if (strcmp(key, "proc") == 0) {
      unsigned int pid = 0;
      unsigned long long bytes = 0;
      if (sscanf(arg, "%u %llu", &pid, &bytes) < 1 || d->proc_count == MAX_PROCS) {
        bad = fail_script(path, number, "proc needs <dev> <pid> <bytes>");
      } else {
        d->procs[d->proc_count].pid = pid;
        d->procs[d->proc_count].bytes = bytes;
        d->proc_count++;
      }
    } else if (strcmp(key, "util") == 0) {
      unsigned int pid = 0, sm = 0, mem = 0;
      if (sscanf(arg, "%u %u %u", &pid, &sm, &mem) < 2 || d->util_count == MAX_PROCS) {
        bad = fail_script(path, number, "util needs <dev> <pid> <sm%>");
      } else {
        d->utils[d->util_count].pid = pid;
        d->utils[d->util_count].sm = sm;
        d->utils[d->util_count].mem = mem;
        d->util_count++;
      }
    } else if (strcmp(key, "limit") == 0) {
      d->limit_mw = (unsigned int)(atof(arg) * 1000.0);
    } else if (strcmp(key, "memory") == 0) {
      d->memory_total = strtoull(arg, NULL, 10);
    } else if (strcmp(key, "mig") == 0) {
      if (mig_count == MAX_DEVICES * MAX_MIGS) {
        bad = fail_script(path, number, "too many MIG devices");
      } else {
        struct fake_device *m = &migs[mig_count++];
        *m = *d;
        m->parent = d;
        sscanf(arg, "%95s", m->uuid);
      }
    } else {
      bad = fail_script(path, number, "unknown key");
    }
  }
  fclose(f);
  if (bad) return bad;
  for (int i = 0; i < device_count; i++) {
    qsort(devices[i].segments, (size_t)devices[i].segment_count, sizeof(struct segment),
          compare_segments);
  }
  return init_error;
}

/* Validates a handle; returns 0 or the error every call on it returns. Caller holds the lock. */
static int check(nvmlDevice_t d) {
  if (refcount == 0) return NVML_ERROR_UNINITIALIZED;
  int known = (d >= devices && d < devices + device_count) || (d >= migs && d < migs + mig_count);
  if (!known) return NVML_ERROR_INVALID_ARGUMENT;
  const struct fake_device *physical = d->parent != NULL ? d->parent : d;
  double t = now_s();
  if (physical->lost_at >= 0 && t >= physical->lost_at) return NVML_ERROR_GPU_IS_LOST;
  if (physical->fail_code != 0 && t >= physical->fail_from && t < physical->fail_to) {
    return physical->fail_code;
  }
  return NVML_SUCCESS;
}

static nvmlReturn_t copy_string(char *out, unsigned int length, const char *text) {
  if (out == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(text) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(out, text, strlen(text) + 1);
  return NVML_SUCCESS;
}

/* ---- exported API ---- */

nvmlReturn_t nvmlInit_v2(void) {
  pthread_mutex_lock(&lock);
  int rc = NVML_SUCCESS;
  if (refcount == 0) rc = load_script();
  if (rc == NVML_SUCCESS) refcount++;
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlShutdown(void) {
  pthread_mutex_lock(&lock);
  int rc = refcount == 0 ? NVML_ERROR_UNINITIALIZED : NVML_SUCCESS;
  if (refcount > 0) refcount--;
  pthread_mutex_unlock(&lock);
  return rc;
}

const char *nvmlErrorString(nvmlReturn_t result) {
  switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "RM has detected an NVML/RM version mismatch.";
    default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
  pthread_mutex_lock(&lock);
  int rc = refcount == 0 ? NVML_ERROR_UNINITIALIZED : copy_string(version, length, driver_version);
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length) {
  pthread_mutex_lock(&lock);
  int rc = refcount == 0 ? NVML_ERROR_UNINITIALIZED : copy_string(version, length, nvml_version);
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = refcount == 0 ? NVML_ERROR_UNINITIALIZED : NVML_SUCCESS;
  if (rc == NVML_SUCCESS) *count = (unsigned int)device_count;
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  if (device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = refcount == 0 ? NVML_ERROR_UNINITIALIZED
           : index >= (unsigned int)device_count ? NVML_ERROR_INVALID_ARGUMENT
                                                 : NVML_SUCCESS;
  if (rc == NVML_SUCCESS) *device = &devices[index];
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device) {
  if (uuid == NULL || device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = refcount == 0 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_NOT_FOUND;
  for (int i = 0; rc == NVML_ERROR_NOT_FOUND && i < device_count; i++) {
    if (strcmp(devices[i].uuid, uuid) == 0) {
      *device = &devices[i];
      rc = NVML_SUCCESS;
    }
  }
  for (int i = 0; rc == NVML_ERROR_NOT_FOUND && i < mig_count; i++) {
    if (strcmp(migs[i].uuid, uuid) == 0) {
      *device = &migs[i];
      rc = NVML_SUCCESS;
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t migDevice,
                                                          nvmlDevice_t *device) {
  if (device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(migDevice);
  if (rc == NVML_SUCCESS && migDevice->parent == NULL) rc = NVML_ERROR_INVALID_ARGUMENT;
  if (rc == NVML_SUCCESS) *device = migDevice->parent;
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS) rc = copy_string(name, length, device->name);
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS) rc = copy_string(uuid, length, device->uuid);
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
  if (pci == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS) {
    unsigned int domain = 0, bus = 0, dev = 0;
    sscanf(device->pci, "%x:%x:%x", &domain, &bus, &dev);
    memset(pci, 0, sizeof *pci);
    pci->domain = domain;
    pci->bus = bus;
    pci->device = dev;
    pci->pciDeviceId = 0x233010DE;
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04X:%02X:%02X.0", domain & 0xFFFF, bus,
             dev);
    snprintf(pci->busId, sizeof pci->busId, "%s", device->pci);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int *index) {
  if (index == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS && device->parent != NULL) rc = NVML_ERROR_INVALID_ARGUMENT;
  if (rc == NVML_SUCCESS) *index = (unsigned int)device->index;
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
  if (power == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS && !device->usage_supported) rc = NVML_ERROR_NOT_SUPPORTED;
  if (rc == NVML_SUCCESS) {
    double t = now_s();
    double watts = power_at(device, t);
    if (device->avg_window > 0) {
      double from = t - device->avg_window < 0 ? 0 : t - device->avg_window;
      if (t > from) watts = integral(device, from, t) / (t - from);
    }
    *power = (unsigned int)(watts * 1000.0 + 0.5);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

#ifndef OLD_DRIVER
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy) {
  if (energy == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS && !device->energy_supported) rc = NVML_ERROR_NOT_SUPPORTED;
  long cost = rc == NVML_SUCCESS ? device->read_cost_ns : 0;
  pthread_mutex_unlock(&lock);
  if (cost > 0) pause_ns(cost / 2); /* a slow read, as on real GPUs; not holding the lock */
  pthread_mutex_lock(&lock);
  if (rc == NVML_SUCCESS) rc = check(device);
  if (rc == NVML_SUCCESS) *energy = energy_mj(device, now_s());
  pthread_mutex_unlock(&lock);
  if (cost > 0) pause_ns(cost - cost / 2);
  return rc;
}

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount,
                                      nvmlFieldValue_t *values) {
  if (values == NULL || valuesCount < 0) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS) {
    double t = now_s();
    for (int i = 0; i < valuesCount; i++) {
      nvmlFieldValue_t *v = &values[i];
      v->timestamp = (long long)realtime_us();
      v->latencyUsec = 0;
      if (v->fieldId == NVML_FI_DEV_POWER_INSTANT && device->instant_supported) {
        v->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
        v->nvmlReturn = NVML_SUCCESS;
        v->value.ullVal = 0;
        v->value.uiVal = (unsigned int)(power_at(device, t) * 1000.0 + 0.5);
      } else {
        v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
      }
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}
#endif

static nvmlReturn_t limit(nvmlDevice_t device, unsigned int *out) {
  if (out == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS && device->limit_mw == 0) rc = NVML_ERROR_NOT_SUPPORTED;
  if (rc == NVML_SUCCESS) *out = device->limit_mw;
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *limit_mw) {
  return limit(device, limit_mw);
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit_mw) {
  return limit(device, limit_mw);
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
  if (utilization == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS) {
    unsigned int sm = 0, mem = 0;
    for (int i = 0; i < device->util_count; i++) {
      sm += device->utils[i].sm;
      mem += device->utils[i].mem;
    }
    utilization->gpu = sm > 100 ? 100 : sm;
    utilization->memory = mem > 100 ? 100 : mem;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
  if (memory == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS) {
    unsigned long long used = 0;
    for (int i = 0; i < device->proc_count; i++) used += device->procs[i].bytes;
    memory->total = device->memory_total;
    memory->used = used < device->memory_total ? used : device->memory_total;
    memory->free = device->memory_total - memory->used;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                     nvmlProcessInfo_t *infos) {
  if (infoCount == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS) {
    unsigned int n = (unsigned int)device->proc_count;
    if (infos == NULL || *infoCount < n) {
      rc = n == 0 ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_SIZE;
    } else {
      for (unsigned int i = 0; i < n; i++) {
        infos[i].pid = device->procs[i].pid;
        infos[i].usedGpuMemory = device->procs[i].bytes;
        infos[i].gpuInstanceId = 0xFFFFFFFFu;
        infos[i].computeInstanceId = 0xFFFFFFFFu;
      }
    }
    *infoCount = n;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                             nvmlProcessUtilizationSample_t *utilization,
                                             unsigned int *processSamplesCount,
                                             unsigned long long lastSeenTimeStamp) {
  if (processSamplesCount == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock);
  int rc = check(device);
  if (rc == NVML_SUCCESS) {
    unsigned long long stamp = realtime_us();
    unsigned int n = stamp > lastSeenTimeStamp ? (unsigned int)device->util_count : 0;
    if (n == 0) {
      *processSamplesCount = 0;
      rc = NVML_ERROR_NOT_FOUND;
    } else if (utilization == NULL || *processSamplesCount < n) {
      *processSamplesCount = n;
      rc = NVML_ERROR_INSUFFICIENT_SIZE;
    } else {
      for (unsigned int i = 0; i < n; i++) {
        utilization[i].pid = device->utils[i].pid;
        utilization[i].timeStamp = stamp;
        utilization[i].smUtil = device->utils[i].sm;
        utilization[i].memUtil = device->utils[i].mem;
        utilization[i].encUtil = 0;
        utilization[i].decUtil = 0;
      }
      *processSamplesCount = n;
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

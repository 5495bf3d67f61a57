/* A fake libnvidia-ml.so.1 for the NVML backend's tests: exports the NVML
 * entry points joulebench uses and answers from a script file named by the
 * FAKE_NVML_SCRIPT environment variable, re-read on every call so a test can
 * change counters between reads. Script lines, "key value":
 *   init_rc 9                 nvmlInit_v2 return code (default 0)
 *   count_rc 0 / count 2      nvmlDeviceGetCount_v2
 *   N.name NVIDIA A100-SXM4-40GB      N = NVML index
 *   N.uuid GPU-...
 *   N.handle_rc 15
 *   N.energy_mj 123456 / N.energy_rc 3
 *   N.power_mw 250000 / N.power_rc 0
 *   N.pids 100 200 300
 * Built twice: with all entry points, and with -DFAKE_NVML_NO_ENERGY (no
 * nvmlDeviceGetTotalEnergyConsumption, and only the old unversioned process
 * query with the 16-byte process record). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct fake_device* nvmlDevice_t;

typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
} nvmlProcessInfo_t;

static int g_initialised = 0;
static int g_init_calls = 0;
static int g_shutdown_calls = 0;

/* Copies the value of `key` from the script into out; returns 1 if found. */
static int lookup(const char* key, char* out, size_t size) {
  const char* path = getenv("FAKE_NVML_SCRIPT");
  if (!path) return 0;
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  char line[512];
  int found = 0;
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
      char* value = line + klen + 1;
      value[strcspn(value, "\n")] = '\0';
      snprintf(out, size, "%s", value);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

static long long lookup_int(const char* key, long long fallback) {
  char buffer[128];
  if (!lookup(key, buffer, sizeof buffer)) return fallback;
  return strtoll(buffer, NULL, 10);
}

static unsigned device_index(nvmlDevice_t device) { return (unsigned)((uintptr_t)device - 1); }

static const char* key_for(nvmlDevice_t device, const char* what) {
  static char key[64];
  snprintf(key, sizeof key, "%u.%s", device_index(device), what);
  return key;
}

int fake_nvml_init_calls(void) { return g_init_calls; }
int fake_nvml_shutdown_calls(void) { return g_shutdown_calls; }

nvmlReturn_t nvmlInit_v2(void) {
  ++g_init_calls;
  nvmlReturn_t rc = (nvmlReturn_t)lookup_int("init_rc", 0);
  if (rc == 0) ++g_initialised;
  return rc;
}

nvmlReturn_t nvmlShutdown(void) {
  ++g_shutdown_calls;
  if (g_initialised == 0) return 1; /* NVML_ERROR_UNINITIALIZED */
  --g_initialised;
  return 0;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  if (!g_initialised) return 1;
  nvmlReturn_t rc = (nvmlReturn_t)lookup_int("count_rc", 0);
  if (rc != 0) return rc;
  *count = (unsigned int)lookup_int("count", 0);
  return 0;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  if (!g_initialised) return 1;
  char key[64];
  snprintf(key, sizeof key, "%u.handle_rc", index);
  nvmlReturn_t rc = (nvmlReturn_t)lookup_int(key, 0);
  if (rc != 0) return rc;
  if (index >= (unsigned)lookup_int("count", 0)) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
  *device = (nvmlDevice_t)(uintptr_t)(index + 1);
  return 0;
}

static nvmlReturn_t get_string(nvmlDevice_t device, const char* what, char* out, unsigned int length) {
  if (!g_initialised) return 1;
  char value[256];
  if (!lookup(key_for(device, what), value, sizeof value)) return 3;
  if (strlen(value) + 1 > length) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  memcpy(out, value, strlen(value) + 1);
  return 0;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  return get_string(device, "name", name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  return get_string(device, "uuid", uuid, length);
}

#ifndef FAKE_NVML_NO_ENERGY
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy_mj) {
  if (!g_initialised) return 1;
  nvmlReturn_t rc = (nvmlReturn_t)lookup_int(key_for(device, "energy_rc"), 0);
  if (rc != 0) return rc;
  char value[64];
  if (!lookup(key_for(device, "energy_mj"), value, sizeof value)) return 3;
  *energy_mj = strtoull(value, NULL, 10);
  return 0;
}
#endif

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power_mw) {
  if (!g_initialised) return 1;
  nvmlReturn_t rc = (nvmlReturn_t)lookup_int(key_for(device, "power_rc"), 0);
  if (rc != 0) return rc;
  char value[64];
  if (!lookup(key_for(device, "power_mw"), value, sizeof value)) return 3;
  *power_mw = (unsigned int)strtoul(value, NULL, 10);
  return 0;
}

/* Fills pids from "N.pids a b c"; returns how many the script lists. */
static unsigned script_pids(nvmlDevice_t device, unsigned* pids, unsigned capacity) {
  char value[256];
  if (!lookup(key_for(device, "pids"), value, sizeof value)) return 0;
  unsigned n = 0;
  for (char* tok = strtok(value, " "); tok; tok = strtok(NULL, " ")) {
    if (n < capacity) pids[n] = (unsigned)strtoul(tok, NULL, 10);
    ++n;
  }
  return n;
}

#ifndef FAKE_NVML_NO_ENERGY
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int* count,
                                                     nvmlProcessInfo_t* infos) {
  if (!g_initialised) return 1;
  unsigned pids[64];
  unsigned n = script_pids(device, pids, 64);
  if (*count < n) {
    *count = n;
    return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  }
  for (unsigned i = 0; i < n; ++i) {
    infos[i].pid = pids[i];
    infos[i].usedGpuMemory = 1ull << 30;
    infos[i].gpuInstanceId = 0xFFFFFFFFu;
    infos[i].computeInstanceId = 0xFFFFFFFFu;
  }
  *count = n;
  return 0;
}
#else
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int* count,
                                                  nvmlProcessInfo_v1_t* infos) {
  if (!g_initialised) return 1;
  unsigned pids[64];
  unsigned n = script_pids(device, pids, 64);
  if (*count < n) {
    *count = n;
    return 7;
  }
  for (unsigned i = 0; i < n; ++i) {
    infos[i].pid = pids[i];
    infos[i].usedGpuMemory = 1ull << 30;
  }
  *count = n;
  return 0;
}
#endif

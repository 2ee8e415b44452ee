// A fake libnvidia-ml.so.1 for tests: exports the NVML C entry points the
// backend calls, with scripted devices, so symbol names, struct layouts and
// fallbacks are exercised through the real dlopen path. Built in three
// variants (tests/gpu_fake_nvml.cmake):
//   FAKE_NVML_MODERN  current driver: _v2/_v3 symbols, 24-byte process records
//   FAKE_NVML_R535    early R535: _v3 fills 32-byte records (the known trap)
//   FAKE_NVML_LEGACY  pre-510 driver: only the unversioned v1 symbols
// Scripted devices (modern and r535):
//   0  RTX 4090: full data; 40 compute processes (more than a first buffer:
//      INSUFFICIENT_SIZE), graphics list overlapping one compute pid
//   1  A100 with MIG on: power and utilisation NOT_SUPPORTED, full-GPU process
//      lists NO_PERMISSION; MIG slices in slots 0 (pid 7000, 9 GiB) and 2
//   2  GB10 unified memory: memory info NOT_SUPPORTED, processes still listed
//   3  lost: nvmlDeviceGetHandleByIndex returns GPU_IS_LOST
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>

#define EXPORT extern "C" __attribute__((visibility("default")))

namespace {

[[maybe_unused]] constexpr int kSuccess = 0, kUninit = 1, kInvalid = 2, kNotSupported = 3,
                               kNoPermission = 4, kInsufficient = 7, kGpuLost = 15,
                               kVersionMismatch = 25;
constexpr unsigned long long kMiB = 1024ULL * 1024ULL;
constexpr unsigned long long kGiB = 1024ULL * kMiB;

struct Device {
  int id;
};
Device g_devices[4] = {{0}, {1}, {2}, {3}};
// MIG slices of GPU 1: slot 0 (GI 1, 40 GiB) and slot 2 (GI 2, 20 GiB).
Device g_mig[2] = {{10}, {12}};
int g_init = 0;

// Observed by the tests through fake_nvml_* getters.
unsigned g_last_memory_version = 0;
int g_insufficient_returns = 0;

int dev_id(void* d) {
  for (auto& x : g_devices)
    if (d == &x) return x.id;
  for (auto& x : g_mig)
    if (d == &x) return x.id;
  return -1;
}

#if defined(FAKE_NVML_LEGACY)
constexpr unsigned kDeviceCount = 1;
#else
constexpr unsigned kDeviceCount = 4;
#endif

#if defined(FAKE_NVML_R535)
[[maybe_unused]] constexpr size_t kV3Stride = 32;
#else
[[maybe_unused]] constexpr size_t kV3Stride = 24;
#endif

[[maybe_unused]] void put(void* buf, size_t stride, unsigned i, unsigned pid,
                          unsigned long long used) {
  unsigned char* rec = static_cast<unsigned char*>(buf) + i * stride;
  std::memset(rec, 0, stride);
  std::memcpy(rec, &pid, 4);
  std::memcpy(rec + 8, &used, 8);
  if (stride >= 24) {
    unsigned none = 0xFFFFFFFFu;  // gpuInstanceId / computeInstanceId: not MIG
    std::memcpy(rec + 16, &none, 4);
    std::memcpy(rec + 20, &none, 4);
  }
  if (stride == 32) {
    unsigned long long cc = 0;
    std::memcpy(rec + 24, &cc, 8);
  }
}

// Fills one process list; `graphics` picks the list.
[[maybe_unused]] int processes(void* d, unsigned* count, void* buf, size_t stride, bool graphics) {
  if (!g_init) return kUninit;
  int id = dev_id(d);
  if (id < 0 || !count) return kInvalid;
  struct P {
    unsigned pid;
    unsigned long long used;
  };
  P list[48];
  unsigned n = 0;
  if (id == 0 && !graphics) {
    for (unsigned k = 0; k < 40; ++k) list[n++] = {1000 + k, (k + 1) * 64 * kMiB};
  } else if (id == 0 && graphics) {
    list[n++] = {1000, 32 * kMiB};  // also in the compute list, with 64 MiB
    list[n++] = {2000, 200 * kMiB};
  } else if (id == 1) {
    return kNoPermission;
  } else if (id == 10 && !graphics) {
    list[n++] = {7000, 9 * kGiB};
  } else if (id == 2 && !graphics) {
    list[n++] = {3000, 8 * kGiB};
    list[n++] = {3001, ULLONG_MAX};  // NVML_VALUE_NOT_AVAILABLE
  }
  if (*count < n) {
    *count = n;
    ++g_insufficient_returns;
    return kInsufficient;
  }
  if (n > 0 && !buf) return kInvalid;
  for (unsigned i = 0; i < n; ++i) put(buf, stride, i, list[i].pid, list[i].used);
  *count = n;
  return kSuccess;
}

}  // namespace

EXPORT unsigned fake_nvml_last_memory_version() { return g_last_memory_version; }
EXPORT int fake_nvml_insufficient_returns() { return g_insufficient_returns; }

EXPORT int nvmlInit() {
  ++g_init;
  return kSuccess;
}
EXPORT int nvmlShutdown() {
  if (!g_init) return kUninit;
  --g_init;
  return kSuccess;
}
EXPORT int nvmlDeviceGetCount(unsigned* n) {
  if (!g_init) return kUninit;
  *n = kDeviceCount;
  return kSuccess;
}
EXPORT int nvmlDeviceGetHandleByIndex(unsigned i, void** d) {
  if (!g_init) return kUninit;
  if (i >= kDeviceCount) return kInvalid;
  if (i == 3) return kGpuLost;
  *d = &g_devices[i];
  return kSuccess;
}
EXPORT int nvmlDeviceGetName(void* d, char* buf, unsigned len) {
  [[maybe_unused]] static const char* names[] = {"NVIDIA GeForce RTX 4090", "NVIDIA A100-SXM4-80GB",
                                                 "NVIDIA GB10"};
  int id = dev_id(d);
  if (id < 0 || id > 2) return kInvalid;
#if defined(FAKE_NVML_LEGACY)
  const char* name = "Tesla K80";
#else
  const char* name = names[id];
#endif
  if (std::strlen(name) + 1 > len) return kInsufficient;
  std::strcpy(buf, name);
  return kSuccess;
}
EXPORT int nvmlDeviceGetPciInfo(void* d, void* out) {
  int id = dev_id(d);
  if (id < 0) return kInvalid;
  unsigned char* p = static_cast<unsigned char*>(out);
  // v1 layout: busId[16] @0, domain @16, bus @20, device @24.
  unsigned domain = 0, bus = static_cast<unsigned>(0x41 + id), device = 0;
  char legacy[32];
  std::snprintf(legacy, sizeof legacy, "%04X:%02X:%02X.0", domain & 0xffff, bus & 0xff,
                device & 0x1f);
  std::memcpy(p, legacy, 16);
  std::memcpy(p + 16, &domain, 4);
  std::memcpy(p + 20, &bus, 4);
  std::memcpy(p + 24, &device, 4);
  return kSuccess;
}
EXPORT int nvmlDeviceGetMemoryInfo(void* d, void* out) {
  int id = dev_id(d);
  if (id < 0) return kInvalid;
  unsigned long long v[3];  // total, free, used (used includes reserved)
#if defined(FAKE_NVML_LEGACY)
  v[0] = 12 * kGiB, v[2] = 1 * kGiB, v[1] = v[0] - v[2];
#else
  if (id == 2) return kNotSupported;
  unsigned long long total = id == 0 ? 24 * kGiB : 80 * kGiB;
  unsigned long long reserved = 300 * kMiB, used = id == 0 ? 10 * kGiB : 0;
  v[0] = total, v[2] = used + reserved, v[1] = total - used - reserved;
#endif
  std::memcpy(out, v, sizeof v);
  return kSuccess;
}
EXPORT int nvmlDeviceGetComputeRunningProcesses(void* d, unsigned* count, void* buf) {
#if defined(FAKE_NVML_LEGACY)
  if (dev_id(d) != 0 || !count) return kInvalid;
  if (*count < 2) {
    *count = 2;
    ++g_insufficient_returns;
    return kInsufficient;
  }
  put(buf, 16, 0, 500, 700 * kMiB);
  put(buf, 16, 1, 501, 100 * kMiB);
  *count = 2;
  return kSuccess;
#else
  return processes(d, count, buf, 16, false);
#endif
}

#if !defined(FAKE_NVML_LEGACY)
EXPORT int nvmlInit_v2() { return nvmlInit(); }
EXPORT int nvmlDeviceGetCount_v2(unsigned* n) { return nvmlDeviceGetCount(n); }
EXPORT int nvmlDeviceGetHandleByIndex_v2(unsigned i, void** d) {
  return nvmlDeviceGetHandleByIndex(i, d);
}
EXPORT int nvmlDeviceGetUUID(void* d, char* buf, unsigned len) {
  int id = dev_id(d);
  if (id < 0) return kInvalid;
  if (len < 41) return kInsufficient;
  std::snprintf(buf, len, "%s-%08d-1111-2222-3333-444444444444", id >= 10 ? "MIG" : "GPU", id);
  return kSuccess;
}
EXPORT int nvmlDeviceGetPciInfo_v3(void* d, void* out) {
  int r = nvmlDeviceGetPciInfo(d, out);
  if (r != kSuccess) return r;
  unsigned char* p = static_cast<unsigned char*>(out);
  unsigned bus = 0;
  std::memcpy(&bus, p + 20, 4);
  char id[32];
  std::snprintf(id, sizeof id, "%08X:%02X:%02X.0", 0u, bus, 0u);
  std::memcpy(p + 36, id, 32);
  return kSuccess;
}
EXPORT int nvmlDeviceGetMemoryInfo_v2(void* d, void* out) {
  int id = dev_id(d);
  if (id < 0) return kInvalid;
  unsigned version = 0;
  std::memcpy(&version, out, 4);
  g_last_memory_version = version;
  // NVML_STRUCT_VERSION(Memory, 2): sizeof(nvmlMemory_v2_t) | 2 << 24.
  if (version != (40u | (2u << 24))) return kVersionMismatch;
  if (id == 2) return kNotSupported;
  unsigned long long total = id == 0    ? 24 * kGiB
                             : id == 10 ? 40 * kGiB
                             : id == 12 ? 20 * kGiB
                                        : 80 * kGiB;
  unsigned long long reserved = 300 * kMiB, used = id == 0 ? 10 * kGiB : id == 10 ? 9 * kGiB : 0;
  unsigned long long v[4] = {total, reserved, total - reserved - used, used};
  std::memcpy(static_cast<unsigned char*>(out) + 8, v, sizeof v);
  return kSuccess;
}
EXPORT int nvmlDeviceGetUtilizationRates(void* d, unsigned* out) {
  int id = dev_id(d);
  if (id != 0)
    return id == 1 ? kNotSupported : (id == 2 ? (out[0] = 5, out[1] = 0, kSuccess) : kInvalid);
  out[0] = 37;
  out[1] = 12;
  return kSuccess;
}
EXPORT int nvmlDeviceGetTemperature(void* d, int sensor, unsigned* t) {
  int id = dev_id(d);
  if (id < 0 || sensor != 0) return kInvalid;
  *t = id == 0 ? 62 : 45;
  return kSuccess;
}
EXPORT int nvmlDeviceGetTemperatureThreshold(void* d, int type, unsigned* t) {
  int id = dev_id(d);
  if (id < 0) return kInvalid;
  if (id == 2) return kNotSupported;
  if (type == 0)
    *t = 95;
  else if (type == 1)
    *t = 90;
  else
    return kNotSupported;
  return kSuccess;
}
EXPORT int nvmlDeviceGetPowerUsage(void* d, unsigned* mw) {
  int id = dev_id(d);
  if (id == 1) return kNotSupported;
  *mw = id == 0 ? 250500 : 30000;
  return kSuccess;
}
EXPORT int nvmlDeviceGetEnforcedPowerLimit(void* d, unsigned* mw) {
  int id = dev_id(d);
  if (id == 1) return kNotSupported;
  *mw = id == 0 ? 450000 : 140000;
  return kSuccess;
}
EXPORT int nvmlDeviceGetClockInfo(void* d, int type, unsigned* mhz) {
  if (dev_id(d) < 0) return kInvalid;
  *mhz = type == 0 ? 2520 : (type == 2 ? 10501 : 2520);
  return kSuccess;
}
EXPORT int nvmlDeviceGetMaxClockInfo(void* d, int, unsigned* mhz) {
  if (dev_id(d) < 0) return kInvalid;
  *mhz = 3105;
  return kSuccess;
}
EXPORT int nvmlDeviceGetCurrentClocksEventReasons(void* d, unsigned long long* mask) {
  int id = dev_id(d);
  if (id < 0) return kInvalid;
  *mask = id == 0 ? (0x4ULL | 0x20ULL) : 0x1ULL;  // power cap + sw thermal; idle
  return kSuccess;
}
EXPORT int nvmlDeviceGetCurrPcieLinkGeneration(void* d, unsigned* g) {
  if (dev_id(d) < 0) return kInvalid;
  *g = 4;
  return kSuccess;
}
EXPORT int nvmlDeviceGetCurrPcieLinkWidth(void* d, unsigned* w) {
  if (dev_id(d) < 0) return kInvalid;
  *w = 16;
  return kSuccess;
}
EXPORT int nvmlDeviceGetMigMode(void* d, unsigned* cur, unsigned* pending) {
  int id = dev_id(d);
  if (id != 1) return kNotSupported;
  *cur = 1;
  *pending = 1;
  return kSuccess;
}
EXPORT int nvmlDeviceGetMaxMigDeviceCount(void* d, unsigned* n) {
  if (dev_id(d) != 1) return kNotSupported;
  *n = 7;
  return kSuccess;
}
EXPORT int nvmlDeviceGetMigDeviceHandleByIndex(void* d, unsigned idx, void** mig) {
  if (dev_id(d) != 1) return kNotSupported;
  if (idx == 0)
    *mig = &g_mig[0];
  else if (idx == 2)
    *mig = &g_mig[1];
  else
    return 6;  // NVML_ERROR_NOT_FOUND: empty slot
  return kSuccess;
}
EXPORT int nvmlDeviceGetGpuInstanceId(void* d, unsigned* id) {
  int m = dev_id(d);
  if (m != 10 && m != 12) return kNotSupported;
  *id = m == 10 ? 1 : 2;
  return kSuccess;
}
EXPORT int nvmlDeviceGetComputeInstanceId(void* d, unsigned* id) {
  int m = dev_id(d);
  if (m != 10 && m != 12) return kNotSupported;
  *id = 0;
  return kSuccess;
}
EXPORT int nvmlDeviceGetComputeRunningProcesses_v3(void* d, unsigned* count, void* buf) {
  return processes(d, count, buf, kV3Stride, false);
}
EXPORT int nvmlDeviceGetGraphicsRunningProcesses_v3(void* d, unsigned* count, void* buf) {
  return processes(d, count, buf, kV3Stride, true);
}
EXPORT int nvmlDeviceGetComputeRunningProcesses_v2(void* d, unsigned* count, void* buf) {
  return processes(d, count, buf, 24, false);
}
#if defined(FAKE_NVML_R535)
// Present on 535.43..535.86 drivers; only its existence matters.
EXPORT int nvmlDeviceGetConfComputeMemSizeInfo(void*, void*) { return kNotSupported; }
#else
EXPORT int nvmlDeviceGetConfComputeMemSizeInfo(void*, void*) { return kNotSupported; }
EXPORT int nvmlDeviceGetRunningProcessDetailList(void*, void*) { return kNotSupported; }
#endif
#endif

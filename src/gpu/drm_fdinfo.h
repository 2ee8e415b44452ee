#pragma once
// DRM fdinfo, written once for every vendor that exposes it (amdgpu, i915,
// xe, ...): /proc/PID/fdinfo/FD of an open /dev/dri node carries the
// client's memory per region (kernel Documentation/gpu/drm-usage-stats.rst).
// NVIDIA exposes nothing here; its per-process data comes from NVML.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace memopt::gpu {

// One open DRM file description, parsed.
struct DrmFdinfo {
  std::string driver;                 // drm-driver (mandatory key)
  std::string pdev;                   // drm-pdev, "0000:03:00.0"; may be empty
  std::optional<uint64_t> client_id;  // drm-client-id
  // region ("vram", "gtt", "vram0", "local0", "system0", ...) → bytes held.
  // Resident is preferred (backing store present: what really occupies the
  // memory); the deprecated drm-memory-<r> is its alias; drm-total-<r> is the
  // fallback when a driver prints only totals.
  std::map<std::string, uint64_t> region_bytes;
  // Busy counters per engine class, cumulative: drm-engine-<e> (ns),
  // drm-cycles-<e> and drm-total-cycles-<e> (xe: busy = Δcycles ÷
  // Δtotal-cycles), drm-engine-capacity-<e> (identical engines, default 1).
  std::map<std::string, uint64_t> engine_ns;
  std::map<std::string, uint64_t> engine_cycles;
  std::map<std::string, uint64_t> engine_total_cycles;
  std::map<std::string, uint64_t> engine_capacity;
};

// "1234", "1234 KiB", "12 MiB" → bytes. drm_fdinfo_print_size() prints the
// largest unit that divides exactly; a bare number is bytes. Old amdgpu
// printed "kB" meaning KiB (nvtop accepts both). Empty on anything else.
std::optional<uint64_t> parse_drm_size(std::string_view value);

// Empty when the text has no drm-driver key (not a DRM client).
std::optional<DrmFdinfo> parse_drm_fdinfo(std::string_view text);

// Device busy percent between two samples of one device's clients, matched
// by drm-client-id: per engine class, Σ Δcycles ÷ Δtotal-cycles (xe) or
// Σ Δns ÷ (wall ns × capacity) (i915, amdgpu); the device figure is the
// busiest class (drm-usage-stats.rst). Counters that go backwards are
// skipped. Empty when clients exist but none has a baseline.
std::optional<double> drm_busy_percent(const std::vector<DrmFdinfo>& before,
                                       const std::vector<DrmFdinfo>& after, uint64_t wall_ns);

// One DRM client attributed to the first pid (lowest) that holds it.
struct DrmClient {
  uint32_t pid = 0;
  DrmFdinfo info;
};

// pid → region → bytes on one device.
using DrmUsageByPid = std::map<uint32_t, std::map<std::string, uint64_t>>;

// A sweep of /proc/*/fd for /dev/dri clients, done lazily once per sample and
// shared by every DRM backend. Duplicate fds (dup, fork, SCM_RIGHTS) of one
// client are counted once, keyed by (drm-pdev, drm-client-id).
// Where the DRM fds were at the last full sweep: (pid, fd) pairs in pid
// order. Reading /proc/*/fd costs milliseconds (every fd of every process is
// a readlink); re-reading only these fdinfo files costs microseconds.
// amdgpu_top rebuilds its index every 5 s the same way.
struct DrmFdIndex {
  std::vector<std::pair<uint32_t, std::string>> fds;
  size_t unreadable = 0;
  bool built = false;
};

class DrmClientSweep {
 public:
  explicit DrmClientSweep(std::string proc_root) : proc_root_(std::move(proc_root)) {}
  // With an index: a full sweep refills it when `rebuild` (or when it was
  // never built); otherwise only the indexed fds are re-read, so a process
  // that opened the GPU since the last rebuild is not seen until the next.
  DrmClientSweep(std::string proc_root, DrmFdIndex* index, bool rebuild)
      : proc_root_(std::move(proc_root)), index_(index), rebuild_(rebuild) {}

  const std::vector<DrmClient>& clients();
  // Clients on PCI device `pdev` (or with no drm-pdev but the given driver,
  // for platform devices), summed per pid.
  DrmUsageByPid usage_for(std::string_view pdev, std::string_view driver);
  // The clients themselves (with engine counters), same matching.
  std::vector<DrmFdinfo> clients_for(std::string_view pdev, std::string_view driver);
  bool swept() const { return swept_; }
  // Processes whose fds we may not read (other users' without root): their
  // GPU memory cannot be attributed.
  size_t unreadable() const { return unreadable_; }

 private:
  void add_client(uint32_t pid, const std::string& fd,
                  std::set<std::pair<std::string, uint64_t>>& seen);

  std::string proc_root_;
  DrmFdIndex* index_ = nullptr;
  bool rebuild_ = true;
  bool swept_ = false;
  size_t unreadable_ = 0;
  std::vector<DrmClient> clients_;
};

}  // namespace memopt::gpu

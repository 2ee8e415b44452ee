#pragma once
// Dashboard: what every view (ai watch, the web page, the tray) shows, as
// plain values. Sources (the standalone sampler, the daemon's API) fill it;
// renderers only read it. Optional fields are empty when the source cannot
// say, and the views print "-" rather than a made-up zero.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"
#include "ui/memory_map.h"

namespace memopt::ui {

struct GpuView {
  int index = 0;
  std::string name;
  uint64_t used_bytes = 0;
  uint64_t total_bytes = 0;  // 0: unknown (the bar is drawn empty)
  std::optional<double> temperature_c;
  std::optional<double> power_watts;
  std::optional<double> power_limit_watts;
  std::optional<uint32_t> utilization_percent;
  std::string throttle;  // "", "thermal", "power", "thermal+power"
};

struct WorkloadView {
  std::string runtime;  // "ollama", "llamacpp", "vllm", "other", ...
  std::string model;    // name or file; "" when unknown
  std::string endpoint;  // API base URL, "" when none
  int64_t pid = 0;
  std::optional<uint64_t> vram_bytes;
  std::optional<uint64_t> ram_bytes;
  std::optional<double> gpu_share;  // 0..1: share of the model on GPU
  std::optional<uint64_t> kv_used_bytes;
  std::optional<uint64_t> kv_capacity_bytes;
  std::optional<double> idle_seconds;
  std::optional<uint64_t> context_tokens;  // per sequence, where the runtime says
  std::optional<uint64_t> parallel;        // sequences (slots)
};

struct ActionView {
  std::string when;  // as the source gives it (ISO 8601 or HH:MM:SS)
  std::string kind;  // "unload", "reload_fewer_layers", ...
  std::string target;
  std::string reason;
  std::string outcome;  // "dry-run", "ok", "failed: ..."
};

// The active profile's thresholds the bars mark (policy::Profile's keys).
struct ProfileView {
  std::string name;
  double auto_compact_threshold = 0;  // VRAM %
  double auto_offload_threshold = 0;  // VRAM %
  double reserve_ram_gb = 0;          // GiB of RAM kept free
};

// One history sample: totals over all GPUs and workloads.
struct HistoryPoint {
  double t_seconds = 0;  // any epoch; only differences are shown
  uint64_t vram_used_bytes = 0;
  uint64_t vram_total_bytes = 0;
  uint64_t ram_used_bytes = 0;
  uint64_t ram_total_bytes = 0;
  uint64_t kv_used_bytes = 0;
};

struct Dashboard {
  std::string source;  // "standalone" or the daemon URL
  uint64_t ram_total_bytes = 0;
  uint64_t ram_available_bytes = 0;
  std::vector<GpuView> gpus;
  std::optional<ProfileView> profile;
  std::vector<WorkloadView> workloads;
  std::vector<ActionView> actions;  // newest last
  std::vector<HistoryPoint> history;  // oldest first
  std::vector<std::string> warnings;
  // What fills each GPU and RAM (ui/memory_map.h), GPUs first; empty when the
  // source could not say.
  std::vector<DeviceMap> maps;
  // The daemon's AI Mode: "active" (the policy acts), "paused" (it decides,
  // applies nothing), "" when the source cannot say (a standalone reading).
  std::string actions_mode;
  // The serve gateway's models (state, queue, waits); nullopt: none configured.
  std::optional<snapshot::GatewayStatus> gateway;
};

// The history point a dashboard stands for now (totals of its GPUs,
// workloads' KV cache, and RAM).
HistoryPoint history_point(const Dashboard& d, double t_seconds);

// A bounded history: the sampler appends, the oldest fall off.
class HistoryRing {
 public:
  explicit HistoryRing(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  void push(const HistoryPoint& p);
  std::vector<HistoryPoint> points() const { return {points_.begin(), points_.end()}; }
  size_t size() const { return points_.size(); }

 private:
  size_t capacity_;
  std::deque<HistoryPoint> points_;
};

}  // namespace memopt::ui

#pragma once
// The memory map: one bar per GPU and one for host RAM, cut into what fills
// it — per model its weights, KV cache and compute buffers, the non-AI
// processes as one group, memory no process accounts for, and free — with the
// active profile's thresholds marked. A pure function of the Snapshot, so the
// web dashboard (through the daemon's status document), `ai watch` and the
// tests all draw the same segments. Segments of a bar add up to its used bytes
// exactly; every segment says where its figure comes from and whether it is
// measured or estimated (the product never presents an estimate as a
// measurement).
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"

namespace memopt::ui {

// What a segment is: a part of a model, or a group.
enum class SegmentKind {
  kWeights,       // the model's tensors
  kKvCache,       // the KV cache (context x parallel)
  kCompute,       // compute buffers and runtime overhead (the rest of the model's
                  // share)
  kModel,         // a model whose parts cannot be told apart
  kNonAi,         // processes that are not AI workloads, grouped
  kUnattributed,  // used memory no scanned process accounts for (driver, other
                  // users)
};
std::string_view segment_kind_name(SegmentKind k);  // "weights", "kv_cache", ...

struct MapSegment {
  SegmentKind kind = SegmentKind::kUnattributed;
  std::string owner;  // model name, workload name, or the group's name
  uint64_t bytes = 0;
  bool estimated = false;  // false: measured (by the GPU driver, the runtime or the file)
  std::string source;      // where the figure comes from, for the hover / selection
};

// A threshold drawn on a bar: the byte position and what crossing it does.
struct MapMark {
  std::string name;  // "reserve", "compact", "offload"
  uint64_t bytes = 0;
  double percent = 0;
};

struct DeviceMap {
  std::string id;    // "gpu0", "gpu1", ..., "ram"
  std::string name;  // GPU name, or "Host RAM"
  uint64_t total_bytes = 0;
  uint64_t used_bytes = 0;  // = sum of segments' bytes
  uint64_t free_bytes = 0;  // total - used
  std::string source;       // where used/total come from ("nvml_v2", "/proc/meminfo")
  std::vector<MapSegment> segments;
  std::vector<MapMark> marks;  // ascending bytes
};

// The active profile's thresholds (policy::Profile's keys); 0 leaves a mark
// off.
struct MapThresholds {
  std::string profile;
  double reserve_vram_percent = 0;  // share AI workloads may plan to fill
  double compact_percent = 0;       // auto_compact_threshold
  double offload_percent = 0;       // auto_offload_threshold
  uint64_t reserve_ram_bytes = 0;   // RAM kept free
};

// GPUs in the Snapshot's order, then host RAM (when its total is known).
std::vector<DeviceMap> memory_map(const snapshot::Snapshot &s, const MapThresholds &t);

// {"schema": "ruvector-memopt.memory_map/1", "devices": [...]}: bytes as
// integers, kinds by name (docs/json/memory_map.md).
nlohmann::json memory_map_json(const std::vector<DeviceMap> &maps, const MapThresholds &t);

}  // namespace memopt::ui

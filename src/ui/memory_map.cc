#include "ui/memory_map.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace memopt::ui {
namespace {

using snapshot::Snapshot;
using snapshot::Workload;

// a * num / den without overflow for byte counts (den > 0).
uint64_t scale(uint64_t a, uint64_t num, uint64_t den) {
  if (den == 0) return 0;
  const long double v = static_cast<long double>(a) * num / den;
  return v >= static_cast<long double>(UINT64_MAX) ? UINT64_MAX : static_cast<uint64_t>(v);
}

uint64_t share_on(const Workload &w, uint32_t gpu) {
  uint64_t b = 0;
  for (const auto &v : w.vram) {
    if (v.gpu_index == gpu) b += v.used_bytes;
  }
  return b;
}

std::string workload_name(const Workload &w) {
  if (!w.model.empty()) return w.model;
  if (!w.runtime_name.empty()) return w.runtime_name;
  return w.command;
}

// The weights of a loaded model: the GGUF file the workload opened for it
// (exact tensor bytes), when it can be told which file that is.
const snapshot::ModelSummary *model_file(const Workload &w, const runtimes::LoadedModel &m,
                                         size_t models_of_workload) {
  for (const auto &f : w.models) {
    if (f.error.empty() && !m.model_path.empty() && f.path == m.model_path) return &f;
  }
  if (models_of_workload == 1 && w.models.size() == 1 && w.models[0].error.empty()) {
    return &w.models[0];
  }
  return nullptr;
}

// `part` bytes of one model on one GPU as weights / KV / compute. The KV and
// weights figures are the model's whole, so they are scaled by the share of
// the model this GPU holds; compute is what is left of the measured part.
void split_model(std::vector<MapSegment> &out, const std::string &owner, uint64_t part,
                 uint64_t model_total, std::optional<uint64_t> kv_bytes, bool kv_estimated,
                 std::optional<uint64_t> weight_bytes, bool weights_estimated,
                 const std::string &part_source) {
  const uint64_t whole = std::max(model_total, part);
  uint64_t kv = kv_bytes ? std::min(part, scale(*kv_bytes, part, whole)) : 0;
  uint64_t weights = weight_bytes ? std::min(part - kv, scale(*weight_bytes, part, whole)) : 0;
  if (kv_bytes && kv > 0) {
    out.push_back({SegmentKind::kKvCache, owner, kv, kv_estimated,
                   kv_estimated ? "KV cache: estimator at the runtime's context and parallel"
                                : "KV cache: the runtime's own figure"});
  }
  const uint64_t rest = part - kv - weights;
  if (weight_bytes) {
    if (weights > 0) {
      out.push_back(
          {SegmentKind::kWeights, owner, weights, weights_estimated,
           weights_estimated ? "weights: estimator" : "weights: tensor bytes of the GGUF file"});
    }
    if (rest > 0) {
      out.push_back({SegmentKind::kCompute, owner, rest, true,
                     "compute buffers: " + part_source + " less weights and KV cache"});
    }
  } else if (rest > 0) {
    out.push_back({SegmentKind::kModel, owner, rest, false,
                   "weights + compute buffers: " + part_source +
                       (kv_bytes ? " less KV cache" : "") + " (no file to split them)"});
  }
}

// Keeps the segments' sum at `used`: readings taken at slightly different
// moments can attribute more than the driver reports in use; the last
// segments give way (they are the least certain).
void fit_to(std::vector<MapSegment> &segs, uint64_t used) {
  uint64_t sum = 0;
  for (const auto &s : segs) sum += s.bytes;
  for (auto it = segs.rbegin(); it != segs.rend() && sum > used; ++it) {
    const uint64_t cut = std::min(it->bytes, sum - used);
    it->bytes -= cut;
    sum -= cut;
  }
  std::erase_if(segs, [](const MapSegment &s) { return s.bytes == 0; });
}

void add_mark(std::vector<MapMark> &marks, const char *name, double percent, uint64_t total) {
  if (!(percent > 0 && percent <= 100) || total == 0) return;
  marks.push_back({name, static_cast<uint64_t>(std::llround(total * (percent / 100.0))), percent});
}

DeviceMap gpu_map(const Snapshot &s, const gpu::GpuDevice &g, const MapThresholds &t) {
  DeviceMap d;
  d.id = "gpu" + std::to_string(g.index);
  d.name = g.name;
  d.total_bytes = g.memory_total_bytes.value_or(0);
  d.used_bytes = g.memory_used_bytes.value_or(0);
  if (d.total_bytes > 0) d.used_bytes = std::min(d.used_bytes, d.total_bytes);
  d.free_bytes = d.total_bytes - std::min(d.total_bytes, d.used_bytes);
  d.source = g.memory_source.empty() ? g.backend : g.memory_source;
  const std::string per_process =
      "per-process VRAM (" + (g.backend.empty() ? s.gpu_backend : g.backend) + ")";

  uint64_t non_ai = 0;
  for (const Workload &w : s.workloads) {
    const uint64_t share = share_on(w, g.index);
    if (share == 0) continue;
    if (!w.is_ai()) {
      non_ai += share;
      continue;
    }
    std::vector<const runtimes::LoadedModel *> models;
    for (const auto &m : s.loaded_models) {
      if (!w.endpoint.empty() && m.endpoint == w.endpoint) models.push_back(&m);
    }
    if (models.empty()) {
      // No runtime API describes it: the estimator's figures for the model
      // its command line names, else the process's share as one block.
      const auto &e = w.estimate;
      split_model(d.segments, workload_name(w), share, e ? e->total_bytes : share,
                  e ? std::optional<uint64_t>(e->kv_cache_bytes) : std::nullopt, true,
                  e ? std::optional<uint64_t>(e->weights_bytes) : std::nullopt, true, per_process);
      continue;
    }
    // The process's share split over its models in proportion to what each
    // model says it holds in VRAM (exact with one model per process).
    uint64_t weight_sum = 0;
    for (const auto *m : models) weight_sum += m->vram_bytes.value_or(m->size_bytes.value_or(0));
    uint64_t left = share;
    for (size_t i = 0; i < models.size(); ++i) {
      const auto &m = *models[i];
      const uint64_t held = m.vram_bytes.value_or(m.size_bytes.value_or(0));
      const uint64_t part = i + 1 == models.size() ? left
                            : weight_sum > 0       ? std::min(left, scale(share, held, weight_sum))
                                                   : share / models.size();
      left -= part;
      const auto *file = model_file(w, m, models.size());
      const bool kv_est = m.kv.capacity_bytes.known() &&
                          m.kv.capacity_bytes.source == runtimes::Provenance::kEstimated;
      split_model(
          d.segments, m.name, part, held, m.kv.capacity_bytes.value, kv_est,
          file ? std::optional<uint64_t>(file->weight_bytes) : std::nullopt, false,
          models.size() == 1 ? per_process : per_process + " split by the runtime's figures");
    }
  }
  if (non_ai > 0) {
    d.segments.push_back({SegmentKind::kNonAi, "non-AI processes", non_ai, false, per_process});
  }
  fit_to(d.segments, d.used_bytes);
  uint64_t attributed = 0;
  for (const auto &seg : d.segments) attributed += seg.bytes;
  if (d.used_bytes > attributed) {
    d.segments.push_back({SegmentKind::kUnattributed, "not attributed to a process",
                          d.used_bytes - attributed, false,
                          "used (" + d.source + ") less every process's share"});
  }
  add_mark(d.marks, "compact", t.compact_percent, d.total_bytes);
  add_mark(d.marks, "reserve", t.reserve_vram_percent, d.total_bytes);
  add_mark(d.marks, "offload", t.offload_percent, d.total_bytes);
  std::stable_sort(d.marks.begin(), d.marks.end(),
                   [](const MapMark &a, const MapMark &b) { return a.bytes < b.bytes; });
  return d;
}

DeviceMap ram_map(const Snapshot &s, const MapThresholds &t) {
  DeviceMap d;
  d.id = "ram";
  d.name = "Host RAM";
  d.total_bytes = s.host.meminfo.total_bytes;
  d.used_bytes = s.ram_used_bytes();
  d.free_bytes = d.total_bytes - d.used_bytes;
  d.source = "/proc/meminfo (total - available)";
  for (const Workload &w : s.workloads) {
    if (!w.is_ai() || w.rss_bytes == 0) continue;
    d.segments.push_back({SegmentKind::kModel, workload_name(w), w.rss_bytes, false,
                          "resident memory of the workload's processes (/proc)"});
  }
  fit_to(d.segments, d.used_bytes);
  uint64_t attributed = 0;
  for (const auto &seg : d.segments) attributed += seg.bytes;
  if (d.used_bytes > attributed) {
    d.segments.push_back({SegmentKind::kNonAi, "other processes and the kernel",
                          d.used_bytes - attributed, false, "used less the AI workloads' RSS"});
  }
  if (t.reserve_ram_bytes > 0 && t.reserve_ram_bytes < d.total_bytes) {
    const uint64_t at = d.total_bytes - t.reserve_ram_bytes;
    d.marks.push_back({"reserve", at, 100.0 * static_cast<double>(at) / d.total_bytes});
  }
  return d;
}

}  // namespace

std::string_view segment_kind_name(SegmentKind k) {
  switch (k) {
    case SegmentKind::kWeights:
      return "weights";
    case SegmentKind::kKvCache:
      return "kv_cache";
    case SegmentKind::kCompute:
      return "compute";
    case SegmentKind::kModel:
      return "model";
    case SegmentKind::kNonAi:
      return "non_ai";
    case SegmentKind::kUnattributed:
      return "unattributed";
  }
  return "unattributed";
}

std::vector<DeviceMap> memory_map(const Snapshot &s, const MapThresholds &t) {
  std::vector<DeviceMap> out;
  for (const auto &g : s.gpus) out.push_back(gpu_map(s, g, t));
  if (s.host.meminfo.total_bytes > 0) out.push_back(ram_map(s, t));
  return out;
}

nlohmann::json memory_map_json(const std::vector<DeviceMap> &maps, const MapThresholds &t) {
  nlohmann::json devices = nlohmann::json::array();
  for (const auto &d : maps) {
    nlohmann::json segs = nlohmann::json::array();
    for (const auto &s : d.segments) {
      segs.push_back({{"kind", segment_kind_name(s.kind)},
                      {"owner", s.owner},
                      {"bytes", s.bytes},
                      {"estimated", s.estimated},
                      {"source", s.source}});
    }
    nlohmann::json marks = nlohmann::json::array();
    for (const auto &m : d.marks) {
      marks.push_back({{"name", m.name}, {"bytes", m.bytes}, {"percent", m.percent}});
    }
    devices.push_back({{"id", d.id},
                       {"name", d.name},
                       {"total_bytes", d.total_bytes},
                       {"used_bytes", d.used_bytes},
                       {"free_bytes", d.free_bytes},
                       {"source", d.source},
                       {"segments", segs},
                       {"marks", marks}});
  }
  return {{"schema", "ruvector-memopt.memory_map/1"}, {"profile", t.profile}, {"devices", devices}};
}

}  // namespace memopt::ui

#include "policy/snapshot_adapter.h"

#include <cmath>

namespace memopt::policy {
namespace {

// The GPU holding a model: the one where the workload serving its endpoint
// holds the most VRAM; with a single GPU, that GPU.
int gpu_of(const detect::LoadedModel& m, const detect::Snapshot& s, size_t gpu_count) {
  if (m.vram_bytes == 0) return -1;
  uint64_t best = 0;
  int index = -1;
  for (const auto& w : s.workloads) {
    if (w.endpoint.empty() || w.endpoint != m.endpoint) continue;
    for (const auto& share : w.vram) {
      if (share.used_bytes > best) {
        best = share.used_bytes;
        index = static_cast<int>(share.gpu_index);
      }
    }
  }
  if (index < 0 && gpu_count == 1) index = 0;
  return index;
}

}  // namespace

PolicyInput to_policy_input(const detect::Snapshot& s, const std::vector<gpu::GpuDevice>& gpus, double now_seconds,
                            const std::map<std::string, ModelExtras>& extras) {
  PolicyInput in;
  in.now_seconds = now_seconds;
  in.host.total_bytes = s.host.total_bytes;
  in.host.available_bytes = s.host.available_bytes;
  for (const auto& g : gpus) {
    if (!g.memory_total_bytes || !g.memory_used_bytes) continue;  // nothing to plan with
    GpuState st;
    st.index = static_cast<int>(g.index);
    st.name = g.name;
    st.total_bytes = *g.memory_total_bytes;
    st.used_bytes = *g.memory_used_bytes;
    if (g.throttle && (g.throttle->thermal || g.throttle->power)) {
      st.throttling = true;
      st.throttle_reason = g.throttle->thermal ? "thermal" : "power";
    }
    in.gpus.push_back(st);
  }
  for (const auto& m : s.loaded_models) {
    ModelState ms;
    ms.runtime = m.runtime;
    ms.name = m.name;
    ms.endpoint = m.endpoint;
    ms.size_bytes = m.size_bytes;
    ms.vram_bytes = m.vram_bytes;
    ms.context_length = static_cast<uint32_t>(std::min<uint64_t>(m.context_length, UINT32_MAX));
    ms.gpu = gpu_of(m, s, in.gpus.size());
    auto it = extras.find(ms.key());
    if (it != extras.end()) {
      const ModelExtras& x = it->second;
      ms.idle_seconds = x.idle_seconds;
      ms.busy = x.busy;
      ms.pinned = x.pinned;
      ms.parallel_slots = x.parallel_slots;
      ms.kv_capacity_bytes = x.kv_capacity_bytes;
      ms.kv_used_bytes = x.kv_used_bytes;
      ms.kv_peak_bytes = x.kv_peak_bytes;
      ms.n_layers = x.n_layers;
    }
    if (ms.kv_capacity_bytes > 0 && ms.kv_used_bytes == 0 && m.kv_cache_usage) {
      ms.kv_used_bytes = static_cast<uint64_t>(*m.kv_cache_usage * static_cast<double>(ms.kv_capacity_bytes));
    }
    if (ms.n_layers > 0 && ms.size_bytes > 0) {
      // Layers on the GPU in proportion to the bytes there: llama.cpp
      // offloads whole layers of near-equal size, so the VRAM share is the
      // layer share (Ollama's PROCESSOR column is computed the same way).
      const double share = static_cast<double>(ms.vram_bytes) / static_cast<double>(ms.size_bytes);
      ms.gpu_layers = static_cast<uint32_t>(std::lround(share * ms.n_layers));
      const uint64_t weights = ms.size_bytes > ms.kv_capacity_bytes ? ms.size_bytes - ms.kv_capacity_bytes : 0;
      ms.gpu_layer_bytes = weights / ms.n_layers;
    }
    in.models.push_back(ms);
  }
  return in;
}

}  // namespace memopt::policy

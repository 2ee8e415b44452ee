#include "policy/snapshot_adapter.h"

#include <algorithm>
#include <cmath>

namespace memopt::policy {
namespace {

// The GPU holding a model: the one where the workload serving its endpoint
// holds the most VRAM; with a single GPU, that GPU.
int gpu_of(const runtimes::LoadedModel& m, const snapshot::Snapshot& s, size_t gpu_count) {
  if (m.vram_bytes.value_or(0) == 0) return -1;
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

uint32_t clamp32(uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX)); }

}  // namespace

PolicyInput to_policy_input(const snapshot::Snapshot& s, double now_seconds) {
  PolicyInput in;
  in.now_seconds = now_seconds;
  in.host.total_bytes = s.host.meminfo.total_bytes;
  in.host.available_bytes = s.host.meminfo.available_bytes;
  for (const auto& g : s.gpus) {
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
    ms.runtime = std::string(runtimes::runtime_name(m.runtime));
    ms.name = m.name;
    ms.endpoint = m.endpoint;
    ms.size_bytes = m.size_bytes.value_or(0);
    ms.vram_bytes = m.vram_bytes.value_or(0);
    ms.parallel_slots = clamp32(std::max<uint64_t>(m.parallel.value_or(1), 1));
    // The engine reasons about the whole allocated context: every slot's.
    ms.context_length = clamp32(m.context_tokens.value_or(0) * ms.parallel_slots);
    ms.gpu = gpu_of(m, s, in.gpus.size());
    ms.idle_seconds = m.idle_seconds.value_or(0);
    ms.busy = m.requests_running.value_or(0) > 0;
    // keep_alive -1 shows as an expiry centuries away.
    ms.pinned = m.expires_at.size() >= 4 && m.expires_at.substr(0, 4) > "2200";
    ms.n_layers = m.n_layers;
    ms.kv_capacity_bytes = m.kv.capacity_bytes.value.value_or(0);
    ms.kv_used_bytes = m.kv.used_bytes.value.value_or(0);
    if (ms.kv_capacity_bytes > 0 && ms.kv_used_bytes == 0 && m.kv.usage_ratio.known()) {
      ms.kv_used_bytes = static_cast<uint64_t>(*m.kv.usage_ratio.value *
                                               static_cast<double>(ms.kv_capacity_bytes));
    }
    ms.kv_peak_bytes = std::max(m.kv_peak_bytes, ms.kv_used_bytes);
    if (ms.n_layers > 0 && ms.size_bytes > 0) {
      // Layers on the GPU in proportion to the bytes there: llama.cpp
      // offloads whole layers of near-equal size, so the VRAM share is the
      // layer share (Ollama's PROCESSOR column is computed the same way).
      const double share = static_cast<double>(ms.vram_bytes) / static_cast<double>(ms.size_bytes);
      ms.gpu_layers = static_cast<uint32_t>(std::lround(share * ms.n_layers));
      const uint64_t weights =
          ms.size_bytes > ms.kv_capacity_bytes ? ms.size_bytes - ms.kv_capacity_bytes : 0;
      ms.gpu_layer_bytes = weights / ms.n_layers;
    }
    in.models.push_back(ms);
  }
  return in;
}

}  // namespace memopt::policy

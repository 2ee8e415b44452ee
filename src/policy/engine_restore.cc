// The policy pass (engine_pass.h): moving offloaded layers back to a GPU
// that has room again and is not throttling.
#include <algorithm>

#include "policy/engine_pass.h"
#include "util/bytes.h"

namespace memopt::policy::engine_detail {

void Pass::restore_rule(const GpuState& g, const GpuForecast& f) {
  if (g.total_bytes == 0 || gpus_acted_.count(g.index)) return;
  const double limit_pct =
      std::min(p_.reserve_vram_percent, p_.auto_compact_threshold - t_.hysteresis_percent);
  const uint64_t limit = bytes_at_percent(g.total_bytes, limit_pct);
  uint64_t used = g.used_bytes;
  for (const auto& m : in_.models) {
    if (m.gpu != g.index || m.gpu_layers >= m.n_layers || m.gpu_layer_bytes == 0) continue;
    if (taken_.count(m.key())) continue;
    if (g.throttling) {
      d_.notes.push_back("not restoring layers of " + m.name + " to GPU " +
                         std::to_string(g.index) + ": it is throttling (" + g.throttle_reason +
                         ")");
      continue;
    }
    auto off = st_.offloaded_at.find(m.key());
    if (off != st_.offloaded_at.end() && in_.now_seconds - off->second < t_.restore_stable_seconds)
      continue;
    if (f.growth.valid && f.growth.slope_bytes_per_s > 0) continue;
    if (used >= limit) continue;
    const uint64_t fit = (limit - used) / m.gpu_layer_bytes;
    const uint64_t layers = std::min<uint64_t>(fit, m.n_layers - m.gpu_layers);
    if (layers == 0) continue;
    Action a = model_action(ActionKind::kRestoreLayers, m);
    a.gpu_layers = m.gpu_layers + static_cast<uint32_t>(layers);
    a.expected_bytes = layers * m.gpu_layer_bytes;
    a.reason = "GPU " + std::to_string(g.index) + " VRAM at " +
               pct_text(g.used_bytes, g.total_bytes) + " has room: " + m.name + " back to " +
               std::to_string(a.gpu_layers) + " of " + std::to_string(m.n_layers) +
               " layers on GPU";
    const uint64_t b = a.expected_bytes;
    if (emit(std::move(a))) {
      used += b;
      st_.offloaded_at.erase(m.key());
    }
  }
}

}  // namespace memopt::policy::engine_detail

// The policy pass (engine_pass.h): context right-sizing. A KV cache far
// larger than its observed peak is resized (auto_compact_threshold,
// kv_cache_limit_percent).
#include <algorithm>
#include <cmath>

#include "policy/engine_pass.h"
#include "util/bytes.h"

namespace memopt::policy::engine_detail {

void Pass::compact_rule(const GpuState& g) {
  if (g.total_bytes == 0) return;
  const uint64_t thr = bytes_at_percent(g.total_bytes, p_.auto_compact_threshold);
  const uint64_t rearm =
      bytes_at_percent(g.total_bytes, p_.auto_compact_threshold - t_.hysteresis_percent);
  if (g.used_bytes < rearm) st_.compact_disarmed[g.index] = false;
  const bool gpu_trigger =
      g.used_bytes >= thr && armed(st_.compact_disarmed, st_.compact_fired_at, g.index);
  const uint64_t kv_limit = bytes_at_percent(g.total_bytes, p_.kv_cache_limit_percent);
  bool fired = false;
  for (const auto& m : in_.models) {
    if (m.gpu != g.index || m.kv_capacity_bytes == 0 || m.context_length == 0) continue;
    const bool over_limit = m.kv_capacity_bytes > kv_limit;
    if (!gpu_trigger && !over_limit) continue;
    if (taken_.count(m.key())) continue;
    const uint64_t peak = std::max(m.kv_peak_bytes, m.kv_used_bytes);
    if (peak == 0) {
      d_.notes.push_back(m.key() + ": KV cache use unknown, context not right-sized");
      continue;
    }
    const double ratio = static_cast<double>(peak) / static_cast<double>(m.kv_capacity_bytes);
    const uint32_t slots = std::max<uint32_t>(1, m.parallel_slots);
    uint32_t new_slots = slots;
    // Latency first: one request at a time needs one slot; throughput
    // keeps slots up to max_batch_size.
    if (!p_.prefer_throughput && slots > 1) new_slots = 1;
    if (p_.prefer_throughput && slots > static_cast<uint64_t>(p_.max_batch_size)) {
      new_slots = static_cast<uint32_t>(p_.max_batch_size);
    }
    uint64_t new_ctx = m.context_length;
    if (ratio <= t_.kv_rightsize_ratio) {
      // KV bytes scale linearly with context (2 x n_layer x n_ctx x
      // n_embd_kv x type size; research/memory-estimation.md), so peak
      // tokens = context x ratio; keep `kv_headroom` above it.
      const double want = static_cast<double>(m.context_length) * ratio * t_.kv_headroom;
      new_ctx =
          static_cast<uint64_t>(std::ceil(std::max<double>(want, t_.min_context) / 1024.0)) * 1024;
    } else if (new_slots < slots &&
               ratio * t_.kv_headroom <= static_cast<double>(new_slots) / slots) {
      new_ctx = static_cast<uint64_t>(m.context_length) / slots * new_slots;
    }
    if (new_ctx >= m.context_length) continue;
    Action a = model_action(ActionKind::kResizeContext, m);
    a.context_length = static_cast<uint32_t>(new_ctx);
    a.parallel_slots = new_slots != slots ? new_slots : 0;
    a.expected_bytes = m.kv_capacity_bytes -
                       static_cast<uint64_t>(static_cast<double>(m.kv_capacity_bytes) *
                                             static_cast<double>(new_ctx) / m.context_length);
    std::string trig =
        over_limit ? "KV cache " + format_bytes(m.kv_capacity_bytes) +
                         " > kv_cache_limit_percent of GPU " + std::to_string(g.index)
                   : "GPU " + std::to_string(g.index) + " VRAM at " +
                         pct_text(g.used_bytes, g.total_bytes) + " >= auto_compact_threshold";
    a.reason = trig + "; " + m.name + " peaked at " + pct_text(peak, m.kv_capacity_bytes) +
               " of its " + std::to_string(m.context_length) + "-token context: resize to " +
               std::to_string(new_ctx) + " saves " + format_bytes(a.expected_bytes);
    if (emit(std::move(a))) fired = true;
  }
  if (gpu_trigger && fired) {
    st_.compact_disarmed[g.index] = true;
    st_.compact_fired_at[g.index] = in_.now_seconds;
  }
}

}  // namespace memopt::policy::engine_detail

#include "runtimes/kv_estimate.h"

#include "estimate/memory_estimate.h"
#include "gguf/model_info.h"

namespace memopt::runtimes {

Result<KvEstimate> estimate_kv_cache(const KvEstimateInput& in) {
  if (in.ctx_per_seq == 0) return make_error("no context length to size the KV cache for");
  auto model = gguf::get_model_info(in.gguf_path);
  if (!model) return model.error();
  estimate::RunSettings rs;
  rs.ctx_per_seq = in.ctx_per_seq;
  rs.parallel = std::max<uint32_t>(1, in.parallel);
  rs.type_k = rs.type_v = in.cache_type;
  // The KV pool's size does not depend on where layers run; host placement
  // keeps the estimate independent of the GPUs here.
  estimate::Placement placement;
  auto est = estimate::estimate_memory_requirements(*model, rs, placement);
  if (!est) return est.error();
  return KvEstimate{est->kv_total_bytes(), est->n_ctx};
}

Status add_kv_estimate(LoadedModel& m, const KvEstimateInput& in) {
  auto est = estimate_kv_cache(in);
  if (!est) return est.error();
  if (!m.kv.capacity_bytes.known()) {
    m.kv.capacity_bytes = Figure<uint64_t>::estimated(est->total_bytes);
  }
  if (!m.kv.capacity_tokens.known()) {
    m.kv.capacity_tokens = Figure<uint64_t>::estimated(est->cells);
  }
  if (!m.kv.used_bytes.known() && m.kv.used_tokens.known() && est->cells > 0) {
    // Full-attention layers fill one cell per token; this proportional share
    // over-counts SWA models a little, which an estimate may.
    double frac = std::min(1.0, static_cast<double>(*m.kv.used_tokens.value) /
                                    static_cast<double>(est->cells));
    m.kv.used_bytes =
        Figure<uint64_t>::estimated(static_cast<uint64_t>(frac * static_cast<double>(est->total_bytes)));
  }
  m.kv.basis += std::string(m.kv.basis.empty() ? "" : "; ") +
                "bytes: estimated from the GGUF for " + std::to_string(in.ctx_per_seq) + " x " +
                std::to_string(std::max<uint32_t>(1, in.parallel)) + " tokens, f16 cache assumed";
  m.kv.complete(std::nullopt);
  return Ok{};
}

}  // namespace memopt::runtimes

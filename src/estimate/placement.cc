#include "estimate/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "gguf/ggml_type.h"
#include "util/bytes.h"

namespace memopt::estimate {
namespace {

constexpr uint64_t kCtxStep = 256;               // llama.cpp pads contexts to 256 cells
constexpr uint64_t kDefaultCtxCeiling = 131072;  // when the GGUF has no context_length
constexpr uint32_t kF16 = 1;

std::string type_name(uint32_t t) {
  auto tr = gguf::ggml_type_traits(t);
  return tr ? std::string(tr->name) : "?";
}

std::string join(const std::vector<std::string> &v, const std::string &sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// Everything the searches share: the model, devices, limits.
class Planner {
 public:
  // draft_ngl: the draft model's -ngld; projector_gpu: the projector on the
  // main GPU (llama-server's default) rather than the host.
  Planner(const ModelCosts &c, const std::vector<GpuDevice> &gpus, const HostMemory &host,
          const PlanRequest &r, uint32_t draft_ngl, bool projector_gpu)
      : c_(c),
        gpus_(gpus),
        host_(host),
        r_(r),
        draft_ngl_(draft_ngl),
        projector_gpu_(projector_gpu) {
    for (const auto &g : gpus_) {
      const uint64_t base = g.total_bytes ? g.total_bytes : g.free_bytes;
      const double pct = std::clamp(r_.reserve_vram_percent, 0.0, 100.0);
      const auto reserve =
          static_cast<uint64_t>(std::ceil(static_cast<double>(base) * pct / 100.0));
      limits_.push_back(g.free_bytes > reserve ? g.free_bytes - reserve : 0);
    }
    // Default split: proportional to what each GPU can hold after its runtime
    // overhead (llama.cpp's default is proportional to free memory).
    for (uint64_t l : limits_) {
      split_.push_back(
          static_cast<double>(l > r_.gpu.overhead_bytes ? l - r_.gpu.overhead_bytes : 0));
    }
    if (!r_.pinned_tensor_split.empty()) split_ = r_.pinned_tensor_split;
  }

  uint32_t full_ngl() const { return c_.n_layer() + 1; }
  // The largest context to consider: the training context, times the RoPE
  // scaling factor when one is given.
  uint64_t ctx_ceiling() const {
    if (!c_.n_ctx_train) return kDefaultCtxCeiling;
    if (r_.rope_scaling.empty()) return c_.n_ctx_train;
    return static_cast<uint64_t>(static_cast<double>(c_.n_ctx_train) * r_.rope_scale);
  }
  uint32_t n_gpus() const { return static_cast<uint32_t>(gpus_.size()); }
  const std::vector<uint64_t> &limits() const { return limits_; }

  Placement placement(uint32_t ngl, uint32_t n_cpu_moe) const {
    Placement p;
    p.n_gpus = n_gpus();
    p.n_gpu_layers = n_gpus() ? ngl : 0;
    p.tensor_split = split_;
    p.n_cpu_moe = n_cpu_moe;
    return p;
  }

  Result<MemoryEstimate> probe(const RunSettings &s, const Placement &p) const {
    return probe_costs(c_, s, p);
  }

  // The model's estimate with its companions' bytes on their devices.
  Result<MemoryEstimate> probe_costs(const ModelCosts &c, const RunSettings &s,
                                     const Placement &p) const {
    auto e = estimate_memory_requirements(c, s, p, r_.gpu);
    if (!e) return e;
    if (r_.draft) {
      auto d = draft_probe(s);
      if (!d) return make_error("draft model " + r_.draft->path + ": " + d.error().message);
      for (size_t i = 0; i < e->devices.size(); ++i) {
        e->devices[i].draft_bytes = d->devices[i].total_bytes();
      }
    }
    if (r_.projector) {
      const bool gpu = projector_on_gpu();
      e->devices[gpu ? 1 : 0].projector_bytes =
          (gpu ? r_.projector->weights_gpu : r_.projector->weights_host) +
          r_.projector->compute_bytes;
    }
    return e;
  }

  // The draft model's own estimate: the main context's size and sequences,
  // its KV type, its -ngld layers split like the main model's; no second
  // runtime overhead (one process, one CUDA context per GPU).
  Result<MemoryEstimate> draft_probe(const RunSettings &s) const {
    RunSettings ds = s;
    ds.type_k = r_.draft->type_k;
    ds.type_v = r_.draft->type_v;
    Placement dp;
    dp.n_gpus = n_gpus();
    dp.n_gpu_layers = n_gpus() ? draft_ngl_ : 0;
    dp.tensor_split = split_;
    GpuTraits g = r_.gpu;
    g.overhead_bytes = 0;
    return estimate_memory_requirements(r_.draft->costs, ds, dp, g);
  }
  uint32_t draft_ngl() const { return n_gpus() ? draft_ngl_ : 0; }
  bool projector_on_gpu() const { return projector_gpu_ && n_gpus() > 0; }

  bool gpus_fit(const MemoryEstimate &e) const {
    for (uint32_t g = 0; g < n_gpus(); ++g) {
      if (e.devices[1 + g].total_bytes() > limits_[g]) return false;
    }
    return true;
  }
  bool host_fits(const MemoryEstimate &e) const {
    return e.devices[0].total_bytes() <= host_.available_bytes;
  }
  bool fits(const MemoryEstimate &e) const { return gpus_fit(e) && host_fits(e); }

  // Does the model fit with everything on the GPUs (or, without GPUs, in RAM)?
  bool fits_fully(const RunSettings &s, uint32_t n_cpu_moe = 0) const {
    auto e = probe(s, placement(full_ngl(), n_cpu_moe));
    return e && fits(*e);
  }

  // Largest context per sequence (a multiple of 256, up to the training
  // context) that fits fully; 0 if none. Memory grows with the context, so a
  // binary search over the 256-token steps finds it.
  uint64_t max_ctx(RunSettings s) const {
    const uint64_t ceiling = ctx_ceiling();
    uint64_t lo = 0, hi = ceiling / kCtxStep;
    if (hi == 0) hi = 1;
    while (lo < hi) {
      const uint64_t mid = (lo + hi + 1) / 2;
      s.ctx_per_seq = mid * kCtxStep;
      if (fits_fully(s)) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    if (lo == hi && lo > 0) {
      // Prefer the exact training context when it is not a multiple of 256.
      s.ctx_per_seq = ceiling;
      if (ceiling > lo * kCtxStep && fits_fully(s)) return ceiling;
    }
    return lo * kCtxStep;
  }

  // Largest -ngl whose GPU share fits (the host is checked by the caller).
  // GPU memory grows with ngl, so a binary search finds it; the answer is
  // always one that was probed and fits, so a non-monotone step (a split
  // rounding onto a smaller GPU) can only cost a layer, never overcommit.
  std::optional<uint32_t> best_ngl(const RunSettings &s, uint32_t n_cpu_moe) const {
    auto fits_with = [&](uint32_t ngl) {
      auto e = probe(s, placement(ngl, n_cpu_moe));
      return e && gpus_fit(*e);
    };
    if (!fits_with(0)) return std::nullopt;
    uint32_t lo = 0, hi = full_ngl();
    while (lo < hi) {
      const uint32_t mid = (lo + hi + 1) / 2;
      if (fits_with(mid)) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  // Smallest --n-cpu-moe that lets every layer's attention and KV sit on the
  // GPUs (MoE only); nullopt if even all experts on the CPU do not fit.
  std::optional<uint32_t> best_n_cpu_moe(const RunSettings &s) const {
    if (c_.n_expert == 0) return std::nullopt;
    uint32_t lo = 0, hi = c_.n_layer();
    auto fits_with = [&](uint32_t n) {
      auto e = probe(s, placement(full_ngl(), n));
      return e && gpus_fit(*e);
    };
    if (!fits_with(hi)) return std::nullopt;
    while (lo < hi) {
      const uint32_t mid = (lo + hi) / 2;
      if (fits_with(mid)) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  const ModelCosts &costs() const { return c_; }
  const HostMemory &host() const { return host_; }
  const PlanRequest &request() const { return r_; }
  const std::vector<GpuDevice> &gpus() const { return gpus_; }

 private:
  const ModelCosts &c_;
  const std::vector<GpuDevice> &gpus_;
  const HostMemory &host_;
  const PlanRequest &r_;
  std::vector<uint64_t> limits_;
  std::vector<double> split_;
  uint32_t draft_ngl_ = 0;
  bool projector_gpu_ = false;
};

RunSettings with_kv(RunSettings s, uint32_t type) {
  s.type_k = type;
  s.type_v = type;
  if (gguf::ggml_type_traits(type)->quantized) s.flash_attn = true;
  return s;
}

void add_suggestions(const Planner &pl, PlacementPlan &plan) {
  const RunSettings &s = plan.settings;
  auto gpu_need = [&](const RunSettings &rs, uint32_t n_cpu_moe,
                      const ModelCosts *costs) -> std::optional<uint64_t> {
    const ModelCosts &c = costs ? *costs : pl.costs();
    auto e = pl.probe_costs(c, rs, pl.placement(pl.full_ngl(), n_cpu_moe));
    if (!e || !pl.fits(*e)) return std::nullopt;
    return e->gpu_bytes();
  };
  // 1. A smaller context.
  if (uint64_t m = pl.max_ctx(s); m > 0 && m < s.ctx_per_seq) {
    RunSettings t = s;
    t.ctx_per_seq = m;
    if (auto need = gpu_need(t, 0, nullptr)) {
      plan.suggestions.push_back(
          {"reduce the context to " + std::to_string(m) + " tokens",
           "-c " + std::to_string(m * s.parallel),
           "conversations longer than " + std::to_string(m) + " tokens lose their oldest part",
           *need, false});
    }
  }
  // 2. A quantized KV cache (needs flash attention).
  for (uint32_t type :
       {static_cast<uint32_t>(gguf::GgmlType::Q8_0), static_cast<uint32_t>(gguf::GgmlType::Q4_0)}) {
    if (s.type_k == type && s.type_v == type) continue;
    if (auto need = gpu_need(with_kv(s, type), 0, nullptr)) {
      const std::string n = type_name(type);
      plan.suggestions.push_back({"use a " + n + " KV cache",
                                  "-ctk " + n + " -ctv " + n + " -fa on",
                                  type == 8 ? "KV cache at about half the size; quality loss is "
                                              "usually negligible"
                                            : "KV cache at about a quarter of the size; noticeable "
                                              "quality loss on "
                                              "long contexts",
                                  *need, false});
      break;  // the smallest sufficient change only
    }
  }
  // 3. Flash attention.
  if (!s.flash_attn) {
    RunSettings t = s;
    t.flash_attn = true;
    if (auto need = gpu_need(t, 0, nullptr)) {
      plan.suggestions.push_back({"turn flash attention on", "-fa on",
                                  "none on recent GPUs; some older GPUs run it slower", *need,
                                  false});
    }
  }
  // 4. Fewer parallel slots.
  for (uint32_t p = s.parallel; p-- > 1;) {
    RunSettings t = s;
    t.parallel = p;
    if (auto need = gpu_need(t, 0, nullptr)) {
      plan.suggestions.push_back(
          {"serve " + std::to_string(p) + " sequence(s) in parallel",
           "-np " + std::to_string(p) + " -c " + std::to_string(s.ctx_per_seq * p),
           "fewer requests served at the same time", *need, false});
      break;
    }
  }
  // 5. MoE experts on the CPU.
  if (auto n = pl.best_n_cpu_moe(s); n && *n > 0) {
    if (auto need = gpu_need(s, *n, nullptr)) {
      plan.suggestions.push_back(
          {"keep the experts of the first " + std::to_string(*n) + " layers on the CPU",
           "--n-cpu-moe " + std::to_string(*n), "slower generation: those experts run on the CPU",
           *need, false});
    }
  }
  // 6. A smaller quantization of the same model: weights scaled by bits per
  // weight (Q4_K_M averages about 4.85 bpw, Q3_K_M about 3.9 in llama.cpp's
  // quantize table); approximate because the mix of tensor types varies.
  for (auto [name, bpw] : {std::pair<const char *, double>{"Q4_K_M", 4.85}, {"Q3_K_M", 3.9}}) {
    const double current_bpw = pl.costs().bits_per_weight;
    if (current_bpw <= bpw + 0.3) continue;
    ModelCosts scaled = pl.costs();
    const double ratio = bpw / current_bpw;
    for (auto &L : scaled.layers) {
      L.weights_gpu = static_cast<uint64_t>(static_cast<double>(L.weights_gpu) * ratio);
      L.weights_host = static_cast<uint64_t>(static_cast<double>(L.weights_host) * ratio);
      L.experts_gpu = static_cast<uint64_t>(static_cast<double>(L.experts_gpu) * ratio);
      L.experts_host = static_cast<uint64_t>(static_cast<double>(L.experts_host) * ratio);
    }
    scaled.output_gpu = static_cast<uint64_t>(static_cast<double>(scaled.output_gpu) * ratio);
    scaled.token_embd_gpu =
        static_cast<uint64_t>(static_cast<double>(scaled.token_embd_gpu) * ratio);
    if (auto need = gpu_need(s, 0, &scaled)) {
      plan.suggestions.push_back({std::string("use a ") + name + " quantization of this model",
                                  "(download the " + std::string(name) + " GGUF)",
                                  "lower output quality; another download", *need, true});
      break;
    }
  }
}

void fill_launch(const Planner &pl, PlacementPlan &plan) {
  const RunSettings &s = plan.settings;
  auto &a = plan.launch.llama_cpp_args;
  const bool gpu = !pl.gpus().empty();
  a.push_back("-ngl");
  a.push_back(std::to_string(plan.placement.n_gpu_layers));
  a.push_back("-c");
  a.push_back(std::to_string(s.ctx_per_seq * s.parallel));
  a.push_back("-np");
  a.push_back(std::to_string(s.parallel));
  if (gpu && pl.gpus().size() > 1 && plan.placement.n_gpu_layers > 0) {
    std::vector<std::string> ts;
    for (uint32_t n : plan.layers_per_gpu) ts.push_back(std::to_string(n));
    a.push_back("-ts");
    a.push_back(join(ts, ","));
  }
  if (s.type_k != kF16 || s.type_v != kF16) {
    a.insert(a.end(), {"-ctk", type_name(s.type_k), "-ctv", type_name(s.type_v)});
  }
  a.push_back("-fa");
  a.push_back(s.flash_attn ? "on" : "off");
  if (s.n_ubatch != 512) a.insert(a.end(), {"-ub", std::to_string(s.n_ubatch)});
  if (s.kv_unified) a.push_back("--kv-unified");
  if (!pl.request().rope_scaling.empty()) {
    a.insert(a.end(), {"--rope-scaling", pl.request().rope_scaling, "--rope-scale",
                       fmt::format("{:g}", pl.request().rope_scale)});
    if (pl.costs().n_ctx_train) {
      a.insert(a.end(), {"--yarn-orig-ctx", std::to_string(pl.costs().n_ctx_train)});
    }
  }
  if (plan.placement.n_cpu_moe > 0) {
    a.push_back("--n-cpu-moe");
    a.push_back(std::to_string(plan.placement.n_cpu_moe));
  }
  // Companions (llama-server's own option names).
  if (const auto &d = pl.request().draft) {
    a.insert(a.end(), {"-md", d->path, "-ngld", std::to_string(plan.draft_n_gpu_layers)});
    if (d->type_k != kF16 || d->type_v != kF16) {
      a.insert(a.end(), {"-ctkd", type_name(d->type_k), "-ctvd", type_name(d->type_v)});
    }
  }
  for (const auto &ad : pl.request().adapters) a.insert(a.end(), {"--lora", ad.path});
  if (const auto &pj = pl.request().projector) {
    a.insert(a.end(), {"--mmproj", pj->path});
    if (gpu && !plan.projector_on_gpu) a.push_back("--no-mmproj-offload");
  }
  auto &o = plan.launch.ollama_options;
  o["num_gpu"] = std::to_string(plan.placement.n_gpu_layers);
  o["num_ctx"] = std::to_string(s.ctx_per_seq);  // Ollama multiplies by num_parallel itself
  auto &env = plan.launch.env;
  env["OLLAMA_FLASH_ATTENTION"] = s.flash_attn ? "1" : "0";
  // Ollama has one knob for both caches.
  if (s.type_k == s.type_v) env["OLLAMA_KV_CACHE_TYPE"] = type_name(s.type_k);
  env["OLLAMA_NUM_PARALLEL"] = std::to_string(s.parallel);
  if (pl.host().numa_nodes > 1) {
    int node = -1;
    for (const auto &g : pl.gpus()) {
      if (g.numa_node >= 0) {
        node = g.numa_node;
        break;
      }
    }
    if (node >= 0 && plan.estimate.devices[0].layers > 0) {
      plan.launch.numa_advice.push_back(
          "CPU layers run next to the GPU they feed: start with numactl "
          "--cpunodebind=" +
          std::to_string(node) + " --membind=" + std::to_string(node) + " and pass --numa numactl");
    } else {
      plan.launch.numa_advice.push_back(
          "several NUMA nodes: pass --numa distribute to spread CPU work and "
          "memory");
    }
  }
}

void fill_layers(const Planner &pl, PlacementPlan &plan) {
  const ModelCosts &c = pl.costs();
  int numa = 0;
  if (pl.host().numa_nodes > 1) {
    for (const auto &g : pl.gpus()) {
      if (g.numa_node >= 0) {
        numa = g.numa_node;
        break;
      }
    }
  }
  plan.layers_per_gpu.assign(pl.gpus().size(), 0);
  for (uint32_t il = 0; il < c.n_layer(); ++il) {
    const int d = plan.estimate.layer_device[il];
    if (d == 0) {
      plan.layers.emplace_back(LayerOnCpu{numa});
      continue;
    }
    const int id = pl.gpus()[d - 1].id;
    plan.layers_per_gpu[d - 1] += 1;
    const auto &L = c.layers[il];
    if (il < plan.placement.n_cpu_moe && L.experts_gpu > 0 && L.weights_gpu > 0) {
      const double pct = 100.0 * static_cast<double>(L.weights_gpu - L.experts_gpu) /
                         static_cast<double>(L.weights_gpu);
      plan.layers.emplace_back(LayerSplit{id, pct});
    } else {
      plan.layers.emplace_back(LayerOnGpu{id});
    }
  }
  // The output layer counts towards -ts like any other layer.
  if (plan.estimate.output_device > 0) plan.layers_per_gpu[plan.estimate.output_device - 1] += 1;
}

std::string overflow_text(const Planner &pl, const MemoryEstimate &e) {
  std::vector<std::string> parts;
  for (uint32_t g = 0; g < pl.n_gpus(); ++g) {
    const uint64_t need = e.devices[1 + g].total_bytes();
    if (need > pl.limits()[g]) {
      parts.push_back("GPU " + std::to_string(pl.gpus()[g].id) + " needs " + format_bytes(need) +
                      " of " + format_bytes(pl.limits()[g]) + " usable");
    }
  }
  const uint64_t host = e.devices[0].total_bytes();
  if (host > pl.host().available_bytes) {
    parts.push_back("RAM needs " + format_bytes(host) + " of " +
                    format_bytes(pl.host().available_bytes) + " available");
  }
  return join(parts, "; ");
}

}  // namespace

std::optional<uint32_t> kv_type_from_name(const std::string &name) {
  auto t = gguf::ggml_type_from_name(name);
  if (!t) return std::nullopt;
  switch (*t) {
    case gguf::GgmlType::F32:
    case gguf::GgmlType::F16:
    case gguf::GgmlType::BF16:
    case gguf::GgmlType::Q8_0:
    case gguf::GgmlType::Q4_0:
    case gguf::GgmlType::Q4_1:
    case gguf::GgmlType::IQ4_NL:
    case gguf::GgmlType::Q5_0:
    case gguf::GgmlType::Q5_1:
      return static_cast<uint32_t>(*t);
    default:
      return std::nullopt;
  }
}

namespace {

Result<PlacementPlan> plan_once(const ModelCosts &costs, const std::vector<GpuDevice> &gpus,
                                const HostMemory &host, const PlanRequest &request,
                                uint32_t draft_ngl, bool projector_gpu) {
  Planner pl(costs, gpus, host, request, draft_ngl, projector_gpu);
  PlacementPlan plan;
  plan.gpu_limit_bytes = pl.limits();
  plan.host_limit_bytes = host.available_bytes;
  plan.cpu_only = gpus.empty();
  RunSettings s = request.settings;
  if (s.parallel == 0) return make_error("--parallel must be at least 1");
  if (request.pinned_ngl && *request.pinned_ngl > pl.full_ngl()) {
    return make_error("-ngl " + std::to_string(*request.pinned_ngl) + " is more than the model's " +
                      std::to_string(pl.full_ngl()) + " layers (" +
                      std::to_string(costs.n_layer()) + " + output)");
  }
  if (!request.pinned_tensor_split.empty() && request.pinned_tensor_split.size() != gpus.size()) {
    return make_error("the tensor split has " + std::to_string(request.pinned_tensor_split.size()) +
                      " entries but " + std::to_string(gpus.size()) + " GPU(s) are planned");
  }
  // Validate the settings once (quantized V without flash attention...).
  if (auto e = pl.probe(s, pl.placement(0, 0)); !e) return e.error();

  // Largest context for every KV cache type, fully on the GPUs (or in RAM).
  for (uint32_t t : {kF16, static_cast<uint32_t>(gguf::GgmlType::Q8_0),
                     static_cast<uint32_t>(gguf::GgmlType::Q4_0)}) {
    RunSettings ts = with_kv(s, t);
    auto probe_ok = pl.probe(ts, pl.placement(0, 0));
    plan.max_context.push_back({type_name(t), probe_ok ? pl.max_ctx(ts) : 0});
  }

  if (request.ctx_max) {
    uint64_t m = pl.max_ctx(s);
    if (m == 0) {
      // Not even 256 tokens fit fully: plan a partial offload at a modest
      // context instead (llama.cpp's --fit-ctx minimum is 4096).
      m = std::min<uint64_t>(costs.n_ctx_train ? costs.n_ctx_train : 4096, 4096);
      plan.warnings.push_back("no context fits with the whole model on " +
                              std::string(gpus.empty() ? "the CPU" : "the GPUs") + "; planned " +
                              std::to_string(m) + " tokens instead");
    }
    s.ctx_per_seq = m;
  }
  plan.settings = s;

  uint32_t ngl = 0, n_cpu_moe = request.pinned_n_cpu_moe.value_or(0);
  if (gpus.empty()) {
    ngl = 0;
  } else if (request.pinned_ngl) {
    ngl = *request.pinned_ngl;
  } else if (pl.fits_fully(s, n_cpu_moe)) {
    ngl = pl.full_ngl();
  } else {
    std::optional<uint32_t> moe;
    if (!request.pinned_n_cpu_moe) moe = pl.best_n_cpu_moe(s);
    if (moe) {
      ngl = pl.full_ngl();
      n_cpu_moe = *moe;
    } else {
      ngl = pl.best_ngl(s, n_cpu_moe).value_or(0);
    }
  }
  plan.placement = pl.placement(ngl, n_cpu_moe);
  auto est = pl.probe(s, plan.placement);
  if (!est) return est.error();
  plan.estimate = std::move(*est);
  plan.fits = pl.fits(plan.estimate);
  plan.fully_on_gpu = !gpus.empty() && ngl == pl.full_ngl() && n_cpu_moe == 0;
  plan.draft_n_gpu_layers = pl.draft_ngl();
  plan.projector_on_gpu = pl.projector_on_gpu();
  if (request.draft) {
    auto d = pl.draft_probe(s);
    if (!d) return d.error();
    plan.draft_estimate = std::move(*d);
    const uint32_t draft_train = request.draft->costs.n_ctx_train;
    if (draft_train && s.ctx_per_seq > draft_train) {
      plan.warnings.push_back("context " + std::to_string(s.ctx_per_seq) +
                              " is beyond the draft model's training context " +
                              std::to_string(draft_train));
    }
  }
  fill_layers(pl, plan);

  if (!plan.fits) {
    plan.verdict = "does not fit: " + overflow_text(pl, plan.estimate) +
                   ". No settings are given because this would not load.";
  } else if (gpus.empty()) {
    plan.verdict = "CPU-only plan: no GPU was found or given; the model runs from RAM.";
  } else if (plan.fully_on_gpu) {
    plan.verdict = "fits fully on the GPU" + std::string(gpus.size() > 1 ? "s" : "") + ".";
  } else if (n_cpu_moe > 0 && ngl == pl.full_ngl()) {
    plan.verdict = "fits with the experts of " + std::to_string(n_cpu_moe) +
                   " layer(s) on the CPU; attention and KV cache on the GPU.";
  } else if (ngl == 0) {
    plan.verdict = "no layer fits on the GPU" + std::string(gpus.size() > 1 ? "s" : "") +
                   " (each needs its runtime overhead plus a layer); the model "
                   "runs from RAM.";
  } else {
    plan.verdict = "fits partly: " + std::to_string(ngl) + " of " + std::to_string(pl.full_ngl()) +
                   " layers (incl. output) on the GPU, the rest on the CPU.";
  }
  if (!plan.fully_on_gpu && !gpus.empty()) add_suggestions(pl, plan);
  if (gpus.empty() && !plan.fits) add_suggestions(pl, plan);
  if (plan.fits) fill_launch(pl, plan);
  if (costs.n_ctx_train && s.ctx_per_seq > costs.n_ctx_train) {
    plan.warnings.push_back(
        "context " + std::to_string(s.ctx_per_seq) + " is beyond the model's training context " +
        std::to_string(costs.n_ctx_train) +
        (request.rope_scaling.empty()
             ? "; quality may drop"
             : " (RoPE " + request.rope_scaling + " x" + fmt::format("{:g}", request.rope_scale) +
                   "); quality depends on how the model was trained for it"));
  }
  return plan;
}

}  // namespace

Result<PlacementPlan> plan_placement(const ModelCosts &costs, const std::vector<GpuDevice> &gpus,
                                     const HostMemory &host, const PlanRequest &request) {
  const uint32_t draft_full = request.draft ? request.draft->costs.n_layer() + 1 : 0;
  if (request.draft && request.draft->pinned_ngl && *request.draft->pinned_ngl > draft_full) {
    return make_error("-ngld " + std::to_string(*request.draft->pinned_ngl) +
                      " is more than the draft model's " + std::to_string(draft_full) +
                      " layers (" + std::to_string(draft_full - 1) + " + output)");
  }
  const uint32_t draft_ngl = request.draft ? request.draft->pinned_ngl.value_or(draft_full) : 0;
  auto first = plan_once(costs, gpus, host, request, draft_ngl, true);
  if (!first || gpus.empty() || (!request.draft && !request.projector) || first->fully_on_gpu) {
    return first;
  }
  // The companions on the GPUs crowd the model out: try them on the host
  // (an unpinned draft first, then the projector too) and keep the plan that
  // puts the most of the main model on the GPUs; ties keep the companions on
  // the GPUs, where they run fastest.
  const bool draft_movable = request.draft && !request.draft->pinned_ngl && draft_ngl > 0;
  std::vector<std::pair<uint32_t, bool>> others;
  if (draft_movable) others.push_back({0, true});
  if (request.projector) others.push_back({draft_movable ? 0 : draft_ngl, false});
  PlacementPlan best = std::move(*first);
  auto score = [](const PlacementPlan &p) {
    return std::pair<bool, int64_t>{
        p.fits, int64_t{p.placement.n_gpu_layers} * 100000 - int64_t{p.placement.n_cpu_moe}};
  };
  for (auto [dngl, pgpu] : others) {
    auto p = plan_once(costs, gpus, host, request, dngl, pgpu);
    if (p && score(*p) > score(best)) best = std::move(*p);
  }
  return best;
}

}  // namespace memopt::estimate

#include "detect/system_sources.h"

#include <set>

#include "estimate/memory_estimate.h"
#include "gguf/model_info.h"
#include "gpu/collect.h"
#include "runtimes/http.h"
#include "runtimes/runtime.h"

namespace memopt::detect {
namespace {

GpuReading read_gpus(const SystemRoots& r) {
  gpu::GpuSnapshot snap = gpu::collect_gpus({r.proc_root, r.sys_root, r.nvml_library});
  GpuReading out;
  std::set<std::string> backends;
  for (const auto& d : snap.gpus) {
    backends.insert(d.backend);
    out.devices.push_back({d.index, d.name, gpu::vendor_name(d.vendor), d.memory_total_bytes.value_or(0),
                           d.memory_used_bytes.value_or(0)});
    for (auto [pid, bytes] : gpu::process_memory(d)) {
      out.processes.push_back({static_cast<int>(pid), d.index, bytes});
    }
  }
  for (const auto& b : backends) out.backend += (out.backend.empty() ? "" : "+") + b;
  if (out.backend.empty()) out.backend = "none";
  if (snap.gpus.empty()) {
    for (const auto& n : snap.notes) out.error += (out.error.empty() ? "" : "; ") + n.message;
    if (out.error.empty()) out.error = "no GPU found";
  }
  return out;
}

// Default context when the command line names none: 4096 tokens is
// llama.cpp's common default (-c) and Ollama's default num_ctx since v0.6.
constexpr uint64_t kDefaultContext = 4096;

std::optional<WorkloadEstimate> estimate(const gguf::ModelInfo& info, uint64_t ctx, bool on_gpu) {
  estimate::RunSettings rs;
  rs.ctx_per_seq = ctx ? ctx : kDefaultContext;
  estimate::Placement pl;
  if (on_gpu) {
    pl.n_gpus = 1;
    pl.n_gpu_layers = info.block_count + 1;  // every layer and the output
  }
  auto e = estimate::estimate_memory_requirements(info, rs, pl);
  if (!e) return std::nullopt;
  WorkloadEstimate w;
  w.context_tokens = rs.ctx_per_seq;
  for (const auto& d : e->devices) w.weights_bytes += d.weights_bytes;
  w.kv_cache_bytes = e->kv_total_bytes();
  w.total_bytes = e->total_bytes();
  return w;
}

std::optional<runtimes::RuntimeKind> client_kind(const Workload& w) {
  if (w.runtime == "stable-diffusion" && (w.flavor == "AUTOMATIC1111" || w.flavor == "Forge")) {
    return runtimes::RuntimeKind::kA1111;
  }
  return runtimes::runtime_from_name(w.runtime);
}

std::vector<LoadedModel> loaded_models(const Workload& w) {
  std::vector<LoadedModel> out;
  auto kind = client_kind(w);
  if (!kind) return out;
  auto base = runtimes::parse_base_url(w.endpoint, 0);
  if (!base) return out;
  runtimes::HttpOptions http;
  // A status view must stay fast: a runtime that does not answer in a few
  // hundred milliseconds is reported without its model list.
  http.connect_timeout = std::chrono::milliseconds(200);
  http.read_timeout = std::chrono::milliseconds(400);
  http.total_timeout = std::chrono::milliseconds(600);
  auto client = runtimes::make_client(*kind, *base, http);
  auto models = client->loaded_models();
  if (!models) return out;
  for (const auto& m : *models) {
    LoadedModel lm;
    lm.runtime = w.runtime;
    lm.name = m.name;
    lm.endpoint = m.endpoint.empty() ? w.endpoint : m.endpoint;
    lm.size_bytes = m.size_bytes.value_or(0);
    lm.vram_bytes = m.vram_bytes.value_or(0);
    lm.context_length = m.context_tokens.value_or(0);
    if (m.kv.usage_ratio.known()) lm.kv_cache_usage = *m.kv.usage_ratio.value;
    if (m.kv.capacity_bytes.known()) {
      lm.kv_cache_bytes = *m.kv.capacity_bytes.value;
      lm.kv_estimated = m.kv.capacity_bytes.source == runtimes::Provenance::kEstimated;
    }
    out.push_back(std::move(lm));
  }
  return out;
}

}  // namespace

DetectorOptions system_detector_options(const SystemRoots& roots) {
  DetectorOptions o;
  o.proc_root = roots.proc_root;
  o.probe_ports = roots.probe_ports;
  o.read_gpus = [roots] { return read_gpus(roots); };
  o.read_model = [](const std::string& path) { return gguf::get_model_info(path); };
  o.estimate_model = estimate;
  if (roots.query_runtimes) o.read_loaded_models = loaded_models;
  return o;
}

std::vector<runtimes::Endpoint> detected_runtime_endpoints(const std::string& proc_root,
                                                           bool probe_ports) {
  DetectorOptions o;
  o.proc_root = proc_root;
  o.full_scan = false;
  o.probe_ports = probe_ports;
  std::vector<runtimes::Endpoint> out;
  auto workloads = AIWorkloadDetector(std::move(o)).detect_active_runtimes();
  // No scan (an unreadable --proc-root) means no detected endpoints: the
  // defaults and explicit endpoints still work, so this is not an error here.
  if (!workloads) return out;
  for (const Workload& w : *workloads) {
    if (!w.is_ai() || w.endpoint.empty()) continue;
    auto kind = client_kind(w);
    if (!kind) continue;
    auto url = runtimes::parse_base_url(w.endpoint, 0);
    if (!url) continue;
    out.push_back(runtimes::Endpoint{kind, *url, false});
  }
  return out;
}

}  // namespace memopt::detect

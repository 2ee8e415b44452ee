#include "plan/model_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <variant>

#include "gguf/ggml_type.h"
#include "gguf/ollama_store.h"
#include "util/bytes.h"

namespace memopt::plan {
namespace {

using estimate::GpuDevice;
using estimate::PlacementPlan;

Result<ModelFiles> resolve_files(const PlanOptions &o) {
  ModelFiles f;
  auto r = gguf::resolve_model_ref(o.model, o.ollama_roots);
  if (!r) return r.error();
  f.model = r->path;
  f.mmproj = o.mmproj;
  f.loras = o.loras;
  if (r->ollama) {
    f.from_ollama = true;
    if (f.mmproj.empty()) f.mmproj = r->ollama->projector_path;
    if (f.loras.empty()) f.loras = r->ollama->adapter_paths;
  }
  if (!o.draft.empty()) {
    auto d = gguf::resolve_model_ref(o.draft, o.ollama_roots);
    if (!d) return make_error("--draft: " + d.error().message);
    f.draft = d->path;
  }
  return f;
}

// Reads the companions' headers and sizes them into the request; LoRA
// weights join the layers they attach to.
Status add_companions(const ModelFiles &f, const gguf::ModelInfo &model,
                      estimate::ModelCosts &costs, estimate::PlanRequest &req) {
  for (const auto &path : f.loras) {
    auto file = gguf::read_gguf(path);
    if (!file) return make_error("--lora: " + file.error().message);
    auto a = estimate::adapter_weights(*file, model, req.gpu);
    if (!a) return make_error("--lora: " + a.error().message);
    estimate::attach_adapter(costs, *a);
    req.adapters.push_back(std::move(*a));
  }
  if (!f.mmproj.empty()) {
    auto file = gguf::read_gguf(f.mmproj);
    if (!file) return make_error("--mmproj: " + file.error().message);
    auto p = estimate::projector_costs(*file, req.gpu);
    if (!p) return make_error("--mmproj: " + p.error().message);
    req.projector = std::move(*p);
  }
  if (!f.draft.empty()) {
    auto info = gguf::get_model_info(f.draft);
    if (!info) return make_error("--draft: " + info.error().message);
    if (info->is_projector)
      return make_error("--draft: " + f.draft + " is a projector, not a model");
    auto dc = estimate::prepare_model_costs(*info, req.gpu);
    if (!dc) return make_error("--draft: " + dc.error().message);
    req.draft = estimate::DraftModel{f.draft, std::move(*dc), 1, 1, std::nullopt};
  }
  return Ok{};
}

std::vector<std::string> split_list(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Result<uint64_t> parse_count(const std::string &s) {
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) {
    return make_error("'" + s + "' is not a whole number");
  }
  return std::stoull(s);
}

std::string join(const std::vector<std::string> &v, const std::string &sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// GPUs from the machine or from --vram; host RAM from the machine or --ram.
Result<Devices> resolve_devices(const PlanOptions &o, const Machine &m) {
  Devices d;
  if (!o.vram.empty()) {
    d.what_if = true;
    auto sizes = parse_size_list(o.vram);
    if (!sizes) return make_error("--vram: " + sizes.error().message);
    int id = 0;
    for (uint64_t b : *sizes) {
      d.gpus.push_back({id, fmt::format("what-if GPU {}", id), b, 0, -1});
      ++id;
    }
  } else if (o.gpus != "none") {
    auto parsed = parse_gpu_list(o.gpus);
    if (!parsed) return make_error("--gpus: " + parsed.error().message);
    const std::vector<int> &wanted = *parsed;
    for (const auto &dev : m.gpus) {
      const int idx = static_cast<int>(dev.index);
      if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), idx) == wanted.end()) continue;
      if (dev.integrated) {
        d.notes.push_back(fmt::format("GPU {} ({}) is integrated: its memory is host RAM, left out",
                                      idx, dev.name));
        continue;
      }
      if (!dev.memory_free_bytes) {
        d.notes.push_back(
            fmt::format("GPU {} ({}) does not report free memory, left out", idx, dev.name));
        continue;
      }
      d.gpus.push_back({idx, dev.name, *dev.memory_free_bytes, dev.memory_total_bytes.value_or(0),
                        dev.numa_node.value_or(-1)});
    }
    for (int w : wanted) {
      bool found = false;
      for (const auto &x : d.gpus) found |= x.id == w;
      if (!found) return make_error(fmt::format("--gpus: no usable GPU {} on this machine", w));
    }
  }
  const auto &host = m.host;
  if (!o.ram.empty()) {
    auto b = parse_bytes(o.ram);
    if (!b) return make_error("--ram: " + b.error().message);
    d.host.available_bytes = *b;
  } else if (host) {
    d.host.available_bytes = host->meminfo.available_bytes;
  } else {
    return make_error(m.host_error + "; give the RAM to plan for with --ram 64GiB");
  }
  if (host && host->numa_nodes.size() > 1) {
    d.host.numa_nodes = static_cast<uint32_t>(host->numa_nodes.size());
  }
  return d;
}

nlohmann::json device_json(const estimate::DeviceMemory &dm, const std::vector<GpuDevice> &gpus,
                           const PlacementPlan &plan) {
  nlohmann::json j = {{"kind", dm.is_gpu ? "gpu" : "cpu"},
                      {"layers", dm.layers},
                      {"holds_output", dm.holds_output},
                      {"weights_bytes", dm.weights_bytes},
                      {"kv_bytes", dm.kv_bytes},
                      {"recurrent_bytes", dm.recurrent_bytes},
                      {"compute_bytes", dm.compute_bytes},
                      {"output_bytes", dm.output_bytes},
                      {"overhead_bytes", dm.overhead_bytes},
                      {"draft_bytes", dm.draft_bytes},
                      {"projector_bytes", dm.projector_bytes},
                      {"total_bytes", dm.total_bytes()}};
  if (dm.is_gpu) {
    const auto &g = gpus[dm.gpu_index];
    j["id"] = g.id;
    j["name"] = g.name;
    j["free_bytes"] = g.free_bytes;
    j["limit_bytes"] = plan.gpu_limit_bytes[dm.gpu_index];
  } else {
    j["limit_bytes"] = plan.host_limit_bytes;
  }
  return j;
}

// The companions as planned: files, where they went and their bytes.
nlohmann::json companions_json(const estimate::PlanRequest &req, const PlacementPlan &p) {
  nlohmann::json j = nlohmann::json::object();
  if (req.draft && p.draft_estimate) {
    const auto &e = *p.draft_estimate;
    const auto [w, kv, comp] = draft_bytes(e);
    j["draft"] = {{"path", req.draft->path},
                  {"n_gpu_layers", p.draft_n_gpu_layers},
                  {"block_count", req.draft->costs.n_layer()},
                  {"type_k", std::string(gguf::ggml_type_traits(req.draft->type_k)->name)},
                  {"type_v", std::string(gguf::ggml_type_traits(req.draft->type_v)->name)},
                  {"n_ctx", e.n_ctx},
                  {"weights_bytes", w},
                  {"kv_bytes", kv},
                  {"compute_bytes", comp},
                  {"gpu_bytes", e.gpu_bytes()},
                  {"total_bytes", e.total_bytes()}};
  }
  nlohmann::json adapters = nlohmann::json::array();
  for (const auto &a : req.adapters) {
    adapters.push_back({{"path", a.path},
                        {"alpha", a.alpha},
                        {"tensors", a.tensor_count},
                        {"bytes", a.bytes},
                        {"host_bytes", a.host_bytes()}});
  }
  j["adapters"] = adapters;
  if (req.projector) {
    const auto &pj = *req.projector;
    j["projector"] = {{"path", pj.path},
                      {"projector_type", pj.projector_type},
                      {"on_gpu", p.projector_on_gpu},
                      {"weights_bytes", p.projector_on_gpu ? pj.weights_gpu : pj.weights_host},
                      {"compute_bytes", pj.compute_bytes},
                      {"compute_checked", pj.compute_checked},
                      {"compute_label", estimate::kProjectorComputeLabel},
                      {"input", pj.audio ? "audio: 30 s"
                                         : fmt::format("image {}x{}, patch {}", pj.image_size,
                                                       pj.image_size, pj.patch_size)},
                      {"positions", pj.positions}};
  }
  return j;
}

nlohmann::json plan_document(const gguf::ModelInfo &m, const Devices &d, const PlacementPlan &p,
                             const estimate::PlanRequest &req) {
  nlohmann::json devices = nlohmann::json::array();
  for (const auto &dm : p.estimate.devices) devices.push_back(device_json(dm, d.gpus, p));
  nlohmann::json layers = nlohmann::json::array();
  for (size_t il = 0; il < p.layers.size(); ++il) {
    std::visit(
        [&](const auto &v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, estimate::LayerOnGpu>) {
            layers.push_back({{"layer", il}, {"placement", "gpu"}, {"device", v.device_id}});
          } else if constexpr (std::is_same_v<V, estimate::LayerOnCpu>) {
            layers.push_back({{"layer", il}, {"placement", "cpu"}, {"numa_node", v.numa_node}});
          } else {
            layers.push_back({{"layer", il},
                              {"placement", "split"},
                              {"device", v.device_id},
                              {"gpu_percent", v.gpu_percent}});
          }
        },
        p.layers[il]);
  }
  nlohmann::json max_ctx = nlohmann::json::object();
  for (const auto &mc : p.max_context) max_ctx[mc.kv_type] = mc.max_ctx_per_seq;
  nlohmann::json sugg = nlohmann::json::array();
  for (const auto &s : p.suggestions) {
    sugg.push_back({{"change", s.change},
                    {"flags", s.flags},
                    {"cost", s.cost},
                    {"gpu_bytes", s.gpu_bytes},
                    {"approximate", s.approximate}});
  }
  const auto &st = p.settings;
  return {{"schema", "ruvector-memopt.ai-plan/1"},
          {"model",
           {{"path", m.path},
            {"name", m.name},
            {"architecture", m.architecture},
            {"file_type", m.file_type_name},
            {"block_count", m.block_count},
            {"context_length", m.context_length},
            {"weight_bytes", m.weight_bytes},
            {"expert_count", m.expert_count}}},
          // Architectures outside the accuracy grid (docs/estimate-accuracy.md)
          // are estimated by the same rules but said to be unchecked.
          {"estimate_checked", estimate::architecture_checked(m.architecture)},
          {"estimate_label", estimate::architecture_checked(m.architecture)
                                 ? "checked against llama.cpp"
                                 : "unchecked for " + m.architecture},
          {"fits", p.fits},
          {"fully_on_gpu", p.fully_on_gpu},
          {"refused_spill", p.verdict.rfind("refused (--no-spill)", 0) == 0},
          {"cpu_only", p.cpu_only},
          {"what_if", d.what_if},
          {"verdict", p.verdict},
          {"settings",
           {{"ctx_per_seq", st.ctx_per_seq},
            {"parallel", st.parallel},
            {"n_batch", st.n_batch},
            {"n_ubatch", st.n_ubatch},
            {"type_k", std::string(gguf::ggml_type_traits(st.type_k)->name)},
            {"type_v", std::string(gguf::ggml_type_traits(st.type_v)->name)},
            {"flash_attn", st.flash_attn}}},
          {"n_gpu_layers", p.placement.n_gpu_layers},
          {"n_cpu_moe", p.placement.n_cpu_moe},
          {"layers_per_gpu", p.layers_per_gpu},
          {"kv_cache",
           {{"n_ctx", p.estimate.n_ctx},
            {"cells_per_stream", p.estimate.n_ctx_seq},
            {"streams", p.estimate.n_stream},
            {"cells_full", p.estimate.kv_cells_full},
            {"cells_swa", p.estimate.kv_cells_swa},
            {"n_ubatch_effective", p.estimate.n_ubatch}}},
          {"devices", devices},
          {"total_bytes", p.estimate.total_bytes()},
          {"layers", layers},
          {"max_context_fully_on_gpu", max_ctx},
          {"suggestions", sugg},
          {"launch",
           {{"llama_cpp_args", p.launch.llama_cpp_args},
            {"ollama_options", p.launch.ollama_options},
            {"env", p.launch.env},
            {"numa_advice", p.launch.numa_advice}}},
          {"companions", companions_json(req, p)},
          {"warnings", p.warnings},
          {"notes", d.notes}};
}

// --no-spill: a plan that keeps layers or experts in RAM is refused; say which
// context per KV type fits fully on the GPUs instead ("never offload, only
// shrink the context").
void refuse_spill(const gguf::ModelInfo &m, estimate::PlacementPlan &p) {
  const uint32_t on_cpu = m.block_count + 1 - std::min(p.placement.n_gpu_layers, m.block_count + 1);
  std::string what = on_cpu > 0 ? fmt::format("{} of {} layers", on_cpu, m.block_count + 1) : "";
  if (p.placement.n_cpu_moe > 0) {
    what += fmt::format("{}the experts of {} layers", what.empty() ? "" : " and ",
                        p.placement.n_cpu_moe);
  }
  std::vector<std::string> fits;
  for (const auto &c : p.max_context) {
    if (c.max_ctx_per_seq > 0)
      fits.push_back(fmt::format("{} up to {}", c.kv_type, c.max_ctx_per_seq));
  }
  p.verdict =
      fmt::format("refused (--no-spill): this plan keeps {} in RAM. ",
                  what.empty() ? "weights" : what) +
      (fits.empty()
           ? std::string("No context fits fully on the GPUs with any KV cache type; "
                         "a smaller quantization or more GPU memory is needed.")
           : "Fully on the GPUs, per sequence: " + join(fits, ", ") + " (--ctx N --kv-type T).");
  p.fits = false;
  p.launch = {};
}

}  // namespace

DraftBytes draft_bytes(const estimate::MemoryEstimate &e) {
  DraftBytes b;
  for (const auto &dm : e.devices) {
    b.weights += dm.weights_bytes;
    b.kv += dm.kv_bytes + dm.recurrent_bytes;
    b.compute += dm.compute_bytes + dm.output_bytes;
  }
  return b;
}

// The option values, parsed: each parser is also the option's CLI11 check,
// so a bad value is a usage error before the model is read.
Result<uint64_t> parse_ctx(const std::string &s) {
  if (s == "max") return uint64_t{0};
  auto n = parse_count(s);
  if (!n) return make_error(n.error().message + " of tokens, or 'max'");
  return n;
}

Result<uint32_t> parse_kv_type(const std::string &s) {
  auto kv = estimate::kv_type_from_name(s);
  if (!kv) {
    return make_error("'" + s +
                      "' is not a KV cache type llama.cpp accepts (f16, bf16, "
                      "q8_0, q4_0, q4_1, "
                      "iq4_nl, q5_0, q5_1)");
  }
  return *kv;
}

Result<std::vector<uint64_t>> parse_size_list(const std::string &s) {
  std::vector<uint64_t> out;
  for (const auto &item : split_list(s)) {
    auto b = parse_bytes(item);
    if (!b) return b.error();
    out.push_back(*b);
  }
  if (out.empty()) return make_error("'" + s + "' holds no size; give e.g. 24GiB,12GiB");
  return out;
}

// Proportions: finite, not negative, not all zero (llama.cpp --tensor-split).
Result<std::vector<double>> parse_tensor_split(const std::string &s) {
  std::vector<double> out;
  double sum = 0;
  for (const auto &item : split_list(s)) {
    double v = -1;
    size_t used = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !std::isfinite(v) || v < 0) {
      return make_error("'" + item + "' in '" + s + "' is not a proportion; give e.g. 3,1");
    }
    out.push_back(v);
    sum += v;
  }
  if (!s.empty() && !(sum > 0)) {
    return make_error("'" + s + "' gives no GPU a share; give e.g. 3,1");
  }
  return out;
}

// "auto", "none" or GPU indices "0,1"; empty: every GPU.
Result<std::vector<int>> parse_gpu_list(const std::string &s) {
  std::vector<int> out;
  if (s == "auto" || s == "none") return out;
  for (const auto &item : split_list(s)) {
    auto n = parse_count(item);
    if (!n || *n > 1024) return make_error("'" + item + "' is not a GPU index (or use auto, none)");
    out.push_back(static_cast<int>(*n));
  }
  if (out.empty()) return make_error("'" + s + "' names no GPU (use auto, none or 0,1)");
  return out;
}

Status check_options(const PlanOptions &o) {
  if (o.model.empty()) return make_error("model: give a GGUF path or an Ollama model name");
  if (!o.ctx.empty()) {
    if (auto n = parse_ctx(o.ctx); !n) return make_error("--ctx: " + n.error().message);
  }
  if (o.parallel < 1 || o.parallel > 256)
    return make_error(fmt::format("--parallel: {} is not in 1..256", o.parallel));
  if (auto kv = parse_kv_type(o.kv_type); !kv)
    return make_error("--kv-type: " + kv.error().message);
  if (o.flash_attn != "on" && o.flash_attn != "off")
    return make_error("--flash-attn: '" + o.flash_attn + "' is not on or off");
  if (auto g = parse_gpu_list(o.gpus); !g) return make_error("--gpus: " + g.error().message);
  if (!o.vram.empty()) {
    if (auto v = parse_size_list(o.vram); !v) return make_error("--vram: " + v.error().message);
  }
  if (!o.ram.empty()) {
    if (auto r = parse_bytes(o.ram); !r) return make_error("--ram: " + r.error().message);
  }
  if (auto t = parse_tensor_split(o.tensor_split); !t)
    return make_error("--tensor-split: " + t.error().message);
  if (auto b = parse_bytes(o.gpu_overhead); !b)
    return make_error("--gpu-overhead: " + b.error().message);
  if (o.ngld && o.draft.empty()) return make_error("--ngld needs --draft");
  // Beyond the trained context only with RoPE scaling (checked in make_plan).
  if ((o.rope_scaling != "none") != (o.rope_scale > 0)) {
    return make_error(
        "--rope-scaling and --rope-scale go together (e.g. --rope-scaling yarn --rope-scale 4)");
  }
  return Ok{};
}

bool needs_machine_gpus(const PlanOptions &o) { return o.vram.empty() && o.gpus != "none"; }

Result<ModelPlan> make_plan(const PlanOptions &o, const Machine &machine, double reserve_percent) {
  if (auto ok = check_options(o); !ok) return ok.error();
  ModelPlan mp;
  auto files = resolve_files(o);
  if (!files) return files.error();
  mp.files = std::move(*files);
  auto info = gguf::get_model_info(mp.files.model);
  if (!info) return info.error();
  if (info->is_projector) {
    return make_error(o.model + " is a vision/audio projector (mmproj), not a language model");
  }
  mp.info = std::move(*info);
  estimate::PlanRequest &req = mp.request;
  auto &s = req.settings;
  s.parallel = o.parallel;
  s.n_batch = o.batch;
  s.n_ubatch = o.ubatch;
  s.kv_unified = o.kv_unified;
  if (o.ctx == "max") {
    req.ctx_max = true;
    s.ctx_per_seq = 4096;
  } else if (o.ctx.empty()) {
    s.ctx_per_seq = 4096;
    if (mp.info.context_length > 0 && mp.info.context_length < s.ctx_per_seq)
      s.ctx_per_seq = mp.info.context_length;
  } else {
    s.ctx_per_seq = *parse_ctx(o.ctx);
  }
  s.type_k = s.type_v = *parse_kv_type(o.kv_type);
  req.pinned_kv_type = o.kv_type != "f16";
  s.flash_attn = o.flash_attn == "on";
  req.reserve_vram_percent = o.reserve_percent >= 0 ? o.reserve_percent : reserve_percent;
  req.gpu.overhead_bytes = *parse_bytes(o.gpu_overhead);
  req.pinned_ngl = o.ngl;
  req.pinned_n_cpu_moe = o.n_cpu_moe;
  req.pinned_tensor_split = *parse_tensor_split(o.tensor_split);
  auto devices = resolve_devices(o, machine);
  if (!devices) return devices.error();
  mp.devices = std::move(*devices);
  auto costs = estimate::prepare_model_costs(mp.info, req.gpu);
  if (!costs) return costs.error();
  if (auto ok = add_companions(mp.files, mp.info, *costs, req); !ok) return ok.error();
  if (o.rope_scaling != "none") {
    req.rope_scaling = o.rope_scaling;
    req.rope_scale = o.rope_scale;
  }
  // Beyond the trained context only with RoPE scaling, as far as its factor
  // reaches; llama.cpp itself only warns, and the model's answers degrade.
  if (const uint64_t train = mp.info.context_length; train > 0 && !req.ctx_max) {
    const auto reach = static_cast<uint64_t>(static_cast<double>(train) * req.rope_scale);
    if (req.rope_scaling.empty() && s.ctx_per_seq > train) {
      return make_error(fmt::format(
          "--ctx {} is beyond the trained context of {} ({} tokens); extend it with RoPE "
          "scaling (--rope-scaling yarn --rope-scale {}) or ask for at most {}",
          s.ctx_per_seq, o.model, train, (s.ctx_per_seq + train - 1) / train, train));
    }
    if (!req.rope_scaling.empty() && s.ctx_per_seq > reach) {
      return make_error(
          fmt::format("--ctx {} is beyond what RoPE scaling x{:g} reaches from the "
                      "trained {} tokens ({}); raise --rope-scale",
                      s.ctx_per_seq, req.rope_scale, train, reach));
    }
  }
  if (req.draft) req.draft->pinned_ngl = o.ngld;
  auto plan = estimate::plan_placement(*costs, mp.devices.gpus, mp.devices.host, req);
  if (!plan) return make_error(o.model + ": " + plan.error().message);
  mp.plan = std::move(*plan);
  const bool spills = !mp.plan.cpu_only && !mp.plan.fully_on_gpu;
  if (o.no_spill && spills) refuse_spill(mp.info, mp.plan);
  return mp;
}

nlohmann::json plan_json(const ModelPlan &mp) {
  return plan_document(mp.info, mp.devices, mp.plan, mp.request);
}

}  // namespace memopt::plan

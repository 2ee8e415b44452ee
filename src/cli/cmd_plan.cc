// `ai plan <model>`: how a GGUF model fits on this machine's GPUs and RAM (or
// on devices given with --vram/--ram), the largest context per KV cache type,
// the single change that would make it fit, and ready-to-paste llama.cpp and
// Ollama settings.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/option_checks.h"
#include "estimate/placement.h"
#include "gguf/ggml_type.h"
#include "gguf/model_info.h"
#include "gguf/ollama_store.h"
#include "gpu/collect.h"
#include "policy/profile.h"
#include "proc/host_memory.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {
namespace {

using estimate::GpuDevice;
using estimate::PlacementPlan;

struct PlanOptions {
  std::string model;
  std::string ctx;  // empty: 4096, or the trained context when that is smaller
  uint32_t parallel = 1;
  std::string kv_type = "f16";
  std::string flash_attn = "on";
  std::string gpus = "auto";
  std::string vram;
  std::string ram;
  std::optional<uint32_t> ngl;
  std::string tensor_split;
  std::optional<uint32_t> n_cpu_moe;
  bool kv_unified = false;
  uint32_t batch = 2048;
  uint32_t ubatch = 512;
  double reserve_percent = -1;  // < 0: from the active profile
  std::string gpu_overhead = "512MiB";
  std::vector<std::string>
      ollama_roots;       // empty: $OLLAMA_MODELS / ~/.ollama/models / service store
  std::string emit;       // "llama-args" / "ollama": print only those settings
  bool no_spill = false;  // refuse plans that keep weights in RAM
  std::string draft;      // speculative draft model (-md)
  std::optional<uint32_t> ngld;
  std::vector<std::string> loras;  // LoRA adapters (--lora)
  std::string mmproj;              // vision/audio projector (--mmproj)
  std::string rope_scaling = "none";
  double rope_scale = 0;  // 0: not given
};

// The model and its companions' files: paths as given, or an Ollama name
// resolved in its store, whose manifest also names the projector and the
// adapters (layers image.projector / image.adapter) unless the user gave some.
struct ModelFiles {
  std::string model, draft, mmproj;
  std::vector<std::string> loras;
  bool from_ollama = false;
};

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

// GPUs from the machine (GPU backend) or from --vram; host RAM from
// /proc/meminfo or --ram.
struct Devices {
  std::vector<GpuDevice> gpus;
  estimate::HostMemory host;
  std::vector<std::string> notes;
  bool what_if = false;
};

Result<Devices> resolve_devices(const PlanOptions &o, const GlobalOptions &g) {
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
    auto snap = gpu::collect_gpus(gpu::GpuRoots{g.proc_root, g.sys_root, g.nvml_library});
    for (const auto &dev : snap.gpus) {
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
  auto host = proc::read_host_memory(g.proc_root, g.sys_root);
  if (!o.ram.empty()) {
    auto b = parse_bytes(o.ram);
    if (!b) return make_error("--ram: " + b.error().message);
    d.host.available_bytes = *b;
  } else if (host) {
    d.host.available_bytes = host->meminfo.available_bytes;
  } else {
    return make_error(host.error().message + "; give the RAM to plan for with --ram 64GiB");
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
    uint64_t w = 0, kv = 0, comp = 0;
    for (const auto &dm : e.devices) {
      w += dm.weights_bytes;
      kv += dm.kv_bytes + dm.recurrent_bytes;
      comp += dm.compute_bytes + dm.output_bytes;
    }
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

nlohmann::json plan_json(const gguf::ModelInfo &m, const Devices &d, const PlacementPlan &p,
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

std::string join(const std::vector<std::string> &v, const std::string &sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// One line per companion: where it went and its bytes (the device totals
// above include them).
void print_companions(std::ostream &out, const estimate::PlanRequest &req, const PlacementPlan &p,
                      const Devices &d) {
  auto base = [](const std::string &path) {
    return std::filesystem::path(path).filename().string();
  };
  if (req.draft && p.draft_estimate) {
    const auto &e = *p.draft_estimate;
    uint64_t w = 0, kv = 0, comp = 0;
    for (const auto &dm : e.devices) {
      w += dm.weights_bytes;
      kv += dm.kv_bytes + dm.recurrent_bytes;
      comp += dm.compute_bytes + dm.output_bytes;
    }
    out << wrap_hanging(
        "Draft     ",
        fmt::format("{}: {} of {} layers on the GPU (-ngld {}); weights {}, KV {}, "
                    "compute {}",
                    base(req.draft->path), p.draft_n_gpu_layers, req.draft->costs.n_layer() + 1,
                    p.draft_n_gpu_layers, format_bytes(w), format_bytes(kv), format_bytes(comp)));
  }
  for (const auto &a : req.adapters) {
    out << wrap_hanging("LoRA      ",
                        fmt::format("{}: {} tensors, {}, with the layers they modify (in Weights)",
                                    base(a.path), a.tensor_count, format_bytes(a.bytes)));
  }
  if (req.projector) {
    const auto &pj = *req.projector;
    out << wrap_hanging(
        "Projector ",
        fmt::format("{}{} on {}: weights {}, compute {} ({})", base(pj.path),
                    pj.projector_type.empty() ? "" : " (" + pj.projector_type + ")",
                    p.projector_on_gpu ? fmt::format("GPU {}", d.gpus[0].id) : "the CPU",
                    format_bytes(p.projector_on_gpu ? pj.weights_gpu : pj.weights_host),
                    format_bytes(pj.compute_bytes), estimate::kProjectorComputeLabel));
  }
}

void print_plan(std::ostream &out, const gguf::ModelInfo &m, const Devices &d,
                const PlacementPlan &p, const estimate::PlanRequest &req) {
  const auto &st = p.settings;
  out << fmt::format("Model    {} ({}, {}, {} layers, {})\n",
                     m.name.empty() ? std::filesystem::path(m.path).filename().string() : m.name,
                     m.architecture, m.file_type_name.empty() ? "?" : m.file_type_name,
                     m.block_count, format_bytes(m.weight_bytes));
  out << fmt::format("Settings ctx {} x {} seq, KV {}/{}, flash attention {}, ubatch {}\n",
                     st.ctx_per_seq, st.parallel, gguf::ggml_type_traits(st.type_k)->name,
                     gguf::ggml_type_traits(st.type_v)->name, st.flash_attn ? "on" : "off",
                     st.n_ubatch);
  if (!estimate::architecture_checked(m.architecture)) {
    out << wrap_hanging("Estimate ",
                        "unchecked for " + m.architecture +
                            ": llama.cpp's allocation for this architecture has not "
                            "been compared with ours; treat the figures as approximate");
  }
  out << wrap_hanging("Plan     ", p.verdict);
  if (d.what_if) out << "         (what-if devices from --vram)\n";
  out << "\n";
  out << fmt::format("{:<10} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "Device", "Layers",
                     "Weights", "KV cache", "Compute", "Total", "Free after");
  for (const auto &dm : p.estimate.devices) {
    std::string name = dm.is_gpu ? fmt::format("GPU {}", d.gpus[dm.gpu_index].id) : "CPU (RAM)";
    const uint64_t limit = dm.is_gpu ? p.gpu_limit_bytes[dm.gpu_index] : p.host_limit_bytes;
    const uint64_t total = dm.total_bytes();
    std::string after =
        total <= limit ? format_bytes(limit - total) : "-" + format_bytes(total - limit);
    std::string layers = std::to_string(dm.layers) + (dm.holds_output ? "+o" : "");
    out << fmt::format("{:<10} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}\n", name, layers,
                       format_bytes(dm.weights_bytes),
                       format_bytes(dm.kv_bytes + dm.recurrent_bytes),
                       format_bytes(dm.compute_bytes + dm.output_bytes + dm.overhead_bytes),
                       format_bytes(total), after);
  }
  out << "(+o: holds the output layer; compute includes logits and GPU runtime "
         "overhead;\n"
         " free after: against available memory, on GPUs minus the reserve)\n";
  if (req.draft || req.projector) out << "(total includes the draft model and projector below)\n";
  print_companions(out, req, p, d);
  out << "\n";
  out << fmt::format("n_gpu_layers {} of {}", p.placement.n_gpu_layers, m.block_count + 1);
  if (p.placement.n_cpu_moe)
    out << fmt::format(", experts of {} layers on CPU", p.placement.n_cpu_moe);
  out << "\n";
  std::vector<std::string> mc;
  for (const auto &c : p.max_context)
    mc.push_back(fmt::format("{} {}", c.kv_type, c.max_ctx_per_seq));
  out << (p.cpu_only ? "Largest context in RAM: " : "Largest context fully on GPU: ")
      << join(mc, ", ") << "\n";
  if (p.fits) {
    out << "\n" << wrap_hanging("llama.cpp  ", join(p.launch.llama_cpp_args, " "));
    std::vector<std::string> oo, env;
    for (const auto &[k, v] : p.launch.ollama_options) oo.push_back(k + "=" + v);
    for (const auto &[k, v] : p.launch.env) env.push_back(k + "=" + v);
    out << wrap_hanging("Ollama     ", join(oo, " "));
    out << wrap_hanging("           ", join(env, " "));
    for (const auto &a : p.launch.numa_advice) out << wrap_hanging("NUMA       ", a);
  }
  if (!p.suggestions.empty()) {
    out << (p.cpu_only ? "\nOne change that makes it fit in RAM:\n"
                       : "\nOne change that makes it fit fully on the GPU:\n");
    for (const auto &s : p.suggestions) {
      out << wrap_hanging("  - ", p.cpu_only ? s.change
                                             : fmt::format("{}: needs {}{} on the GPU", s.change,
                                                           format_bytes(s.gpu_bytes),
                                                           s.approximate ? " (approx.)" : ""));
      out << wrap_hanging("      ", s.flags + "; cost: " + s.cost);
    }
  }
  for (const auto &w : p.warnings) out << wrap_hanging("warning: ", w);
  for (const auto &n : d.notes) out << wrap_hanging("note: ", n);
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

// --emit ollama: the Modelfile lines that give Ollama this plan (FROM the
// model as named, its adapters, the context and GPU layers). Ollama has no
// speculative draft model, and takes a projector only from the model's own
// manifest, so a plan that needs either is not expressed as a Modelfile.
Result<std::string> ollama_modelfile(const PlanOptions &o, const ModelFiles &f,
                                     const estimate::PlacementPlan &p) {
  if (!p.fits) return make_error(p.verdict);
  if (!f.draft.empty()) {
    return make_error(
        "Ollama has no speculative draft model; --emit ollama cannot express "
        "--draft (use --emit llama-args)");
  }
  if (!f.mmproj.empty() && (!f.from_ollama || !o.mmproj.empty())) {
    return make_error(
        "Ollama takes a projector only from the model's own manifest; --emit "
        "ollama "
        "cannot express --mmproj for a GGUF file (use --emit llama-args)");
  }
  std::string out = "FROM " + o.model + "\n";
  // An Ollama name brings its own adapters along in FROM; files given here
  // are named.
  for (const auto &l : o.loras) out += "ADAPTER " + l + "\n";
  for (const auto &[k, v] : p.launch.ollama_options) out += "PARAMETER " + k + " " + v + "\n";
  // The KV cache type, flash attention and parallel sequences are the
  // server's environment, not Modelfile parameters.
  std::vector<std::string> env;
  for (const auto &[k, v] : p.launch.env) env.push_back(k + "=" + v);
  out += "# ollama serve environment: " + join(env, " ") + "\n";
  return out;
}

int run_plan(CliContext &ctx, const PlanOptions &o) {
  auto files = resolve_files(o);
  if (!files) return fail(ctx, files.error().message);
  auto info = gguf::get_model_info(files->model);
  if (!info) return fail(ctx, info.error().message);
  if (info->is_projector) {
    return fail(ctx, o.model + " is a vision/audio projector (mmproj), not a language model");
  }
  estimate::PlanRequest req;
  auto &s = req.settings;
  s.parallel = o.parallel;
  s.n_batch = o.batch;
  s.n_ubatch = o.ubatch;
  s.kv_unified = o.kv_unified;
  // The checks on the options (RegisterCommands below) passed these.
  if (o.ctx == "max") {
    req.ctx_max = true;
    s.ctx_per_seq = 4096;
  } else if (o.ctx.empty()) {
    s.ctx_per_seq = 4096;
    if (info->context_length > 0 && info->context_length < s.ctx_per_seq)
      s.ctx_per_seq = info->context_length;
  } else {
    auto n = parse_ctx(o.ctx);
    if (!n) return usage_error(ctx, "--ctx: " + n.error().message);
    s.ctx_per_seq = *n;
  }
  auto kv = parse_kv_type(o.kv_type);
  if (!kv) return usage_error(ctx, "--kv-type: " + kv.error().message);
  s.type_k = s.type_v = *kv;
  req.pinned_kv_type = o.kv_type != "f16";
  s.flash_attn = o.flash_attn == "on";
  if (o.reserve_percent >= 0) {
    req.reserve_vram_percent = o.reserve_percent;
  } else {
    // The profile's reserve_vram_percent is the share of VRAM AI work may fill
    // (seed: local_llm 90), so the planner keeps the rest free.
    auto profiles = policy::load_profiles(policy::default_config_path());
    if (!profiles) return fail(ctx, profiles.error().message);
    auto active = policy::active_profile(policy::default_state_dir());
    if (!active) return fail(ctx, active.error().message);
    const policy::Profile *prof = profiles->find(*active);
    if (!prof)
      return fail(ctx, "active profile '" + *active + "' is not defined (ai profile list)");
    req.reserve_vram_percent = 100.0 - prof->reserve_vram_percent;
  }
  auto overhead = parse_bytes(o.gpu_overhead);
  if (!overhead) return usage_error(ctx, "--gpu-overhead: " + overhead.error().message);
  req.gpu.overhead_bytes = *overhead;
  req.pinned_ngl = o.ngl;
  req.pinned_n_cpu_moe = o.n_cpu_moe;
  auto split = parse_tensor_split(o.tensor_split);
  if (!split) return usage_error(ctx, "--tensor-split: " + split.error().message);
  req.pinned_tensor_split = *split;
  auto devices = resolve_devices(o, ctx.opts);
  if (!devices) return fail(ctx, devices.error().message);
  auto costs = estimate::prepare_model_costs(*info, req.gpu);
  if (!costs) return fail(ctx, costs.error().message);
  if (auto ok = add_companions(*files, *info, *costs, req); !ok)
    return fail(ctx, ok.error().message);
  if (o.ngld && !req.draft) return usage_error(ctx, "--ngld needs --draft");
  // Beyond the trained context only with RoPE scaling, as far as its factor
  // reaches; llama.cpp itself only warns, and the model's answers degrade.
  if ((o.rope_scaling != "none") != (o.rope_scale > 0)) {
    return usage_error(ctx,
                       "--rope-scaling and --rope-scale go together (e.g. --rope-scaling yarn "
                       "--rope-scale 4)");
  }
  if (o.rope_scaling != "none") {
    req.rope_scaling = o.rope_scaling;
    req.rope_scale = o.rope_scale;
  }
  if (const uint64_t train = info->context_length; train > 0 && !req.ctx_max) {
    const auto reach = static_cast<uint64_t>(static_cast<double>(train) * req.rope_scale);
    if (req.rope_scaling.empty() && s.ctx_per_seq > train) {
      return fail(ctx, fmt::format("--ctx {} is beyond the trained context of {} ({} tokens); "
                                   "extend it with RoPE scaling (--rope-scaling yarn --rope-scale "
                                   "{}) or ask for at most {}",
                                   s.ctx_per_seq, o.model, train,
                                   (s.ctx_per_seq + train - 1) / train, train));
    }
    if (!req.rope_scaling.empty() && s.ctx_per_seq > reach) {
      return fail(ctx, fmt::format("--ctx {} is beyond what RoPE scaling x{:g} reaches from the "
                                   "trained {} tokens ({}); raise --rope-scale",
                                   s.ctx_per_seq, req.rope_scale, train, reach));
    }
  }
  if (req.draft) req.draft->pinned_ngl = o.ngld;
  auto plan = estimate::plan_placement(*costs, devices->gpus, devices->host, req);
  if (!plan) return fail(ctx, o.model + ": " + plan.error().message);
  const bool spills = !plan->cpu_only && !plan->fully_on_gpu;
  if (o.no_spill && spills) refuse_spill(*info, *plan);
  if (o.emit == "llama-args") {
    // Only the arguments, for `llama-server -m MODEL $(ruvector-memopt ai plan
    // MODEL --emit llama-args)`; a plan that will not load prints none.
    if (!plan->fits) return fail(ctx, plan->verdict);
    *ctx.out << join(plan->launch.llama_cpp_args, " ") << "\n";
    return kExitOk;
  }
  if (o.emit == "ollama") {
    auto lines = ollama_modelfile(o, *files, *plan);
    if (!lines) return fail(ctx, lines.error().message);
    *ctx.out << *lines;
    return kExitOk;
  }
  if (ctx.opts.json) {
    print_json(ctx, plan_json(*info, *devices, *plan, req));
  } else {
    print_plan(*ctx.out, *info, *devices, *plan, req);
  }
  // A plan that will not load is a runtime answer, not a usage error.
  return plan->fits ? kExitOk : kExitFailure;
}

RegisterCommands reg(30, [](CliRoot &root) {
  CLI::App *ai = root.group("ai", "AI workloads: detect, plan, ...");
  auto *cmd = ai->add_subcommand("plan", "Plan how a model fits on GPUs and CPU");
  auto o = std::make_shared<PlanOptions>();
  cmd->add_option("model", o->model, "GGUF path or Ollama model name")->required();
  cmd->add_option("--ollama-models", o->ollama_roots, "Ollama model store(s) to search");
  cmd->add_option("--ctx", o->ctx,
                  "Context per sequence in tokens, or 'max' (default 4096, or the trained "
                  "context when smaller)")
      ->check(parsed_by(parse_ctx));
  cmd->add_option("--parallel", o->parallel, "Parallel sequences (-np, OLLAMA_NUM_PARALLEL)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16, q8_0, q4_0, ...")
      ->capture_default_str()
      ->check(parsed_by(parse_kv_type));
  cmd->add_option("--flash-attn", o->flash_attn, "Flash attention")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--gpus", o->gpus, "GPUs to plan for: auto, none, or indices 0,1")
      ->capture_default_str()
      ->check(parsed_by(parse_gpu_list));
  cmd->add_option("--vram", o->vram, "What-if GPUs: free memory of each, e.g. 24GiB,12GiB")
      ->check(parsed_by(parse_size_list));
  cmd->add_option("--ram", o->ram, "RAM to plan for (default: MemAvailable)")
      ->check(parsed_by([](const std::string &v) { return parse_bytes(v); }));
  cmd->add_option("--ngl", o->ngl, "Pin the number of GPU layers (llama.cpp -ngl)")
      ->check(whole_up_to(100000));
  cmd->add_option("--tensor-split", o->tensor_split, "Pin the split across GPUs, e.g. 3,1")
      ->check(parsed_by(parse_tensor_split));
  cmd->add_option("--n-cpu-moe", o->n_cpu_moe, "Pin: experts of the first N layers on the CPU")
      ->check(whole_up_to(100000));
  cmd->add_flag("--kv-unified", o->kv_unified,
                "One KV cache shared by all sequences (llama.cpp --kv-unified)");
  cmd->add_option("--batch", o->batch, "Logical batch (-b)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--ubatch", o->ubatch, "Micro-batch (-ub)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--reserve-percent", o->reserve_percent,
                  "GPU memory kept free, percent (default: 100 minus the active "
                  "profile's reserve_vram_percent; local_llm: 10)")
      ->check(finite_in(0, 90));
  cmd->add_option("--gpu-overhead", o->gpu_overhead, "Runtime overhead per GPU (CUDA context...)")
      ->capture_default_str()
      ->check(parsed_by([](const std::string &v) { return parse_bytes(v); }));
  cmd->add_option("--emit", o->emit,
                  "Print only this: llama-args (llama.cpp's arguments) or "
                  "ollama (Modelfile lines)")
      ->check(CLI::IsMember({"llama-args", "ollama"}));
  cmd->add_option("--draft", o->draft,
                  "Speculative draft model (llama.cpp -md): GGUF or Ollama name");
  cmd->add_option("--ngld", o->ngld, "Pin the draft model's GPU layers (llama.cpp -ngld)")
      ->check(whole_up_to(100000));
  cmd->add_option("--lora", o->loras, "LoRA adapter GGUF (llama.cpp --lora); repeat for several")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--mmproj", o->mmproj, "Vision/audio projector GGUF (llama.cpp --mmproj)");
  cmd->add_option("--rope-scaling", o->rope_scaling,
                  "RoPE scaling for contexts beyond the trained one: none, linear, yarn")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "linear", "yarn"}));
  cmd->add_option("--rope-scale", o->rope_scale, "RoPE context scaling factor (e.g. 4)")
      ->check(finite_in(1, 64));
  cmd->add_flag("--no-spill", o->no_spill,
                "Refuse plans that keep weights in RAM; say which context fits "
                "on the GPUs");
  root.bind(cmd, [o](CliContext &ctx) { return run_plan(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli

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
#include "gpu/collect.h"
#include "plan/model_plan.h"
#include "policy/profile.h"
#include "proc/host_memory.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {
namespace {

using estimate::PlacementPlan;
using plan::Devices;
using plan::draft_bytes;
using plan::ModelFiles;
using plan::parse_ctx;
using plan::parse_gpu_list;
using plan::parse_kv_type;
using plan::parse_size_list;
using plan::parse_tensor_split;
using plan::PlanOptions;

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
    const auto [w, kv, comp] = draft_bytes(e);
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

// One bar per device for what the plan puts there, against the memory the
// plan may use (on GPUs free minus the reserve, in RAM what is available):
// the cells come from util's bar_cells, as `ai watch`'s memory map does, and
// the letters are lower case because every figure is an estimate (as there).
void print_device_bars(std::ostream &out, const Devices &d, const PlacementPlan &p) {
  constexpr int kInner = 44;  // 11 label + 46 bar + 22 figures = 79 columns
  bool companions = false;
  for (const auto &dm : p.estimate.devices) companions |= dm.draft_bytes + dm.projector_bytes > 0;
  out << "\n"
      << wrap_hanging("", std::string("w weights, k KV cache, c compute, ") +
                              (companions ? "m draft model and projector, " : "") +
                              ". free; of the memory the plan may use (GPU: free minus the "
                              "reserve; RAM: available)");
  for (const auto &dm : p.estimate.devices) {
    if (!dm.is_gpu && dm.layers == 0 && !dm.holds_output) continue;
    const std::string name =
        dm.is_gpu ? fmt::format("GPU {}", d.gpus[dm.gpu_index].id) : std::string("CPU (RAM)");
    const uint64_t limit = dm.is_gpu ? p.gpu_limit_bytes[dm.gpu_index] : p.host_limit_bytes;
    const std::vector<std::pair<char, uint64_t>> parts = {
        {'w', dm.weights_bytes},
        {'k', dm.kv_bytes + dm.recurrent_bytes},
        {'c', dm.compute_bytes + dm.output_bytes + dm.overhead_bytes},
        {'m', dm.draft_bytes + dm.projector_bytes}};
    std::vector<uint64_t> bytes;
    for (const auto &[letter, b] : parts) bytes.push_back(b);
    const std::vector<int> cells = bar_cells(bytes, limit, kInner);
    std::string bar = "[";
    for (size_t i = 0; i < parts.size(); ++i)
      bar.append(static_cast<size_t>(cells[i]), parts[i].first);
    bar.append(static_cast<size_t>(kInner) + 1 - bar.size(), '.');
    bar += "]";
    out << fmt::format("{:<10} {} {:>9} / {}\n", name, bar, format_bytes(dm.total_bytes()),
                       format_bytes(limit));
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
  print_device_bars(out, d, p);
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

int run_plan(CliContext &ctx, const PlanOptions &o, const std::string &emit) {
  if (auto ok = plan::check_options(o); !ok) return usage_error(ctx, ok.error().message);
  double reserve_percent = o.reserve_percent;
  if (reserve_percent < 0) {
    // The profile's reserve_vram_percent is the share of VRAM AI work may fill
    // (seed: local_llm 90), so the planner keeps the rest free.
    auto profiles = policy::load_profiles(policy::default_config_path());
    if (!profiles) return fail(ctx, profiles.error().message);
    auto active = policy::active_profile(policy::default_state_dir());
    if (!active) return fail(ctx, active.error().message);
    const policy::Profile *prof = profiles->find(*active);
    if (!prof)
      return fail(ctx, "active profile '" + *active + "' is not defined (ai profile list)");
    reserve_percent = 100.0 - prof->reserve_vram_percent;
  }
  const GlobalOptions &g = ctx.opts;
  plan::Machine machine;
  if (plan::needs_machine_gpus(o))
    machine.gpus = gpu::collect_gpus(gpu::GpuRoots{g.proc_root, g.sys_root, g.nvml_library}).gpus;
  if (auto host = proc::read_host_memory(g.proc_root, g.sys_root)) {
    machine.host = std::move(*host);
  } else {
    machine.host_error = host.error().message;
  }
  auto mp = plan::make_plan(o, machine, reserve_percent);
  if (!mp) return fail(ctx, mp.error().message);
  const PlacementPlan &p = mp->plan;
  if (emit == "llama-args") {
    // Only the arguments, for `llama-server -m MODEL $(ruvector-memopt ai plan
    // MODEL --emit llama-args)`; a plan that will not load prints none.
    if (!p.fits) return fail(ctx, p.verdict);
    *ctx.out << join(p.launch.llama_cpp_args, " ") << "\n";
    return kExitOk;
  }
  if (emit == "ollama") {
    auto lines = ollama_modelfile(o, mp->files, p);
    if (!lines) return fail(ctx, lines.error().message);
    *ctx.out << *lines;
    return kExitOk;
  }
  if (ctx.opts.json) {
    print_json(ctx, plan::plan_json(*mp));
  } else {
    print_plan(*ctx.out, mp->info, mp->devices, p, mp->request);
  }
  // A plan that will not load is a runtime answer, not a usage error.
  return p.fits ? kExitOk : kExitFailure;
}

RegisterCommands reg(30, [](CliRoot &root) {
  CLI::App *ai = root.group("ai", "AI workloads: detect, plan, ...");
  auto *cmd = ai->add_subcommand("plan", "Plan how a model fits on GPUs and CPU");
  auto o = std::make_shared<PlanOptions>();
  auto emit = std::make_shared<std::string>();  // llama-args / ollama: print only those
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
  cmd->add_option("--emit", *emit,
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
  root.bind(cmd, [o, emit](CliContext &ctx) { return run_plan(ctx, *o, *emit); });
});

}  // namespace
}  // namespace memopt::cli

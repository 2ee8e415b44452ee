// `vram clear` and `vram defrag`: free GPU memory through the runtimes' own
// APIs. No outside program can defragment another process's GPU heap, so
// defrag does the real nearest thing, a reload through the runtime, and says
// so. (`vram status` lives in cmd_vram.cc.)
#include <chrono>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/option_checks.h"
#include "actuator/unload_verify.h"
#include "cli/runtime_endpoints.h"
#include "runtimes/models_view.h"
#include "runtimes/vllm.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {

using actuator::gpu_used_bytes;
using actuator::print_unload_report;
using actuator::unload_and_verify;
using actuator::unload_ok;
using actuator::unload_report_json;
using actuator::UnloadReport;
using actuator::VerifyOptions;
namespace {

using namespace memopt::runtimes;

// Lines of the report: at most 80 columns, continuation lines indented by 8.
std::string wrap80(const std::string& line) { return wrap_block("", line, 8); }

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct ClearOptions {
  EndpointOptions endpoints;
  bool dry_run = false;
  bool include_busy = false;
  bool include_pinned = false;
  double wait_s = 30;
};

// Why a model is left alone by `vram clear`, or "" to unload it. Pure.
std::string skip_reason(const LoadedModel& m, const ClearOptions& o, int64_t now) {
  if (!m.unload_supported) return "cannot: " + m.unload_note;
  if (m.state == "sleeping" || m.state == "unloaded") return "already " + m.state;
  if (m.state == "loading") return "still loading";
  if (!o.include_busy && m.requests_running && *m.requests_running > 0) {
    return "busy: " + std::to_string(*m.requests_running) + " requests running (--include-busy)";
  }
  if (!o.include_pinned && !m.expires_at.empty() && parse_rfc3339(m.expires_at) &&
      !expires_in_seconds(m, now)) {
    return "pinned with keep_alive -1 (--include-pinned)";
  }
  return "";
}

int run_clear(CliContext& ctx, const ClearOptions& o) {
  auto rt = connect_runtimes(o.endpoints, ctx.opts.proc_root);
  if (!rt) return fail(ctx, rt.error().message);
  std::vector<std::string> problems = rt->problems;
  const int64_t now = now_unix();
  VerifyOptions v;
  v.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.wait_s * 1000));
  v.gpu_roots = gpu::GpuRoots{ctx.opts.proc_root, ctx.opts.sys_root, ctx.opts.nvml_library};
  auto gpu_before = gpu_used_bytes(v.gpu_roots);

  nlohmann::json actions = nlohmann::json::array();
  uint64_t freed_by_runtime = 0;
  int failures = 0;
  std::ostream& out = *ctx.out;
  for (const auto& client : rt->clients) {
    auto models = client->loaded_models();
    if (!models) {
      problems.push_back(std::string(client->name()) + ": " + models.error().message);
      continue;
    }
    for (const LoadedModel& m : *models) {
      std::string why = skip_reason(m, o, now);
      uint64_t held = m.vram_bytes.value_or(m.size_bytes.value_or(0));
      nlohmann::json a = {{"runtime", std::string(client->name())},
                          {"endpoint", client->base_url()},
                          {"model", m.name},
                          {"held_bytes", m.size_bytes ? nlohmann::json(*m.size_bytes) : nlohmann::json(nullptr)},
                          {"held_vram_bytes", m.vram_bytes ? nlohmann::json(*m.vram_bytes) : nlohmann::json(nullptr)}};
      if (!why.empty()) {
        a["action"] = "skip";
        a["reason"] = why;
        if (!ctx.opts.json) out << wrap80("skip    " + m.name + " (" + std::string(client->name()) + "): " + why);
      } else if (o.dry_run) {
        a["action"] = "would_unload";
        if (!ctx.opts.json) {
          out << wrap80("would unload " + m.name + " (" + std::string(client->name()) + ")" +
                        (held ? ", frees about " + format_bytes(held) : std::string()));
        }
        freed_by_runtime += held;
      } else {
        UnloadReport r = unload_and_verify(*client, m, v);
        a["action"] = "unload";
        a["result"] = unload_report_json(r);
        if (unload_ok(r)) {
          freed_by_runtime += held;
        } else {
          ++failures;
        }
        if (!ctx.opts.json) print_unload_report(out, r);
      }
      actions.push_back(std::move(a));
    }
  }
  auto gpu_after = o.dry_run ? gpu_before : gpu_used_bytes(v.gpu_roots);
  if (ctx.opts.json) {
    auto opt = [](const std::optional<uint64_t>& x) { return x ? nlohmann::json(*x) : nlohmann::json(nullptr); };
    print_json(ctx, {{"schema", "ruvector-memopt.vram-clear/1"},
                     {"dry_run", o.dry_run},
                     {"actions", actions},
                     {"freed_by_runtime_bytes", freed_by_runtime},
                     {"gpu_used_before_bytes", opt(gpu_before)},
                     {"gpu_used_after_bytes", opt(gpu_after)},
                     {"problems", problems}});
  } else {
    if (actions.empty()) out << "Nothing to clear: no runtime reports a loaded model.\n";
    out << (o.dry_run ? "Would free about " : "Runtimes report ") << format_bytes(freed_by_runtime)
        << (o.dry_run ? "" : " freed") << ".";
    if (!o.dry_run && gpu_before && gpu_after) {
      out << " GPU memory used: " << format_bytes(*gpu_before) << " -> " << format_bytes(*gpu_after)
          << ".";
    }
    out << "\n";
    for (const std::string& p : problems) out << wrap80("warning: " + p);
  }
  if (failures > 0) return fail(ctx, std::to_string(failures) + " unload(s) did not complete");
  return problems.empty() ? kExitOk : kExitFailure;
}

struct DefragOptions {
  EndpointOptions endpoints;
  std::string model;  // empty: every model that can be reloaded
  bool dry_run = false;
  double wait_s = 60;
};

constexpr const char* kDefragTruth =
    "No program can defragment another process's GPU heap. What this does instead:\n"
    "reload each model through its own runtime so it allocates compactly again\n"
    "(Ollama: unload + load with the same context; vLLM: sleep level 1 + wake up).\n"
    "PyTorch and ONNX Runtime processes cannot be defragmented from outside: restart\n"
    "them (PyTorch's torch.cuda.empty_cache() only works from inside the process).\n";

int run_defrag(CliContext& ctx, const DefragOptions& o) {
  auto rt = connect_runtimes(o.endpoints, ctx.opts.proc_root);
  if (!rt) return fail(ctx, rt.error().message);
  std::vector<std::string> problems = rt->problems;
  std::ostream& out = *ctx.out;
  if (!ctx.opts.json) out << kDefragTruth << "\n";
  VerifyOptions v;
  v.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.wait_s * 1000));
  v.gpu_roots = gpu::GpuRoots{ctx.opts.proc_root, ctx.opts.sys_root, ctx.opts.nvml_library};
  const int64_t now = now_unix();
  nlohmann::json actions = nlohmann::json::array();
  int failures = 0;
  bool matched = o.model.empty();
  for (const auto& client : rt->clients) {
    auto models = client->loaded_models();
    if (!models) {
      problems.push_back(std::string(client->name()) + ": " + models.error().message);
      continue;
    }
    for (const LoadedModel& m : *models) {
      if (!o.model.empty() && m.name != o.model && m.name != o.model + ":latest") continue;
      matched = true;
      nlohmann::json a = {{"runtime", std::string(client->name())}, {"model", m.name}};
      const bool ollama = client->kind() == RuntimeKind::kOllama;
      const bool vllm = client->kind() == RuntimeKind::kVllm;
      if (!ollama && !vllm) {
        a["action"] = "not_possible";
        a["reason"] = std::string(client->name()) + " has no reload path through its API";
        if (!ctx.opts.json) out << wrap80("cannot  " + m.name + " (" + std::string(client->name()) + "): no reload API");
        actions.push_back(a);
        continue;
      }
      if (m.state != "loaded") {
        a["action"] = "skip";
        a["reason"] = "state " + m.state;
        actions.push_back(a);
        continue;
      }
      if (o.dry_run) {
        a["action"] = "would_reload";
        if (!ctx.opts.json) out << wrap80("would reload " + m.name + " (" + std::string(client->name()) + ")");
        actions.push_back(a);
        continue;
      }
      auto before = gpu_used_bytes(v.gpu_roots);
      UnloadReport r = unload_and_verify(*client, m, v);
      a["unload"] = unload_report_json(r);
      Status reload = Ok{};
      if (unload_ok(r)) {
        PreloadOptions po;
        if (ollama) {
          // Same context as before; keep the remaining idle time (or the pin).
          if (m.context_tokens && *m.context_tokens <= (1u << 24)) po.num_ctx = static_cast<int>(*m.context_tokens);
          auto left = expires_in_seconds(m, now);
          po.keep_alive = left ? std::to_string(std::max<int64_t>(*left, 60)) + "s" : "-1";
        }
        reload = client->preload(m.name, po);
      } else {
        reload = make_error(r.error);
      }
      auto after = gpu_used_bytes(v.gpu_roots);
      a["action"] = "reload";
      a["ok"] = static_cast<bool>(reload);
      a["error"] = reload ? nlohmann::json(nullptr) : nlohmann::json(reload.error().message);
      a["gpu_used_before_bytes"] = before ? nlohmann::json(*before) : nlohmann::json(nullptr);
      a["gpu_used_after_bytes"] = after ? nlohmann::json(*after) : nlohmann::json(nullptr);
      if (!reload) ++failures;
      if (!ctx.opts.json) {
        out << (reload ? "reloaded " : "FAILED   ") << m.name << " (" << client->name() << ")";
        if (before && after) out << ": GPU used " << format_bytes(*before) << " -> " << format_bytes(*after);
        if (!reload) out << ": " << reload.error().message;
        out << "\n";
      }
      actions.push_back(a);
    }
  }
  if (!matched) return fail(ctx, "no runtime has '" + o.model + "' loaded");
  if (ctx.opts.json) {
    print_json(ctx, {{"schema", "ruvector-memopt.vram-defrag/1"},
                     {"note", kDefragTruth},
                     {"dry_run", o.dry_run},
                     {"actions", actions},
                     {"problems", problems}});
  } else {
    if (actions.empty()) out << "No loaded model to reload.\n";
    for (const std::string& p : problems) out << wrap80("warning: " + p);
  }
  if (failures > 0) return fail(ctx, std::to_string(failures) + " reload(s) failed");
  return problems.empty() ? kExitOk : kExitFailure;
}

RegisterCommands reg(41, [](CliRoot& root) {
  CLI::App* vram = root.group("vram", "GPU memory: status, and freeing it");

  auto co = std::make_shared<ClearOptions>();
  auto* clear = vram->add_subcommand("clear", "Unload idle models in every runtime that can, and verify");
  clear->add_flag("--dry-run", co->dry_run, "Only print what would be unloaded");
  clear->add_flag("--include-busy", co->include_busy, "Also unload models serving requests");
  clear->add_flag("--include-pinned", co->include_pinned, "Also unload models pinned with keep_alive -1");
  clear->add_option("--wait", co->wait_s, "Seconds to wait for each model's memory")
      ->check(finite_in(0, 3600))
      ->capture_default_str();
  add_endpoint_options(clear, co->endpoints);
  root.bind(clear, [co](CliContext& ctx) { return run_clear(ctx, *co); });

  auto dO = std::make_shared<DefragOptions>();
  auto* defrag = vram->add_subcommand("defrag", "Reload models through their runtime (the honest nearest thing to a defrag)");
  defrag->add_option("model", dO->model, "Only this model (default: every model)");
  defrag->add_flag("--dry-run", dO->dry_run, "Only print what would be reloaded");
  defrag->add_option("--wait", dO->wait_s, "Seconds to wait for each unload")
      ->check(finite_in(0, 3600))
      ->capture_default_str();
  add_endpoint_options(defrag, dO->endpoints);
  root.bind(defrag, [dO](CliContext& ctx) { return run_defrag(ctx, *dO); });
});

}  // namespace
}  // namespace memopt::cli

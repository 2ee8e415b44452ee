// `ai models`, `ai unload`, `ai preload`: what every runtime holds in memory,
// and the runtime's own way to free or load it.
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "cli/gateway_target.h"
#include "cli/option_checks.h"
#include "actuator/unload_verify.h"
#include "cli/runtime_endpoints.h"
#include "runtimes/kv_estimate.h"
#include "runtimes/models_view.h"
#include "snapshot/snapshot_json.h"
#include "runtimes/registry.h"
#include "runtimes/ollama.h"
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

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// RUNTIME MODEL SIZE PROCESSOR CTX KV-CACHE UNTIL, one space between columns.
const std::vector<Column> kModelColumns = {{7, false}, {16, false}, {9, false}, {15, false},
                                           {6, false}, {13, false}, {8, false}};

std::string runtime_names() {
  std::string names;
  for (RuntimeKind k : all_runtime_kinds()) {
    names += (names.empty() ? "" : ", ") + std::string(runtime_name(k));
  }
  return names;
}

struct ModelsOptions {
  EndpointOptions endpoints;
  GatewayCliOptions gateway;
};

// The gateway model a runtime's model is served for: the llama-server the
// gateway started answers on the backend port the gateway reports for it.
std::string gateway_model_of(const LoadedModel& m, const snapshot::GatewayStatus* g) {
  if (g == nullptr || m.endpoint.empty()) return "";
  auto base = parse_base_url(m.endpoint, 0);
  if (!base || (base->host != "127.0.0.1" && base->host != "localhost" && base->host != "::1")) {
    return "";
  }
  for (const auto& gm : g->models) {
    if (gm.port > 0 && gm.pid > 0 && gm.port == base->port) return gm.name;
  }
  return "";
}

struct Collected {
  std::vector<std::pair<const RuntimeClient*, LoadedModel>> models;
  std::vector<std::string> problems;
};

// KV bytes for models whose runtime does not report them (Ollama, llama.cpp):
// the estimator on the model's GGUF, when that file is readable here.
void add_kv_estimates(const RuntimeClient& client, LoadedModel& m) {
  if (m.kv.capacity_bytes.known() || !m.context_tokens) return;
  KvEstimateInput in;
  in.ctx_per_seq = *m.context_tokens;
  if (client.kind() == RuntimeKind::kOllama) {
    // /api/show's modelfile names the blob; OLLAMA_NUM_PARALLEL defaults to 1
    // since v0.10 and is not visible through the API.
    auto d = static_cast<const OllamaClient&>(client).show(m.name);
    if (!d || d->model_path.empty()) return;
    in.gguf_path = d->model_path;
  } else if (client.kind() == RuntimeKind::kLlamaCpp && !m.model_path.empty()) {
    in.gguf_path = m.model_path;
    in.parallel = static_cast<uint32_t>(m.parallel.value_or(1));
  } else {
    return;
  }
  (void)add_kv_estimate(m, in);  // unreadable file: the KV bytes stay unknown
}

Collected collect_models(const ConnectedRuntimes& rt, bool estimate_kv) {
  Collected c;
  c.problems = rt.problems;
  for (const auto& client : rt.clients) {
    auto models = client->loaded_models();
    if (!models) {
      c.problems.push_back(std::string(client->name()) + ": " + models.error().message);
      continue;
    }
    for (LoadedModel& m : *models) {
      if (estimate_kv) add_kv_estimates(*client, m);
      c.models.emplace_back(client.get(), std::move(m));
    }
  }
  return c;
}

int run_models(CliContext& ctx, const ModelsOptions& o) {
  auto rt = connect_runtimes(o.endpoints, ctx.opts.proc_root);
  if (!rt) return fail(ctx, rt.error().message);
  Collected c = collect_models(*rt, true);
  std::optional<snapshot::GatewayStatus> gateway;
  if (auto target = gateway_target(o.gateway)) {
    gateway = assembler::collect_gateway(*target, http_options(o.endpoints));
  }
  const snapshot::GatewayStatus* gw = gateway ? &*gateway : nullptr;
  const int64_t now = now_unix();
  if (ctx.opts.json) {
    nlohmann::json runtimes = nlohmann::json::array();
    for (const RuntimeInfo& i : rt->infos) {
      runtimes.push_back({{"runtime", std::string(runtime_name(i.kind))},
                          {"endpoint", i.base_url},
                          {"version", i.version},
                          {"ready", i.ready},
                          {"status", i.status}});
    }
    nlohmann::json models = nlohmann::json::array();
    for (const auto& [client, m] : c.models) {
      nlohmann::json j = model_to_json(m, now);
      const std::string by = gateway_model_of(m, gw);
      j["gateway_model"] = by.empty() ? nlohmann::json(nullptr) : nlohmann::json(by);
      models.push_back(std::move(j));
    }
    print_json(ctx, {{"schema", "ruvector-memopt.ai-models/1"},
                     {"runtimes", runtimes},
                     {"models", models},
                     {"gateway", gw ? snapshot::to_json(*gw) : nlohmann::json(nullptr)},
                     {"problems", c.problems}});
  } else {
    std::ostream& out = *ctx.out;
    if (rt->infos.empty() && c.problems.empty()) {
      // The default ports, from the runtime registry.
      std::string ports;
      for (const runtimes::RuntimeDescriptor* d : runtimes::all_runtimes()) {
        if (!d->has_client()) continue;
        ports += (ports.empty() ? "" : ", ") + std::string(d->name) + " " + std::to_string(d->api_port());
      }
      out << wrap_block("", "No AI runtime answered on the default ports (" + ports +
                                "). Point at one with --endpoint URL or --ollama-host URL.",
                        0);
    }
    for (const RuntimeInfo& i : rt->infos) {
      out << runtime_name(i.kind) << " " << (i.version.empty() ? "" : i.version + " ") << "at "
          << i.base_url << (i.ready ? "" : " (" + i.status + ")") << "\n";
    }
    size_t by_gateway = 0;
    for (const auto& [client, m] : c.models) by_gateway += !gateway_model_of(m, gw).empty();
    if (c.models.size() > by_gateway) {
      out << "\n"
          << table_row(kModelColumns,
                       {"RUNTIME", "MODEL", "SIZE", "PROCESSOR", "CTX", "KV CACHE", "UNTIL"})
          << "\n";
      for (const auto& [client, m] : c.models) {
        if (!gateway_model_of(m, gw).empty()) continue;  // listed under the gateway
        std::string size = m.size_bytes ? format_bytes(*m.size_bytes)
                                        : (m.vram_bytes ? format_bytes(*m.vram_bytes) : "-");
        std::string proc = processor_text(m);
        if (m.state != "loaded") proc = m.state;
        out << table_row(kModelColumns,
                         {std::string(runtime_name(m.runtime)), m.name, size, proc,
                          m.context_tokens ? std::to_string(*m.context_tokens) : "-",
                          kv_text(m.kv), expiry_text(m, now)})
            << "\n";
      }
      out << "(KV: use% used/capacity tokens; ~ marks our estimate, not the runtime's.)\n";
    } else if (!rt->infos.empty() && by_gateway == 0) {
      out << "\nNo model is loaded.\n";
    }
    if (gw) {
      out << "\n";
      print_gateway(out, *gw, {});
    }
    for (const std::string& p : c.problems) out << "warning: " << p << "\n";
  }
  // Some runtime failing is a runtime failure, but everything else rendered.
  return c.problems.empty() ? kExitOk : kExitFailure;
}

struct UnloadOptions {
  EndpointOptions endpoints;
  std::string model;
  std::string runtime;  // disambiguates a name loaded in two runtimes
  double wait_s = 30;
};

// Finds `name` among the loaded models; Ollama's ":latest" may be omitted.
Result<std::pair<const RuntimeClient*, LoadedModel>> find_model(const Collected& c,
                                                                const std::string& name,
                                                                const std::string& runtime) {
  std::vector<std::pair<const RuntimeClient*, LoadedModel>> hits;
  for (const auto& [client, m] : c.models) {
    if (!runtime.empty() && runtime_name(m.runtime) != runtime) continue;
    if (m.name == name || m.name == name + ":latest") hits.emplace_back(client, m);
  }
  if (hits.size() == 1) return hits[0];
  if (hits.size() > 1) {
    std::string where;
    for (const auto& h : hits) where += " " + std::string(runtime_name(h.second.runtime));
    return make_error("'" + name + "' is loaded in more than one runtime (" + where.substr(1) +
                      "); choose one with --runtime");
  }
  if (c.models.empty() && !c.problems.empty()) {
    std::string msg = "could not read the runtimes' loaded models:";
    for (const std::string& p : c.problems) msg += " " + p + ";";
    msg.pop_back();
    return make_error(msg);
  }
  std::string loaded;
  for (const auto& [client, m] : c.models) loaded += (loaded.empty() ? "" : ", ") + m.name;
  std::string msg = "no runtime has '" + name + "' loaded";
  msg += loaded.empty() ? " (nothing is loaded)" : " (loaded: " + loaded + ")";
  for (const std::string& p : c.problems) msg += "; also: " + p;
  return make_error(msg);
}

int run_unload(CliContext& ctx, const UnloadOptions& o) {
  if (!o.runtime.empty() && !runtime_from_name(o.runtime)) {
    return usage_error(ctx,
                       "--runtime: unknown runtime '" + o.runtime + "' (" + runtime_names() + ")");
  }
  auto rt = connect_runtimes(o.endpoints, ctx.opts.proc_root);
  if (!rt) return fail(ctx, rt.error().message);
  Collected c = collect_models(*rt, false);
  auto hit = find_model(c, o.model, o.runtime);
  if (!hit) return fail(ctx, hit.error().message);
  VerifyOptions v;
  v.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.wait_s * 1000));
  v.gpu_roots = gpu::GpuRoots{ctx.opts.proc_root, ctx.opts.sys_root, ctx.opts.nvml_library};
  UnloadReport r = unload_and_verify(*hit->first, hit->second, v);
  if (ctx.opts.json) {
    nlohmann::json doc = unload_report_json(r);
    doc["schema"] = "ruvector-memopt.ai-unload/1";
    print_json(ctx, doc);
  } else {
    print_unload_report(*ctx.out, r);
  }
  if (!r.accepted) return fail(ctx, r.error);
  if (!r.gone) return fail(ctx, r.error);
  return kExitOk;
}

struct PreloadCmdOptions {
  EndpointOptions endpoints;
  std::string model;
  std::string runtime = "ollama";
  std::string keep_alive;
  std::optional<int> num_ctx, num_gpu;
};

int run_preload(CliContext& ctx, const PreloadCmdOptions& o) {
  if (!o.keep_alive.empty() && !valid_keep_alive(o.keep_alive)) {
    return usage_error(ctx, "--keep-alive '" + o.keep_alive +
                                "' is not a duration: use e.g. 30m, 1h30m, 300 (seconds) or -1 "
                                "(forever)");
  }
  auto kind = runtime_from_name(o.runtime);
  if (!kind) {
    return usage_error(ctx,
                       "--runtime: unknown runtime '" + o.runtime + "' (" + runtime_names() + ")");
  }
  auto rt = connect_runtimes(o.endpoints, ctx.opts.proc_root);
  if (!rt) return fail(ctx, rt.error().message);
  const RuntimeClient* client = nullptr;
  for (const auto& cl : rt->clients) {
    if (cl->kind() == *kind) {
      client = cl.get();
      break;
    }
  }
  if (client == nullptr) {
    std::string msg = "no " + o.runtime + " server answered";
    for (const std::string& p : rt->problems) msg += "; " + p;
    return fail(ctx, msg + "; point at it with --endpoint or --" +
                         (o.runtime == "ollama" ? std::string("ollama-host") : o.runtime));
  }
  PreloadOptions po{o.keep_alive, o.num_gpu, o.num_ctx, std::nullopt};
  const auto start = std::chrono::steady_clock::now();
  Status s = client->preload(o.model, po);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!s) return fail(ctx, s.error().message);
  // Confirm: the runtime now lists it (Ollama /api/ps, router /models ...).
  std::optional<LoadedModel> loaded;
  if (auto models = client->loaded_models(); models) {
    for (LoadedModel& m : *models) {
      if ((m.name == o.model || m.name == o.model + ":latest") && m.state != "sleeping") loaded = m;
    }
  }
  if (ctx.opts.json) {
    print_json(ctx, {{"schema", "ruvector-memopt.ai-preload/1"},
                     {"runtime", std::string(client->name())},
                     {"endpoint", client->base_url()},
                     {"model", o.model},
                     {"keep_alive", o.keep_alive.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.keep_alive)},
                     {"seconds", secs},
                     {"loaded", loaded ? model_to_json(*loaded, now_unix()) : nlohmann::json(nullptr)}});
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", secs);
    *ctx.out << "Loaded " << o.model << " in " << client->name() << " (" << client->base_url()
             << ") in " << buf << ".\n";
    if (loaded) {
      *ctx.out << "  holds " << (loaded->size_bytes ? format_bytes(*loaded->size_bytes) : "?")
               << ", " << processor_text(*loaded) << ", context "
               << (loaded->context_tokens ? std::to_string(*loaded->context_tokens) : "?")
               << ", unloads " << expiry_text(*loaded, now_unix()) << "\n";
    }
  }
  if (!loaded) return fail(ctx, client->name().data() + std::string(" accepted the load, but does not list '") + o.model + "' as loaded");
  return kExitOk;
}

RegisterCommands reg(32, [](CliRoot& root) {
  CLI::App* ai = root.group("ai", "AI workloads: detect, plan, models, unload, benchmark, ...");

  auto mo = std::make_shared<ModelsOptions>();
  auto* models = ai->add_subcommand("models", "List every model loaded by every runtime");
  add_endpoint_options(models, mo->endpoints);
  add_gateway_options(models, mo->gateway);
  root.bind(models, [mo](CliContext& ctx) { return run_models(ctx, *mo); });

  auto uo = std::make_shared<UnloadOptions>();
  auto* unload = ai->add_subcommand("unload", "Unload a model through its runtime and verify the memory came back");
  unload->add_option("model", uo->model, "Model name as `ai models` shows it")->required();
  unload->add_option("--runtime", uo->runtime, "Runtime holding it, when several do");
  unload->add_option("--wait", uo->wait_s, "Seconds to wait for the memory to come back")
      ->check(finite_in(0, 3600))
      ->capture_default_str();
  add_endpoint_options(unload, uo->endpoints);
  root.bind(unload, [uo](CliContext& ctx) { return run_unload(ctx, *uo); });

  auto po = std::make_shared<PreloadCmdOptions>();
  auto* preload = ai->add_subcommand("preload", "Load a model ahead of use (Ollama; vLLM/SGLang wake-up)");
  preload->add_option("model", po->model, "Model name")->required();
  preload->add_option("--keep-alive", po->keep_alive, "How long it stays loaded: 30m, 2h, -1 = forever");
  preload->add_option("--num-ctx", po->num_ctx, "Context per sequence (Ollama)")->check(CLI::Range(1, 1 << 24));
  preload->add_option("--num-gpu", po->num_gpu, "Layers on the GPU (Ollama)")->check(CLI::Range(0, 100000));
  preload->add_option("--runtime", po->runtime, "ollama, vllm, sglang, llama.cpp, a1111")->capture_default_str();
  add_endpoint_options(preload, po->endpoints);
  root.bind(preload, [po](CliContext& ctx) { return run_preload(ctx, *po); });
});

}  // namespace
}  // namespace memopt::cli

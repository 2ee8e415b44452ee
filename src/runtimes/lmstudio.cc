// LM Studio's own server (`lms server start`, port 1234; LM Studio 0.4+ REST
// API v1): GET /api/v1/models lists every downloaded model with its loaded
// instances and each instance's context length; POST /api/v1/models/unload
// frees one instance. Its engine is llama.cpp (or MLX on Apple), so the
// detector sees the LM Studio server process as a server that also embeds
// llama.cpp. One file and one registry line, as every runtime.
#include "runtimes/json_util.h"
#include "runtimes/registry.h"

namespace memopt::runtimes {
namespace {

using jsonu::json;

inline constexpr RuntimeKind kLmStudio{"lmstudio"};

class LmStudioClient : public RuntimeClient {
 public:
  LmStudioClient(const BaseUrl& base, const HttpOptions& options)
      : RuntimeClient(HttpClient(base, options)) {}
  RuntimeKind kind() const override { return kLmStudio; }

  Result<RuntimeInfo> info() const override {
    auto j = models_page();
    if (!j) return j.error();
    // The API has no version endpoint; answering /api/v1/models is ready.
    return RuntimeInfo{kind(), base_url(), "", true, "ok"};
  }

  Result<std::vector<LoadedModel>> loaded_models() const override {
    auto j = models_page();
    if (!j) return j.error();
    std::vector<LoadedModel> out;
    const json* models = jsonu::arr(*j, "models");
    if (models == nullptr) {
      return make_error("GET " + http_.url("/api/v1/models") +
                        ": no \"models\" list; is this LM Studio 0.4+?");
    }
    for (const json& m : *models) {
      const json* instances = jsonu::arr(m, "loaded_instances");
      if (instances == nullptr) continue;
      for (const json& inst : *instances) {
        LoadedModel lm;
        lm.runtime = kind();
        lm.endpoint = base_url();
        // What unload takes: the instance id (a model may be loaded twice).
        lm.name = jsonu::str(inst, "id");
        if (lm.name.empty()) continue;
        if (const json* cfg = jsonu::obj(inst, "config"))
          lm.context_tokens = jsonu::u64(*cfg, "context_length");
        // size_bytes is the model file's; the runtime does not say what the
        // instance holds beyond it, so it is the weights' floor, not the total.
        lm.parallel = 1;
        lm.unload_supported = true;
        out.push_back(std::move(lm));
        if (out.size() >= 4096) return out;
      }
    }
    return out;
  }

  Status unload(const std::string& model) const override {
    const json body = {{"instance_id", model}};
    auto r = http_.post("/api/v1/models/unload", body.dump());
    auto j = jsonu::expect_json(r, "POST", http_.url("/api/v1/models/unload"));
    if (!j) return j.error();
    return Ok{};
  }

 private:
  Result<json> models_page() const {
    return jsonu::expect_json(http_.get("/api/v1/models"), "GET", http_.url("/api/v1/models"));
  }
};

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kProgram, "llmster", 0.9},  // LM Studio's headless server
    {S::kLibraryPath, "/.lmstudio/", 0.85},
};
constexpr uint16_t kPorts[] = {1234};
constexpr HttpProbe kProbes[] = {{"/api/v1/models", "\"loaded_instances\""}};

ProbeAnswer identify(const HttpClient& http) {
  bool unreachable = false;
  auto j = jsonu::probe_json(http, "/api/v1/models", &unreachable);
  if (unreachable) return ProbeAnswer::kUnreachable;
  const json* models = j ? jsonu::arr(*j, "models") : nullptr;
  if (models == nullptr) return ProbeAnswer::kNo;
  for (const json& m : *models) {
    if (!jsonu::arr(m, "loaded_instances")) return ProbeAnswer::kNo;
  }
  return ProbeAnswer::kYes;
}

std::unique_ptr<RuntimeClient> make(const BaseUrl& b, const HttpOptions& o) {
  return std::make_unique<LmStudioClient>(b, o);
}

}  // namespace

extern const RuntimeDescriptor kLmStudioRuntime{
    .kind = kLmStudio,
    .name = "LM Studio",
    .role = RuntimeRole::kServer,
    .rules = kRules,
    .default_ports = kPorts,
    .probes = kProbes,
    .make_client = make,
    .identify = identify,
    .probe_order = 1,
    .cli_flag = "lmstudio",
    .capabilities = {.unload = true},
    .model_facts =
        "GET /api/v1/models (loaded_instances, config.context_length); POST /api/v1/models/unload",
};

}  // namespace memopt::runtimes

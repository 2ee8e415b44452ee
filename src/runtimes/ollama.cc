#include "runtimes/ollama.h"
#include "runtimes/registry.h"

#include <regex>

#include "runtimes/json_util.h"

namespace memopt::runtimes {

using jsonu::json;

Result<std::vector<LoadedModel>> parse_ollama_ps(std::string_view body, const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  const json* models = jsonu::arr(*j, "models");
  if (models == nullptr) {
    return make_error(where + ": no \"models\" array in the answer; is this Ollama's /api/ps?");
  }
  std::vector<LoadedModel> out;
  for (const json& m : *models) {
    if (!m.is_object()) continue;
    LoadedModel lm;
    lm.runtime = RuntimeKind::kOllama;
    lm.name = jsonu::str(m, "name");
    if (lm.name.empty()) lm.name = jsonu::str(m, "model");
    if (lm.name.empty()) continue;
    lm.size_bytes = jsonu::u64(m, "size");
    lm.vram_bytes = jsonu::u64(m, "size_vram");
    lm.context_tokens = jsonu::u64(m, "context_length");  // v0.10.0+
    lm.expires_at = jsonu::str(m, "expires_at");
    lm.digest = jsonu::str(m, "digest");
    out.push_back(std::move(lm));
  }
  return out;
}

Result<std::vector<OllamaInstalledModel>> parse_ollama_tags(std::string_view body,
                                                            const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  const json* models = jsonu::arr(*j, "models");
  if (models == nullptr) {
    return make_error(where + ": no \"models\" array in the answer; is this Ollama's /api/tags?");
  }
  std::vector<OllamaInstalledModel> out;
  for (const json& m : *models) {
    OllamaInstalledModel im;
    im.name = jsonu::str(m, "name");
    if (im.name.empty()) continue;
    im.size_bytes = jsonu::u64(m, "size").value_or(0);
    im.digest = jsonu::str(m, "digest");
    if (const json* d = jsonu::obj(m, "details")) {
      im.family = jsonu::str(*d, "family");
      im.parameter_size = jsonu::str(*d, "parameter_size");
      im.quantization_level = jsonu::str(*d, "quantization_level");
      im.context_length = jsonu::u64(*d, "context_length");
    }
    out.push_back(std::move(im));
  }
  return out;
}

Result<OllamaModelDetails> parse_ollama_show(std::string_view body, const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  const json* info = jsonu::obj(*j, "model_info");
  if (info == nullptr) {
    return make_error(where + ": no \"model_info\" object in the answer; is this /api/show?");
  }
  OllamaModelDetails d;
  d.architecture = jsonu::str(*info, "general.architecture");
  // The modelfile's FROM line names the GGUF blob on disk.
  std::string modelfile = jsonu::str(*j, "modelfile");
  for (size_t pos = 0; pos < modelfile.size();) {
    size_t nl = modelfile.find('\n', pos);
    std::string_view line(modelfile.data() + pos,
                          (nl == std::string::npos ? modelfile.size() : nl) - pos);
    if (line.substr(0, 5) == "FROM " && line.find("/blobs/") != std::string_view::npos) {
      d.model_path = std::string(line.substr(5));
      break;
    }
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  if (d.architecture.empty()) return d;
  const std::string p = d.architecture + ".";
  auto key = [&](const char* k) { return jsonu::u64(*info, (p + k).c_str()); };
  d.block_count = key("block_count");
  d.head_count = key("attention.head_count");
  d.head_count_kv = key("attention.head_count_kv");  // nullopt when it is a per-layer array
  d.key_length = key("attention.key_length");
  d.value_length = key("attention.value_length");
  d.embedding_length = key("embedding_length");
  d.context_length = key("context_length");
  d.sliding_window = key("attention.sliding_window");
  return d;
}

std::optional<uint64_t> OllamaModelDetails::kv_bytes_per_token_f16() const {
  // runtime-apis.md §8: bytes/token = n_layers × n_kv_heads × (k + v) × bytes
  // per element; head dim defaults to embedding_length / head_count. SWA
  // layers hold fewer tokens, so for those models this is an upper bound.
  if (!block_count || !head_count_kv) return std::nullopt;
  std::optional<uint64_t> k = key_length, v = value_length;
  if ((!k || !v) && embedding_length && head_count && *head_count > 0) {
    uint64_t dim = *embedding_length / *head_count;
    if (!k) k = dim;
    if (!v) v = dim;
  }
  if (!k || !v) return std::nullopt;
  // Bounds keep a hostile payload from overflowing the product.
  if (*block_count > 4096 || *head_count_kv > 4096 || *k > 65536 || *v > 65536) return std::nullopt;
  return *block_count * *head_count_kv * (*k + *v) * 2;
}

bool valid_keep_alive(std::string_view text) {
  // Go time.ParseDuration units, or a bare (possibly negative) integer.
  static const std::regex re(R"(^-?(\d+|((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+)$)");
  return !text.empty() && text.size() < 64 && std::regex_match(std::string(text), re);
}

std::string ollama_unload_request(const std::string& model) {
  return json{{"model", model}, {"keep_alive", 0}}.dump();
}

std::string ollama_preload_request(const std::string& model, const PreloadOptions& options) {
  json req{{"model", model}};
  if (!options.keep_alive.empty()) {
    const std::string& ka = options.keep_alive;
    bool integer = ka.find_first_not_of("-0123456789") == std::string::npos;
    if (integer) {
      req["keep_alive"] = std::stoll(ka);
    } else {
      req["keep_alive"] = ka;
    }
  }
  json opts = json::object();
  if (options.num_ctx) opts["num_ctx"] = *options.num_ctx;
  if (options.num_gpu) opts["num_gpu"] = *options.num_gpu;
  if (options.numa) opts["numa"] = *options.numa;
  if (!opts.empty()) req["options"] = opts;
  return req.dump();
}

Result<RuntimeInfo> OllamaClient::info() const {
  auto j = jsonu::expect_json(http_.get("/api/version"), "GET", http_.url("/api/version"));
  if (!j) return j.error();
  std::string version = jsonu::str(*j, "version");
  if (version.empty()) {
    return make_error("GET " + http_.url("/api/version") +
                      ": no \"version\" in the answer; this does not look like Ollama");
  }
  return RuntimeInfo{kind(), base_url(), version, true, "ok"};
}

Result<std::vector<LoadedModel>> OllamaClient::loaded_models() const {
  const std::string url = http_.url("/api/ps");
  auto r = http_.get("/api/ps");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  auto models = parse_ollama_ps(r->body, "GET " + url);
  if (!models) return models.error();
  for (LoadedModel& m : *models) m.endpoint = base_url();
  return models;
}

Result<std::vector<OllamaInstalledModel>> OllamaClient::installed_models() const {
  const std::string url = http_.url("/api/tags");
  auto r = http_.get("/api/tags");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  return parse_ollama_tags(r->body, "GET " + url);
}

Result<OllamaModelDetails> OllamaClient::show(const std::string& model) const {
  const std::string url = http_.url("/api/show");
  auto r = http_.post("/api/show", json{{"model", model}}.dump());
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("POST", url, *r);
  return parse_ollama_show(r->body, "POST " + url);
}

namespace {
// Checks a /api/generate load/unload answer: 200 and the expected done_reason.
Status check_generate(const Result<HttpResponse>& r, const std::string& url,
                      std::string_view expected_reason) {
  auto j = jsonu::expect_json(r, "POST", url);
  if (!j) return j.error();
  if (j->contains("error")) return make_error("POST " + url + ": " + server_message(r->body));
  std::string reason = jsonu::str(*j, "done_reason");
  if (reason != expected_reason) {
    return make_error("POST " + url + ": expected done_reason \"" + std::string(expected_reason) +
                      "\", got \"" + reason + "\"");
  }
  return Ok{};
}
}  // namespace

Status OllamaClient::unload(const std::string& model) const {
  // The server only marks the runner expired; the caller polls /api/ps.
  return check_generate(http_.post("/api/generate", ollama_unload_request(model)),
                        http_.url("/api/generate"), "unload");
}

Status OllamaClient::preload(const std::string& model, const PreloadOptions& options) const {
  // Loading a model can take far longer than a status poll.
  HttpOptions slow = http_.options();
  slow.read_timeout = std::max(slow.read_timeout, slow.load_timeout);
  slow.total_timeout = std::max(slow.total_timeout, slow.load_timeout);
  HttpClient loader(http_.base(), slow);
  return check_generate(loader.post("/api/generate", ollama_preload_request(model, options)),
                        loader.url("/api/generate"), "load");
}

}  // namespace memopt::runtimes

// The registry's entry for Ollama: its server and runner processes, port
// 11434 (OLLAMA_HOST), /api/ps for models and sizes, keep_alive for actions.
namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kCommand, "ollama serve", 0.95},
    {S::kCommand, "ollama runner", 0.95},
    {S::kProgram, "ollama_llama_server", 0.95},  // v0.3 and older
    {S::kExePath, "/lib/ollama/", 0.9},          // v0.30+: bundled llama-server child
    {S::kLibraryPath, "/lib/ollama/", 0.85},
};
constexpr uint16_t kPorts[] = {11434};
constexpr HttpProbe kProbes[] = {{"/api/version", "\"version\""}};

ProbeAnswer identify(const HttpClient& http) {
  bool unreachable = false;
  auto v = jsonu::probe_json(http, "/api/version", &unreachable);
  if (unreachable) return ProbeAnswer::kUnreachable;
  // {"version": "..."} and nothing else.
  return v && v->is_object() && v->size() == 1 && v->contains("version") ? ProbeAnswer::kYes
                                                                          : ProbeAnswer::kNo;
}

std::unique_ptr<RuntimeClient> make(const BaseUrl& b, const HttpOptions& o) {
  return std::make_unique<OllamaClient>(b, o);
}

}  // namespace

extern const RuntimeDescriptor kOllamaRuntime{
    .kind = RuntimeKind::kOllama,
    .name = "Ollama",
    .role = RuntimeRole::kServer,
    .rules = kRules,
    .default_ports = kPorts,
    .probes = kProbes,
    .make_client = make,
    .identify = identify,
    .probe_order = 0,
    .cli_flag = "ollama-host",
    .host_env = "OLLAMA_HOST",
    .parse_host = parse_ollama_host,
    .capabilities = {.unload = true, .preload = true, .reload = true},
    .model_facts = "GET /api/ps (size, size_vram, context_length), /api/show (layers, KV heads)",
};

}  // namespace memopt::runtimes

#include "runtimes/image_gen.h"
#include "runtimes/registry.h"

#include <algorithm>

#include "runtimes/json_util.h"

namespace memopt::runtimes {

using jsonu::json;

Result<ComfySystemStats> parse_comfyui_system_stats(std::string_view body,
                                                    const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  const json* devices = jsonu::arr(*j, "devices");
  if (devices == nullptr) {
    return make_error(where + ": no \"devices\" array; is this ComfyUI's /system_stats?");
  }
  ComfySystemStats st;
  if (const json* sys = jsonu::obj(*j, "system")) st.comfyui_version = jsonu::str(*sys, "comfyui_version");
  for (const json& d : *devices) {
    ComfyDevice cd;
    cd.name = jsonu::str(d, "name");
    cd.type = jsonu::str(d, "type");
    cd.vram_total_bytes = jsonu::u64(d, "vram_total");
    cd.vram_free_bytes = jsonu::u64(d, "vram_free");
    cd.torch_vram_total_bytes = jsonu::u64(d, "torch_vram_total");
    cd.torch_vram_free_bytes = jsonu::u64(d, "torch_vram_free");
    st.devices.push_back(std::move(cd));
  }
  return st;
}

Result<ComfySystemStats> ComfyUIClient::system_stats() const {
  const std::string url = http_.url("/system_stats");
  auto r = http_.get("/system_stats");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  return parse_comfyui_system_stats(r->body, "GET " + url);
}

Result<RenderQueue> parse_comfyui_queue(std::string_view body, const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  const json* running = jsonu::arr(*j, "queue_running");
  const json* pending = jsonu::arr(*j, "queue_pending");
  if (running == nullptr || pending == nullptr) {
    return make_error(where +
                      ": no \"queue_running\" and \"queue_pending\" arrays; is this "
                      "ComfyUI's /queue?");
  }
  RenderQueue q;
  q.running = running->size();
  q.pending = pending->size();
  // A running entry is [number, prompt_id, ...]: the id names it.
  if (!running->empty() && (*running)[0].is_array() && (*running)[0].size() > 1 &&
      (*running)[0][1].is_string()) {
    q.detail = "prompt " + (*running)[0][1].get<std::string>().substr(0, 64);
  }
  return q;
}

Result<RenderQueue> parse_a1111_progress(std::string_view body, const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  const json* state = jsonu::obj(*j, "state");
  if (state == nullptr || !j->contains("progress")) {
    return make_error(where +
                      ": no \"progress\" and \"state\" object; is this the AUTOMATIC1111 "
                      "API (--api)?");
  }
  const auto it = state->find("job_count");
  if (it == state->end() || !it->is_number_integer()) {
    return make_error(where + ": \"state.job_count\" is missing or not a whole number");
  }
  RenderQueue q;
  const int64_t count = it->is_number_unsigned()
                            ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), 1u << 30))
                            : it->get<int64_t>();
  if (count != 0) {
    q.running = 1;
    const auto no = jsonu::u64(*state, "job_no").value_or(0);
    if (count > 0 && static_cast<uint64_t>(count) > no + 1) {
      q.pending = static_cast<uint64_t>(count) - no - 1;
    }
    q.detail = jsonu::str(*state, "job").substr(0, 64);
  }
  return q;
}

Result<uint64_t> ComfyUIClient::queue_length() const {
  auto q = render_queue();
  if (!q) return q.error();
  return q->running + q->pending;
}

Result<RenderQueue> ComfyUIClient::render_queue() const {
  const std::string url = http_.url("/queue");
  auto r = http_.get("/queue");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  return parse_comfyui_queue(r->body, "GET " + url);
}

Result<RuntimeInfo> ComfyUIClient::info() const {
  auto st = system_stats();
  if (!st) return st.error();
  return RuntimeInfo{kind(), base_url(), st->comfyui_version, true, "ok"};
}

Result<std::vector<LoadedModel>> ComfyUIClient::loaded_models() const {
  auto st = system_stats();
  if (!st) return st.error();
  std::optional<uint64_t> reserved;
  for (const ComfyDevice& d : st->devices) {
    if (d.type == "cpu") continue;
    if (d.torch_vram_total_bytes) reserved = reserved.value_or(0) + *d.torch_vram_total_bytes;
  }
  std::vector<LoadedModel> out;
  if (reserved && *reserved > 0) {
    LoadedModel lm;
    lm.runtime = kind();
    lm.endpoint = base_url();
    lm.name = std::string(kComfyModelName);
    lm.vram_bytes = reserved;
    lm.size_bytes = reserved;
    if (auto q = queue_length(); q) {
      lm.requests_running = *q;
    }
    out.push_back(std::move(lm));
  }
  return out;
}

Status ComfyUIClient::unload(const std::string& model) const {
  if (!model.empty() && model != kComfyModelName) {
    return make_error("comfyui at " + base_url() + " cannot unload one model by name; use '" +
                      std::string(kComfyModelName) + "' to unload all of them");
  }
  const std::string url = http_.url("/free");
  auto r = http_.post("/free", json{{"unload_models", true}, {"free_memory", true}}.dump());
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("POST", url, *r);
  return Ok{};
}

namespace {
Result<std::string> a1111_checkpoint(const HttpClient& http) {
  auto j = jsonu::expect_json(http.get("/sdapi/v1/options"), "GET", http.url("/sdapi/v1/options"));
  if (!j) return j.error();
  if (!j->is_object() || !j->contains("sd_model_checkpoint")) {
    return make_error("GET " + http.url("/sdapi/v1/options") +
                      ": no \"sd_model_checkpoint\"; is this the AUTOMATIC1111 API (--api)?");
  }
  return jsonu::str(*j, "sd_model_checkpoint");
}
}  // namespace

Result<RuntimeInfo> A1111Client::info() const {
  auto c = a1111_checkpoint(http_);
  if (!c) return c.error();
  return RuntimeInfo{kind(), base_url(), "", true, "ok"};
}

Result<std::vector<LoadedModel>> A1111Client::loaded_models() const {
  auto c = a1111_checkpoint(http_);
  if (!c) return c.error();
  std::vector<LoadedModel> out;
  if (!c->empty()) {
    LoadedModel lm;
    lm.runtime = kind();
    lm.endpoint = base_url();
    lm.name = *c;
    out.push_back(std::move(lm));
  }
  return out;
}

Status A1111Client::unload(const std::string&) const {
  const std::string url = http_.url("/sdapi/v1/unload-checkpoint");
  auto r = http_.post("/sdapi/v1/unload-checkpoint", "");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("POST", url, *r);
  return Ok{};
}

Result<RenderQueue> A1111Client::render_queue() const {
  const std::string path = "/sdapi/v1/progress?skip_current_image=true";
  const std::string url = http_.url(path);
  auto r = http_.get(path);
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  return parse_a1111_progress(r->body, "GET " + url);
}

Status A1111Client::preload(const std::string&, const PreloadOptions& options) const {
  if (!options.keep_alive.empty() || options.num_ctx || options.num_gpu) {
    return make_error("not supported by a1111 at " + base_url() +
                      ": only the current checkpoint can be reloaded");
  }
  HttpOptions slow = http_.options();
  slow.read_timeout = std::max(slow.read_timeout, slow.load_timeout);
  slow.total_timeout = std::max(slow.total_timeout, slow.load_timeout);
  HttpClient loader(http_.base(), slow);
  const std::string url = loader.url("/sdapi/v1/reload-checkpoint");
  auto r = loader.post("/sdapi/v1/reload-checkpoint", "");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("POST", url, *r);
  return Ok{};
}

}  // namespace memopt::runtimes

// The registry's entries for the image-generation APIs: ComfyUI (detected
// here) and AUTOMATIC1111's API, which AUTOMATIC1111 and Forge speak (both
// detected as "stable-diffusion", stable_diffusion.cc).
namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kComfyRules[] = {
    {S::kScriptPath, "comfyui/main.py", 0.9},  // case-insensitive
    {S::kPythonCwd, "comfyui", 0.85},
    {S::kProgram, "comfy", 0.85, "comfy-cli"},
};
constexpr uint16_t kComfyPorts[] = {8188};
constexpr HttpProbe kComfyProbes[] = {{"/system_stats", "\"devices\""}};

ProbeAnswer identify_comfy(const HttpClient& http) {
  auto s = jsonu::probe_json(http, "/system_stats");
  return s && jsonu::arr(*s, "devices") ? ProbeAnswer::kYes : ProbeAnswer::kNo;
}

ProbeAnswer identify_a1111(const HttpClient& http) {
  auto o = jsonu::probe_json(http, "/sdapi/v1/options");
  return o && o->is_object() && o->contains("sd_model_checkpoint") ? ProbeAnswer::kYes
                                                                    : ProbeAnswer::kNo;
}

constexpr uint16_t kA1111Ports[] = {7860};

std::unique_ptr<RuntimeClient> make_comfy(const BaseUrl& b, const HttpOptions& o) {
  return std::make_unique<ComfyUIClient>(b, o);
}
std::unique_ptr<RuntimeClient> make_a1111(const BaseUrl& b, const HttpOptions& o) {
  return std::make_unique<A1111Client>(b, o);
}

}  // namespace

extern const RuntimeDescriptor kComfyUIRuntime{
    .kind = RuntimeKind::kComfyUI,
    .name = "ComfyUI",
    .role = RuntimeRole::kServer,
    .rules = kComfyRules,
    .default_ports = kComfyPorts,
    .probes = kComfyProbes,
    .make_client = make_comfy,
    .identify = identify_comfy,
    .probe_order = 5,
    .cli_flag = "comfyui",
    .capabilities = {.unload = true, .free_caches = true},
    .model_facts = "GET /system_stats (VRAM), /queue (running jobs); POST /free",
};

extern const RuntimeDescriptor kA1111Runtime{
    .kind = RuntimeKind::kA1111,
    .name = "AUTOMATIC1111",
    .role = RuntimeRole::kServer,
    .default_ports = kA1111Ports,
    .make_client = make_a1111,
    .identify = identify_a1111,
    .probe_order = 6,
    .cli_flag = "a1111",
    .capabilities = {.unload = true, .preload = true},
    .model_facts = "GET /sdapi/v1/options (checkpoint), /sdapi/v1/progress",
};

}  // namespace memopt::runtimes

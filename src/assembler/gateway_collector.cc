#include "assembler/gateway_collector.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/json_read.h"

namespace memopt::assembler {
namespace {

using json_read::get_double;
using json_read::get_text;
using json_read::get_u64;
using json_read::member;
using nlohmann::json;

// A gateway routes a handful of models over a handful of devices; a document
// with more rows than this is not one to render row by row.
constexpr size_t kMaxModels = 1024;
constexpr size_t kMaxDevices = 64;
constexpr uint64_t kMaxGpuIndex = 1024;
constexpr const char* kServeStateSchema = "ruvector-memopt.serve-state/1";

const char* const kStates[] = {"stopped", "loading", "ready",   "busy",
                               "evicting", "crashed", "external"};

int get_pid(const json& j, const char* key) {
  const auto v = get_u64(j, key).value_or(0);
  return v > 4194304 ? 0 : static_cast<int>(v);  // pid_max on Linux
}

}  // namespace

Result<runtimes::BaseUrl> gateway_base_url(const std::string& listen) {
  auto base = runtimes::parse_base_url(listen, 8080);
  if (!base) return base.error();
  if (base->host == "0.0.0.0" || base->host == "::" || base->host == "[::]") {
    base->host = "127.0.0.1";
  }
  return base;
}

Status read_serve_state(const json& doc, snapshot::GatewayStatus& into) {
  if (!doc.is_object()) return make_error("not a JSON object");
  const std::string schema = get_text(doc, "schema", 64);
  if (schema != kServeStateSchema) {
    return make_error("schema is '" + schema + "', not " + kServeStateSchema);
  }
  const json* models = member(doc, "models");
  if (models == nullptr || !models->is_array()) return make_error("no \"models\" array");
  if (models->size() > kMaxModels) {
    return make_error("\"models\" has " + std::to_string(models->size()) + " entries (at most " +
                      std::to_string(kMaxModels) + " read)");
  }
  if (const json* devs = member(doc, "devices"); devs && devs->is_array()) {
    for (const json& d : *devs) {
      if (into.devices.size() >= kMaxDevices) break;
      // The GPU's index (absent or null: RAM, or a gateway older than the field).
      const uint64_t gpu = get_u64(d, "gpu").value_or(UINT64_MAX);
      into.devices.push_back({get_text(d, "device", 128), get_u64(d, "budget_bytes").value_or(0),
                              get_u64(d, "planned_bytes").value_or(0),
                              gpu < kMaxGpuIndex ? static_cast<int>(gpu) : -1});
    }
  }
  for (const json& m : *models) {
    snapshot::GatewayModel g;
    g.name = get_text(m, "name", 128);
    if (g.name.empty()) return make_error("a model without a \"name\"");
    g.state = get_text(m, "state", 16);
    if (std::find(std::begin(kStates), std::end(kStates), g.state) == std::end(kStates)) {
      return make_error("model \"" + g.name + "\": unknown state '" + g.state + "'");
    }
    if (const json* p = member(m, "planned_bytes"); p && p->is_array()) {
      for (const json& b : *p) {
        if (g.planned_bytes.size() >= kMaxDevices) break;
        g.planned_bytes.push_back(get_u64(json{{"b", b}}, "b").value_or(0));
      }
    }
    g.pid = get_pid(m, "pid");
    g.port = static_cast<int>(std::min<uint64_t>(get_u64(m, "port").value_or(0), 65535));
    g.rss_bytes = get_u64(m, "rss_bytes").value_or(0);
    g.queued = get_u64(m, "queued").value_or(0);
    g.in_flight = get_u64(m, "in_flight").value_or(0);
    g.oldest_wait_seconds = std::max(0.0, get_double(m, "oldest_wait_seconds").value_or(0));
    if (auto w = get_double(m, "mean_wait_seconds"); w && *w >= 0) g.mean_wait_seconds = w;
    g.runtime = get_text(m, "runtime", 32);
    g.last_error = get_text(m, "last_error", 1024);
    into.models.push_back(std::move(g));
  }
  if (const json* h = member(doc, "handoff"); h && h->is_object() && h->value("enabled", false)) {
    snapshot::GatewayHandoff gh;
    gh.phase = get_text(*h, "phase", 16);
    gh.mode = get_text(*h, "mode", 16);
    gh.handoffs = get_u64(*h, "handoffs").value_or(0);
    gh.requests_held = get_u64(*h, "requests_held").value_or(0);
    gh.requests_rejected = get_u64(*h, "requests_rejected").value_or(0);
    if (const json* servers = member(*h, "servers"); servers && servers->is_array()) {
      for (const json& s : *servers) {
        if (get_u64(s, "running").value_or(0) + get_u64(s, "pending").value_or(0) == 0) continue;
        gh.rendering_on = get_text(s, "runtime", 16) + " at " + get_text(s, "url", 256);
        break;
      }
    }
    into.handoff = std::move(gh);
  }
  return Ok{};
}

snapshot::GatewayStatus gateway_status_from_document(const GatewayTarget& target,
                                                     const json& doc,
                                                     const std::string& source) {
  snapshot::GatewayStatus out;
  out.listen = target.listen;
  if (auto st = read_serve_state(doc, out); !st) {
    out.devices.clear();
    out.models.clear();
    out.handoff.reset();
    out.error = source + ": " + st.error().message;
    return out;
  }
  out.reachable = true;
  return out;
}

snapshot::GatewayStatus collect_gateway(const GatewayTarget& target,
                                        const runtimes::HttpOptions& http) {
  snapshot::GatewayStatus out;
  out.listen = target.listen;
  if (!target.config_error.empty()) {
    out.error = target.config_error;
    return out;
  }
  auto base = gateway_base_url(target.listen);
  if (!base) {
    out.error = "[serve] listen '" + target.listen + "': " + base.error().message;
    return out;
  }
  runtimes::HttpOptions o = http;
  o.bearer_token = target.api_key;
  // A serve-state document is a few KB per model.
  o.max_body_bytes = std::min<uint64_t>(o.max_body_bytes, 4ULL << 20);
  runtimes::HttpClient client(*base, o);
  auto r = client.get("/serve/state");
  if (!r) {
    out.error = r.error().message;
    return out;
  }
  if (r->status != 200) {
    out.error = runtimes::http_status_error("GET", client.url("/serve/state"), *r).message;
    return out;
  }
  const json doc = json::parse(r->body, nullptr, false);
  if (doc.is_discarded()) {
    out.error = "GET " + client.url("/serve/state") + ": the body is not JSON (" +
                std::to_string(r->body.size()) + " bytes; cut short?)";
    return out;
  }
  return gateway_status_from_document(target, doc, "GET " + client.url("/serve/state"));
}

}  // namespace memopt::assembler

#include "ui/source.h"

#include <fmt/format.h>
#include <httplib.h>

#include <array>
#include <ctime>
#include <nlohmann/json.hpp>

#include "ui/dashboard_json.h"

namespace memopt::ui {
namespace {

using nlohmann::json;

// The seed's built-in profiles, in the order its tray menu lists them.
constexpr std::array<const char*, 3> kBuiltinProfiles = {"local_llm", "batch_inference",
                                                         "image_generation"};

// A daemon's answer larger than this is not a dashboard; stop reading.
constexpr size_t kMaxBody = 8u << 20;

class DaemonSource : public DashboardSource {
 public:
  DaemonSource(std::string base_url, std::string token, ProfileLookup lookup)
      : base_(std::move(base_url)), token_(std::move(token)), lookup_(std::move(lookup)), client_(base_) {
    client_.set_connection_timeout(1, 0);
    client_.set_read_timeout(2, 0);
    client_.set_write_timeout(2, 0);
  }

  Result<Dashboard> sample() override {
    auto status = get_json("/api/v1/status");
    if (!status) return status.error();
    Dashboard d = dashboard_from_status(*status);
    d.source = base_;
    // History and actions are extras: a daemon that lacks them still shows.
    json answers[5];
    for (size_t i = 0; i < 5; ++i) {
      if (auto h = get_json(std::string("/api/v1/history?since=600&series=") + kHistorySeries[i])) {
        answers[i] = std::move(*h);
      }
    }
    add_history(d, answers);
    if (auto a = get_json("/api/v1/actions?limit=20")) add_actions(d, *a, utc_offset_seconds());
    last_profile_ = d.profile ? d.profile->name : "";
    // The status names the profile; its thresholds come from the same config
    // the daemon reads (it runs as this user on this machine).
    if (d.profile && lookup_) {
      if (auto p = lookup_(d.profile->name)) d.profile = *p;
    }
    return d;
  }

  Result<std::string> unload(const WorkloadView& w) override {
    if (w.model.empty()) return make_error("the selected row has no model to unload");
    json body = {{"runtime", w.runtime}, {"model", w.model}};
    if (!w.endpoint.empty()) body["endpoint"] = w.endpoint;
    auto r = post("/api/v1/unload", body);
    if (!r) return r.error();
    return "unload " + w.model + ": " + outcome_text(*r);
  }

  Result<std::string> next_profile() override {
    const std::string next = next_builtin_profile(last_profile_);
    auto r = post("/api/v1/profile", json{{"name", next}});
    if (!r) return r.error();
    if (r->is_object() && r->contains("profile") && (*r)["profile"].is_string()) {
      return "profile " + (*r)["profile"].get<std::string>().substr(0, 64);
    }
    return "profile " + next;
  }

  Result<std::string> optimize() override {
    // A key press is the user asking for it now: applied, not a dry run.
    auto r = post("/api/v1/optimize", json{{"apply", true}});
    if (!r) return r.error();
    size_t n = 0;
    if (r->is_object() && r->contains("actions") && (*r)["actions"].is_array()) n = (*r)["actions"].size();
    return fmt::format("optimize: {} action{}", n, n == 1 ? "" : "s");
  }

 private:
  Result<json> get_json(const std::string& path) {
    std::string body;
    bool too_big = false;
    auto res = client_.Get(path, httplib::Headers{}, [&](const char* data, size_t n) {
      if (body.size() + n > kMaxBody) {
        too_big = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    const std::string url = base_ + path;
    if (too_big) return make_error(fmt::format("GET {}: answer larger than {} bytes", url, kMaxBody));
    if (!res) {
      return make_error(fmt::format("GET {}: {} (is `ruvector-memopt daemon` running there?)", url,
                                    httplib::to_string(res.error())));
    }
    if (res->status != 200) return make_error(fmt::format("GET {}: HTTP {}", url, res->status));
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) return make_error(fmt::format("GET {}: the answer is not JSON", url));
    return j;
  }

  // Local time minus UTC now, in seconds: the UTC calendar fields read back
  // as local time (mktime) fall short of now by the offset. Portable (no
  // tm_gmtoff on Windows).
  static int64_t utc_offset_seconds() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    if (gmtime_r(&now, &utc) == nullptr) return 0;
    utc.tm_isdst = -1;
    const std::time_t as_local = std::mktime(&utc);
    if (as_local == static_cast<std::time_t>(-1)) return 0;
    return static_cast<int64_t>(std::difftime(now, as_local));
  }

  // What a reply says happened: {"action": {"outcome"}}, {"message"}, or ok.
  static std::string outcome_text(const json& j) {
    if (j.is_object() && j.contains("action") && j["action"].is_object()) {
      const json& a = j["action"];
      if (a.contains("outcome") && a["outcome"].is_string()) return a["outcome"].get<std::string>().substr(0, 200);
    }
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      return j["message"].get<std::string>().substr(0, 200);
    }
    return "ok";
  }

  // A state-changing call: the parsed reply, or an error with the daemon's
  // own message ({"error": ...}) and the HTTP status.
  Result<json> post(const std::string& path, const json& body) {
    httplib::Headers headers;
    if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
    auto res = client_.Post(path, headers, body.dump(), "application/json");
    const std::string url = base_ + path;
    if (!res) return make_error(fmt::format("POST {}: {}", url, httplib::to_string(res.error())));
    if (res->status == 401) {
      return make_error(fmt::format("POST {}: 401 unauthorized: pass the daemon's token (--token-file)", url));
    }
    json j = json::parse(res->body.substr(0, kMaxBody), nullptr, false);
    if (res->status < 200 || res->status >= 300) {
      std::string text;
      if (j.is_object()) {
        if (j.contains("error") && j["error"].is_string()) text = j["error"].get<std::string>().substr(0, 200);
        else text = outcome_text(j);
      }
      return make_error(fmt::format("POST {}: HTTP {}{}{}", url, res->status, text.empty() ? "" : ": ", text));
    }
    return j.is_discarded() ? json::object() : j;
  }

  std::string base_;
  std::string token_;
  ProfileLookup lookup_;
  httplib::Client client_;
  std::string last_profile_;
};

class StandaloneSource : public DashboardSource {
 public:
  explicit StandaloneSource(StandaloneHooks hooks) : hooks_(std::move(hooks)) {}

  Result<Dashboard> sample() override {
    if (!hooks_.status) return make_error("no status collector");
    auto snap = hooks_.status();
    if (!snap) return snap.error();
    Dashboard d = dashboard_from_snapshot(*snap);
    d.source = "standalone";
    if (hooks_.active_profile) {
      // A profile with its thresholds replaces the bare name from the status.
      if (auto p = hooks_.active_profile()) d.profile = *p;
      else d.warnings.push_back(p.error().message);
    }
    return d;
  }
  Result<std::string> unload(const WorkloadView& w) override {
    if (!hooks_.unload) return make_error("unload needs a runtime client; run with --daemon URL");
    return hooks_.unload(w);
  }
  Result<std::string> next_profile() override {
    if (!hooks_.next_profile) return make_error("profiles are not available in this build");
    return hooks_.next_profile();
  }
  Result<std::string> optimize() override {
    if (!hooks_.optimize) return make_error("optimize needs the policy engine; run with --daemon URL");
    return hooks_.optimize();
  }

 private:
  StandaloneHooks hooks_;
};

}  // namespace

std::string next_builtin_profile(const std::string& current) {
  for (size_t i = 0; i < kBuiltinProfiles.size(); ++i) {
    if (current == kBuiltinProfiles[i]) return kBuiltinProfiles[(i + 1) % kBuiltinProfiles.size()];
  }
  return kBuiltinProfiles[0];
}

std::unique_ptr<DashboardSource> make_daemon_source(const std::string& base_url,
                                                    const std::string& token, ProfileLookup lookup) {
  return std::make_unique<DaemonSource>(base_url, token, std::move(lookup));
}

std::unique_ptr<DashboardSource> make_standalone_source(StandaloneHooks hooks) {
  return std::make_unique<StandaloneSource>(std::move(hooks));
}

}  // namespace memopt::ui

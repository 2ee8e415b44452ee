#pragma once
// Internal to src/runtimes (.cc files only): defensive JSON access for
// payloads from runtimes, which may be old, new, partial or hostile.
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "runtimes/http.h"
#include "util/result.h"

namespace memopt::runtimes::jsonu {

using nlohmann::json;

// Parses a body; the error names the URL and says the body was not JSON.
inline Result<json> parse(std::string_view body, const std::string& where) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    std::string head(body.substr(0, 60));
    for (char& c : head) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return make_error(where + ": the answer is not valid JSON (starts with '" + head +
                      "'); is this the right runtime and port?");
  }
  return j;
}

// GET/POST result → JSON value, with the HTTP status checked.
inline Result<json> expect_json(const Result<HttpResponse>& r, std::string_view method,
                                const std::string& url) {
  if (!r) return r.error();
  if (r->status < 200 || r->status >= 300) return http_status_error(method, url, *r);
  return parse(r->body, std::string(method) + " " + url);
}

// One identification GET for probe(): the JSON body of a 200 answer, or
// nullopt. `unreachable` is set when nothing answered at all.
inline std::optional<json> probe_json(const HttpClient& http, const char* path,
                                      bool* unreachable = nullptr) {
  auto r = http.get(path);
  if (!r) {
    if (unreachable != nullptr) *unreachable = true;
    return std::nullopt;
  }
  if (r->status != 200) return std::nullopt;
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// The owned_by of the first model in an OpenAI-style GET /v1/models answer.
inline std::string first_model_owner(const HttpClient& http) {
  auto m = probe_json(http, "/v1/models");
  if (!m || !m->is_object() || !m->contains("data") || !(*m)["data"].is_array() ||
      (*m)["data"].empty()) {
    return "";
  }
  const json& first = (*m)["data"][0];
  if (!first.is_object() || !first.contains("owned_by") || !first["owned_by"].is_string()) {
    return "";
  }
  return first["owned_by"].get<std::string>();
}

inline std::string str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : "";
}

// A non-negative integer field; floats with an integral value are accepted
// (Python servers write 512.0), anything else is unknown.
inline std::optional<uint64_t> u64(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    return v >= 0 ? std::optional<uint64_t>(static_cast<uint64_t>(v)) : std::nullopt;
  }
  if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::isfinite(v) && v >= 0 && v < 1.8e19 && std::floor(v) == v) {
      return static_cast<uint64_t>(v);
    }
  }
  return std::nullopt;
}

inline std::optional<double> num(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

inline std::optional<bool> boolean(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

inline const json* obj(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return (it != j.end() && it->is_object()) ? &*it : nullptr;
}

inline const json* arr(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return (it != j.end() && it->is_array()) ? &*it : nullptr;
}

}  // namespace memopt::runtimes::jsonu

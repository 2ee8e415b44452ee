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

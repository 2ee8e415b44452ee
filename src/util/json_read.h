#pragma once
// Defensive reads of an untrusted JSON document (a daemon's status, a
// payload): a missing member, null or a wrong type is "absent", numbers
// must be finite and in range, nothing throws. Shared by the Snapshot's
// reader and the dashboard's history/actions readers.
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace memopt::json_read {

inline const nlohmann::json* member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

inline std::optional<uint64_t> get_u64(const nlohmann::json& j, const char* key) {
  const nlohmann::json* v = member(j, key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) {
    const auto i = v->get<int64_t>();
    return i < 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(i));
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < 0 || d >= 1.8e19) return std::nullopt;
    return static_cast<uint64_t>(d);
  }
  return std::nullopt;
}

inline std::optional<double> get_double(const nlohmann::json& j, const char* key) {
  const nlohmann::json* v = member(j, key);
  if (!v || !v->is_number()) return std::nullopt;
  const double d = v->get<double>();
  return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

// A bounded string without control characters ("" when absent or not a
// string): a hostile document must not paint escape sequences through a view.
inline std::string get_text(const nlohmann::json& j, const char* key, size_t max = 1024) {
  const nlohmann::json* v = member(j, key);
  if (!v || !v->is_string()) return "";
  const auto& s = v->get_ref<const std::string&>();
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

inline bool get_bool(const nlohmann::json& j, const char* key) {
  const nlohmann::json* v = member(j, key);
  return v && v->is_boolean() && v->get<bool>();
}

}  // namespace memopt::json_read

#include "runtimes/models_view.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace memopt::runtimes {

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
// (Howard Hinnant's days_from_civil algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

std::string compact_tokens(uint64_t n) {
  char buf[32];
  if (n >= 10'000'000) {
    std::snprintf(buf, sizeof buf, "%.0fM", n / 1e6);
  } else if (n >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  } else if (n >= 10'000) {
    std::snprintf(buf, sizeof buf, "%.0fk", n / 1e3);
  } else if (n >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  }
  return buf;
}

template <typename T>
nlohmann::json figure_json(const Figure<T>& f) {
  if (!f.known()) return nullptr;
  return {{"value", *f.value}, {"source", std::string(provenance_name(f.source))}};
}

template <typename T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

std::optional<int64_t> parse_rfc3339(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, se)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om)) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * 86400 + h * 3600 + mi * 60 + se - offset;
}

std::optional<int64_t> expires_in_seconds(const LoadedModel& m, int64_t now_unix) {
  if (m.expires_at.empty()) return std::nullopt;
  auto t = parse_rfc3339(m.expires_at);
  if (!t) return std::nullopt;
  // keep_alive < 0 sets expires_at to now + MaxInt64 ns (~292 years): "never".
  if (*t - now_unix > 100LL * 365 * 86400) return std::nullopt;
  return *t - now_unix;
}

std::string expiry_text(const LoadedModel& m, int64_t now_unix) {
  if (m.expires_at.empty()) return "-";
  auto t = parse_rfc3339(m.expires_at);
  if (!t) return "?";
  auto in = expires_in_seconds(m, now_unix);
  if (!in) return "never";
  if (*in <= 0) return "stopping";
  if (*in < 90) return "in " + std::to_string(*in) + "s";
  if (*in < 90 * 60) return "in " + std::to_string((*in + 30) / 60) + "m";
  if (*in < 48 * 3600) return "in " + std::to_string((*in + 1800) / 3600) + "h";
  return "in " + std::to_string((*in + 43200) / 86400) + "d";
}

std::string processor_text(const LoadedModel& m) {
  if (!m.size_bytes || !m.vram_bytes || *m.size_bytes == 0) return "-";
  if (*m.vram_bytes > *m.size_bytes) return "?";
  if (*m.vram_bytes == *m.size_bytes) return "100% GPU";
  if (*m.vram_bytes == 0) return "100% CPU";
  // Same split as `ollama ps` (cmd/cmd.go): CPU share rounded down.
  int cpu = static_cast<int>(100.0 * static_cast<double>(*m.size_bytes - *m.vram_bytes) /
                             static_cast<double>(*m.size_bytes));
  return std::to_string(cpu) + "%/" + std::to_string(100 - cpu) + "% CPU/GPU";
}

std::string kv_text(const KVCacheMetrics& kv) {
  if (kv.empty()) return "-";
  bool est = false;
  std::string out;
  if (kv.usage_ratio.known() && std::isfinite(*kv.usage_ratio.value)) {
    out = std::to_string(static_cast<int>(std::lround(*kv.usage_ratio.value * 100))) + "%";
    est |= kv.usage_ratio.source == Provenance::kEstimated;
  }
  if (kv.capacity_tokens.known()) {
    if (!out.empty()) out += " ";
    out += (kv.used_tokens.known() ? compact_tokens(*kv.used_tokens.value) : std::string("?")) +
           "/" + compact_tokens(*kv.capacity_tokens.value);
    est |= kv.capacity_tokens.source == Provenance::kEstimated ||
           (kv.used_tokens.known() && kv.used_tokens.source == Provenance::kEstimated);
  }
  if (out.empty()) out = "?";
  return est ? out + "~" : out;
}

nlohmann::json kv_to_json(const KVCacheMetrics& kv) {
  return {{"capacity_tokens", figure_json(kv.capacity_tokens)},
          {"used_tokens", figure_json(kv.used_tokens)},
          {"capacity_bytes", figure_json(kv.capacity_bytes)},
          {"used_bytes", figure_json(kv.used_bytes)},
          {"usage_ratio", figure_json(kv.usage_ratio)},
          {"basis", kv.basis}};
}

nlohmann::json model_to_json(const LoadedModel& m, int64_t now_unix) {
  nlohmann::json gpu_share = nullptr;
  if (m.size_bytes && m.vram_bytes && *m.size_bytes > 0 && *m.vram_bytes <= *m.size_bytes) {
    gpu_share = static_cast<double>(*m.vram_bytes) / static_cast<double>(*m.size_bytes);
  }
  return {{"runtime", std::string(runtime_name(m.runtime))},
          {"endpoint", m.endpoint},
          {"name", m.name},
          {"state", m.state},
          {"size_bytes", opt(m.size_bytes)},
          {"vram_bytes", opt(m.vram_bytes)},
          {"gpu_share", gpu_share},
          {"context_tokens", opt(m.context_tokens)},
          {"parallel", opt(m.parallel)},
          {"expires_at", m.expires_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.expires_at)},
          {"expires_in_s", opt(expires_in_seconds(m, now_unix))},
          {"model_path", m.model_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.model_path)},
          {"requests_running", opt(m.requests_running)},
          {"requests_waiting", opt(m.requests_waiting)},
          {"kv_cache", kv_to_json(m.kv)}};
}

}  // namespace memopt::runtimes

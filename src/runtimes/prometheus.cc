#include "runtimes/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace memopt::runtimes {
namespace {

constexpr size_t kMaxIssues = 50;
// A label set this large is not a real exporter; refuse it rather than grow.
constexpr size_t kMaxLabels = 128;

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Go ParseFloat spellings as Prometheus writes them: decimals, exponents,
// NaN, +Inf, -Inf (and Inf).
std::optional<double> parse_value(std::string_view t) {
  if (t.empty()) return std::nullopt;
  bool neg = false;
  std::string_view body = t;
  if (body.front() == '+' || body.front() == '-') {
    neg = body.front() == '-';
    body.remove_prefix(1);
  }
  if (iequals(body, "inf") || iequals(body, "infinity")) {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (iequals(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
  if (body.empty() || body.front() == '+' || body.front() == '-') return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v,
                                 std::chars_format::general);
  if (p != body.data() + body.size()) return std::nullopt;
  // Out of range: from_chars reports it; the value is still meaningful as ±Inf/0.
  if (ec == std::errc::result_out_of_range) {
    v = (body.find_first_of("eE") != std::string_view::npos &&
         body.find("e-") == std::string_view::npos && body.find("E-") == std::string_view::npos)
            ? std::numeric_limits<double>::infinity()
            : 0.0;
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return neg ? -v : v;
}

std::optional<MetricType> parse_type(std::string_view t) {
  if (t == "counter") return MetricType::kCounter;
  if (t == "gauge") return MetricType::kGauge;
  if (t == "histogram") return MetricType::kHistogram;
  if (t == "summary") return MetricType::kSummary;
  if (t == "untyped") return MetricType::kUntyped;
  if (t == "unknown") return MetricType::kUnknown;
  if (t == "info") return MetricType::kInfo;
  if (t == "stateset") return MetricType::kStateset;
  if (t == "gaugehistogram") return MetricType::kGaugeHistogram;
  return std::nullopt;
}

// The series-name suffixes each type may add to its family name (§6.6).
bool suffix_allowed(MetricType type, std::string_view suffix) {
  switch (type) {
    case MetricType::kHistogram:
      return suffix == "_bucket" || suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::kGaugeHistogram:
      return suffix == "_bucket" || suffix == "_gsum" || suffix == "_gcount";
    case MetricType::kSummary:
      return suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::kCounter:
      return suffix == "_total" || suffix == "_created";
    case MetricType::kInfo:
      return suffix == "_info";
    default:
      return false;
  }
}

std::string unescape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == 'n')) {
      out += s[i + 1] == 'n' ? '\n' : '\\';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

class Parser {
 public:
  explicit Parser(MetricsPage& page) : page_(page) {}

  void line(std::string_view l, size_t lineno) {
    lineno_ = lineno;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    size_t b = 0;
    while (b < l.size() && is_blank(l[b])) ++b;
    l.remove_prefix(b);
    while (!l.empty() && is_blank(l.back())) l.remove_suffix(1);
    if (l.empty()) return;
    if (l.front() == '#') {
      comment(l);
    } else {
      sample(l);
    }
  }

 private:
  void issue(std::string msg) {
    if (page_.issues.size() < kMaxIssues) {
      page_.issues.push_back({lineno_, std::move(msg)});
    } else {
      ++page_.issues_dropped;
    }
  }

  size_t family_index(std::string_view name) {
    auto it = index_.find(std::string(name));
    if (it != index_.end()) return it->second;
    page_.families.push_back(MetricFamily{std::string(name), MetricType::kUntyped, "", "", {}});
    index_.emplace(std::string(name), page_.families.size() - 1);
    return page_.families.size() - 1;
  }

  static std::string_view next_token(std::string_view& rest) {
    size_t b = 0;
    while (b < rest.size() && is_blank(rest[b])) ++b;
    size_t e = b;
    while (e < rest.size() && !is_blank(rest[e])) ++e;
    std::string_view tok = rest.substr(b, e - b);
    rest.remove_prefix(e);
    return tok;
  }

  void comment(std::string_view l) {
    std::string_view rest = l.substr(1);
    std::string_view keyword = next_token(rest);
    if (keyword == "EOF" && next_token(rest).empty()) {
      page_.saw_eof = true;
      return;
    }
    if (keyword != "HELP" && keyword != "TYPE" && keyword != "UNIT") return;  // a plain comment
    std::string_view name = next_token(rest);
    if (name.empty() || !name_start(name.front()) ||
        !std::all_of(name.begin(), name.end(), name_char)) {
      issue("# " + std::string(keyword) + " without a valid metric name");
      return;
    }
    size_t b = 0;
    while (b < rest.size() && is_blank(rest[b])) ++b;
    rest.remove_prefix(b);
    size_t fi = family_index(name);
    MetricFamily& fam = page_.families[fi];
    current_ = fi;
    if (keyword == "HELP") {
      fam.help = unescape_help(rest);
    } else if (keyword == "UNIT") {
      fam.unit = std::string(rest);
    } else {
      auto t = parse_type(rest);
      if (!t) {
        issue("unknown metric type '" + std::string(rest) + "' for " + std::string(name));
        return;
      }
      if (!fam.samples.empty()) issue("# TYPE for " + std::string(name) + " after its samples");
      fam.type = *t;
    }
  }

  // Parses a double-quoted string starting at s[i] == '"'; advances i past it.
  bool quoted(std::string_view s, size_t& i, std::string& out) {
    ++i;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        ++i;
        return true;
      }
      if (c == '\\' && i + 1 < s.size()) {
        char n = s[i + 1];
        if (n == 'n') {
          out += '\n';
        } else if (n == '\\' || n == '"') {
          out += n;
        } else {
          // Not a defined escape; keep it as written.
          out += c;
          out += n;
        }
        i += 2;
        continue;
      }
      out += c;
      ++i;
    }
    return false;
  }

  void sample(std::string_view l) {
    Sample s;
    size_t i = 0;
    if (name_start(l[0])) {
      while (i < l.size() && name_char(l[i])) ++i;
      s.name = std::string(l.substr(0, i));
    } else if (l[0] != '{') {
      issue("a sample line must start with a metric name");
      return;
    }
    // Lenient: blanks between the name and '{' (Go's expfmt accepts them).
    size_t after_name = i;
    while (i < l.size() && is_blank(l[i])) ++i;
    if (i >= l.size() || l[i] != '{') i = after_name;
    if (i < l.size() && l[i] == '{') {
      ++i;
      for (;;) {
        while (i < l.size() && is_blank(l[i])) ++i;
        if (i >= l.size()) {
          issue("unterminated label set");
          return;
        }
        if (l[i] == '}') {
          ++i;
          break;
        }
        std::string lname;
        bool was_quoted = false;
        if (l[i] == '"') {
          was_quoted = true;
          if (!quoted(l, i, lname)) {
            issue("unterminated quoted name");
            return;
          }
        } else if (name_start(l[i]) && l[i] != ':') {
          size_t b = i;
          while (i < l.size() && name_char(l[i]) && l[i] != ':') ++i;
          lname = std::string(l.substr(b, i - b));
        } else {
          issue("bad label name at column " + std::to_string(i + 1));
          return;
        }
        while (i < l.size() && is_blank(l[i])) ++i;
        if (i < l.size() && (l[i] == ',' || l[i] == '}') && was_quoted && s.name.empty()) {
          // Prometheus 3 UTF-8 form: {"my.metric", l="v"}.
          s.name = lname;
          if (l[i] == ',') ++i;
          continue;
        }
        if (i >= l.size() || l[i] != '=') {
          issue("expected '=' after label " + lname);
          return;
        }
        ++i;
        while (i < l.size() && is_blank(l[i])) ++i;
        if (i >= l.size() || l[i] != '"') {
          issue("label " + lname + " has an unquoted value");
          return;
        }
        std::string lvalue;
        if (!quoted(l, i, lvalue)) {
          issue("unterminated value of label " + lname);
          return;
        }
        if (s.labels.size() >= kMaxLabels) {
          issue("more than " + std::to_string(kMaxLabels) + " labels");
          return;
        }
        s.labels.push_back({std::move(lname), std::move(lvalue)});
        while (i < l.size() && is_blank(l[i])) ++i;
        if (i < l.size() && l[i] == ',') {
          ++i;  // a trailing comma before '}' is legal
        } else if (i >= l.size() || l[i] != '}') {
          issue("expected ',' or '}' in label set");
          return;
        }
      }
    }
    if (s.name.empty()) {
      issue("a sample without a metric name");
      return;
    }
    std::string_view rest = l.substr(i);
    std::string_view value_tok = next_token(rest);
    auto v = parse_value(value_tok);
    if (!v) {
      issue("bad value '" + std::string(value_tok.substr(0, 40)) + "' for " + s.name);
      return;
    }
    s.value = *v;
    std::string_view ts_tok = next_token(rest);
    if (!ts_tok.empty() && ts_tok.front() != '#') {
      auto ts = parse_value(ts_tok);
      if (!ts || !std::isfinite(*ts)) {
        issue("bad timestamp '" + std::string(ts_tok.substr(0, 40)) + "' for " + s.name);
        return;
      }
      s.timestamp = *ts;
      ts_tok = next_token(rest);
    }
    // What may follow is an OpenMetrics exemplar (" # {...} v [ts]"), ignored.
    if (!ts_tok.empty() && ts_tok.front() != '#') {
      issue("unexpected text after the value of " + s.name);
      return;
    }
    std::sort(s.labels.begin(), s.labels.end(),
              [](const Label& a, const Label& b) { return a.name < b.name; });
    for (size_t k = 1; k < s.labels.size(); ++k) {
      if (s.labels[k].name == s.labels[k - 1].name) {
        issue("label " + s.labels[k].name + " repeated in " + s.name);
        return;
      }
    }
    page_.families[family_for(s.name)].samples.push_back(std::move(s));
  }

  bool belongs(const MetricFamily& fam, std::string_view sample_name) const {
    if (sample_name == fam.name) return true;
    if (sample_name.size() <= fam.name.size() ||
        sample_name.substr(0, fam.name.size()) != fam.name) {
      return false;
    }
    return suffix_allowed(fam.type, sample_name.substr(fam.name.size()));
  }

  size_t family_for(std::string_view sample_name) {
    if (current_ < page_.families.size() && belongs(page_.families[current_], sample_name)) {
      return current_;
    }
    if (auto it = index_.find(std::string(sample_name)); it != index_.end()) return it->second;
    for (std::string_view suffix :
         {"_bucket", "_sum", "_count", "_created", "_total", "_info", "_gsum", "_gcount"}) {
      if (sample_name.size() > suffix.size() &&
          sample_name.substr(sample_name.size() - suffix.size()) == suffix) {
        auto it = index_.find(std::string(sample_name.substr(0, sample_name.size() - suffix.size())));
        if (it != index_.end() && belongs(page_.families[it->second], sample_name)) {
          return it->second;
        }
      }
    }
    // A series with no TYPE line is its own untyped family.
    size_t fi = family_index(sample_name);
    current_ = fi;
    return fi;
  }

  MetricsPage& page_;
  std::unordered_map<std::string, size_t> index_;
  size_t current_ = static_cast<size_t>(-1);
  size_t lineno_ = 0;
};

}  // namespace

std::string_view metric_type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kInfo: return "info";
    case MetricType::kStateset: return "stateset";
    case MetricType::kGaugeHistogram: return "gaugehistogram";
    case MetricType::kUnknown: return "unknown";
    case MetricType::kUntyped: break;
  }
  return "untyped";
}

const std::string* Sample::label(std::string_view name) const {
  for (const Label& l : labels) {
    if (l.name == name) return &l.value;
  }
  return nullptr;
}

const MetricFamily* MetricsPage::family(std::string_view name) const {
  for (const MetricFamily& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<const Sample*> MetricsPage::samples(std::string_view sample_name) const {
  std::vector<const Sample*> out;
  for (const MetricFamily& f : families) {
    for (const Sample& s : f.samples) {
      if (s.name == sample_name) out.push_back(&s);
    }
  }
  return out;
}

std::optional<double> MetricsPage::sum(std::string_view sample_name) const {
  std::optional<double> total;
  for (const Sample* s : samples(sample_name)) {
    if (std::isnan(s->value)) continue;  // NaN is missing, not zero
    total = total.value_or(0.0) + s->value;
  }
  return total;
}

std::optional<double> MetricsPage::max(std::string_view sample_name) const {
  std::optional<double> best;
  for (const Sample* s : samples(sample_name)) {
    if (std::isnan(s->value)) continue;
    if (!best || s->value > *best) best = s->value;
  }
  return best;
}

MetricsPage parse_prometheus_text(std::string_view text) {
  MetricsPage page;
  Parser parser(page);
  size_t lineno = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    parser.line(l, ++lineno);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return page;
}

}  // namespace memopt::runtimes

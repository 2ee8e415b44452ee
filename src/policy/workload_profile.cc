#include "policy/workload_profile.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "util/json_read.h"

namespace memopt::policy {
namespace {

constexpr size_t kMaxProfiles = 4096;
constexpr size_t kMaxName = 4096;

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::set<std::string> tokens(const std::string& s) {
  std::set<std::string> out;
  std::istringstream is(s);
  for (std::string t; is >> t;) out.insert(t);
  return out;
}

// Key arguments that differ (in one signature and not the other).
int args_distance(const std::string& a, const std::string& b) {
  const auto ta = tokens(a), tb = tokens(b);
  int d = 0;
  for (const auto& t : ta) d += !tb.count(t);
  for (const auto& t : tb) d += !ta.count(t);
  // "ctx=4096" against "ctx=8192" is one argument changed, not two.
  return (d + 1) / 2;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename T>
void keep_last(std::vector<T>& v, size_t n) {
  if (v.size() > n) v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(n));
}

}  // namespace

std::string WorkloadSignature::text() const {
  std::string s = runtime + ":" + executable;
  if (!model_file.empty()) s += " model=" + model_file;
  if (!args.empty()) s += " " + args;
  if (!container.empty()) s += " [" + container + "]";
  return s;
}

bool WorkloadSignature::specific() const {
  static const char* const kInterpreters[] = {"python", "node", "java", "bash", "sh", "wine", ""};
  if (!model_file.empty() || !args.empty()) return true;
  // "python3.12", "python3", "wine64" are "python", "wine".
  std::string exe = executable;
  while (!exe.empty() &&
         (std::isdigit(static_cast<unsigned char>(exe.back())) || exe.back() == '.'))
    exe.pop_back();
  for (const char* i : kInterpreters) {
    if (exe == i) return false;
  }
  return true;
}

WorkloadSignature signature_of(const snapshot::Workload& w) {
  WorkloadSignature s;
  s.runtime = w.runtime;
  s.executable = w.command.empty() ? w.runtime_name : w.command;
  if (!w.model_files.empty()) s.model_file = base_name(w.model_files.front());
  std::string args;
  if (w.context_tokens) args += "ctx=" + std::to_string(w.context_tokens);
  if (w.parallel) args += std::string(args.empty() ? "" : " ") + "np=" + std::to_string(w.parallel);
  s.args = args;
  s.container = w.container_id;
  return s;
}

uint64_t WorkloadProfile::expected_peak_bytes() const {
  return recent_peaks.empty() ? 0 : *std::max_element(recent_peaks.begin(), recent_peaks.end());
}

void learn(std::vector<WorkloadProfile>& profiles, const WorkloadRun& run) {
  if (!run.signature.specific()) return;
  uint64_t peak = 0;
  for (const auto& [t, b] : run.samples) peak = std::max(peak, b);
  if (peak == 0) return;
  // The ramp: how long from its start until it held 90 % of its peak.
  double ramp = 0;
  for (const auto& [t, b] : run.samples) {
    if (static_cast<double>(b) >= 0.9 * static_cast<double>(peak)) {
      ramp = std::max(0.0, t);
      break;
    }
  }
  auto it = std::find_if(profiles.begin(), profiles.end(), [&](const WorkloadProfile& p) {
    return p.gpu == run.gpu && p.signature == run.signature;
  });
  if (it == profiles.end()) {
    // At the bound the reader keeps, the profile with the fewest runs (the
    // oldest of those) makes room.
    if (profiles.size() >= kMaxProfiles) {
      profiles.erase(std::min_element(
          profiles.begin(), profiles.end(),
          [](const WorkloadProfile& a, const WorkloadProfile& b) { return a.runs < b.runs; }));
    }
    profiles.push_back({run.signature, run.gpu, 0, {}, 0, {}});
    it = profiles.end() - 1;
  }
  ++it->runs;
  it->recent_peaks.push_back(peak);
  keep_last(it->recent_peaks, WorkloadProfile::kKeptPeaks);
  it->recent_ramps.push_back(ramp);
  keep_last(it->recent_ramps, WorkloadProfile::kKeptPeaks);
  it->ramp_seconds = median(it->recent_ramps);
}

const WorkloadProfile* match_profile(const std::vector<WorkloadProfile>& profiles,
                                     const WorkloadSignature& sig, int gpu, int max_distance,
                                     int* distance) {
  if (distance) *distance = -1;
  if (!sig.specific()) return nullptr;
  const WorkloadProfile* best = nullptr;
  int best_d = max_distance + 1;
  for (const auto& p : profiles) {
    if (p.gpu != gpu || p.runs == 0) continue;
    if (p.signature.runtime != sig.runtime || p.signature.executable != sig.executable) continue;
    const int d = 3 * (p.signature.model_file != sig.model_file) +
                  args_distance(p.signature.args, sig.args) +
                  (p.signature.container != sig.container);
    // Ties go to the profile with more runs behind it.
    if (d < best_d || (d == best_d && best && p.runs > best->runs)) {
      best = &p;
      best_d = d;
    }
  }
  if (distance) *distance = best ? best_d : -1;
  return best;
}

void annotate_learned_peaks(snapshot::Snapshot& snapshot,
                            const std::vector<WorkloadProfile>& profiles, int max_distance) {
  for (auto& w : snapshot.workloads) {
    w.learned_peak.reset();
    const WorkloadSignature sig = signature_of(w);
    for (const auto& g : snapshot.gpus) {
      const WorkloadProfile* p =
          match_profile(profiles, sig, static_cast<int>(g.index), max_distance);
      if (!p || (w.learned_peak && w.learned_peak->peak_bytes >= p->expected_peak_bytes()))
        continue;
      w.learned_peak = snapshot::LearnedPeak{g.index, p->expected_peak_bytes(), p->runs};
    }
  }
}

std::string profiles_to_json(const std::vector<WorkloadProfile>& profiles) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& p : profiles) {
    a.push_back({{"runtime", p.signature.runtime},
                 {"executable", p.signature.executable},
                 {"model_file", p.signature.model_file},
                 {"args", p.signature.args},
                 {"container", p.signature.container},
                 {"gpu", p.gpu},
                 {"runs", p.runs},
                 {"recent_peaks_bytes", p.recent_peaks},
                 {"recent_ramps_seconds", p.recent_ramps}});
  }
  return a.dump();
}

Result<std::vector<WorkloadProfile>> profiles_from_json(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("workload profiles: not valid JSON");
  if (!j.is_array()) return make_error("workload profiles: expected a JSON array");
  if (j.size() > kMaxProfiles) {
    return make_error("workload profiles: " + std::to_string(j.size()) + " entries, at most " +
                      std::to_string(kMaxProfiles));
  }
  std::vector<WorkloadProfile> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    const std::string where = "workload profiles[" + std::to_string(i) + "]";
    if (!e.is_object()) return make_error(where + ": not an object");
    WorkloadProfile p;
    std::string* names[] = {&p.signature.runtime, &p.signature.executable, &p.signature.model_file,
                            &p.signature.args, &p.signature.container};
    const char* keys[] = {"runtime", "executable", "model_file", "args", "container"};
    for (size_t k = 0; k < 5; ++k) {
      const auto* v = json_read::member(e, keys[k]);
      if (v && !v->is_string()) return make_error(where + "." + keys[k] + ": not a string");
      if (v) *names[k] = v->get<std::string>();
      if (names[k]->size() > kMaxName) return make_error(where + "." + keys[k] + ": too long");
    }
    if (p.signature.runtime.empty() || p.signature.executable.empty()) {
      return make_error(where + ": runtime and executable are required");
    }
    const auto gpu = json_read::get_u64(e, "gpu");
    const auto runs = json_read::get_u64(e, "runs");
    if (!gpu || *gpu > 1024) return make_error(where + ".gpu: missing or not a GPU index");
    if (!runs || *runs > UINT32_MAX) return make_error(where + ".runs: missing or out of range");
    p.gpu = static_cast<int>(*gpu);
    p.runs = static_cast<uint32_t>(*runs);
    const auto* peaks = json_read::member(e, "recent_peaks_bytes");
    const auto* ramps = json_read::member(e, "recent_ramps_seconds");
    if (!peaks || !peaks->is_array() || peaks->size() > WorkloadProfile::kKeptPeaks) {
      return make_error(where + ".recent_peaks_bytes: missing, not an array or more than " +
                        std::to_string(WorkloadProfile::kKeptPeaks));
    }
    if (ramps && (!ramps->is_array() || ramps->size() > WorkloadProfile::kKeptPeaks)) {
      return make_error(where + ".recent_ramps_seconds: not an array of at most " +
                        std::to_string(WorkloadProfile::kKeptPeaks));
    }
    for (const auto& v : *peaks) {
      if (!v.is_number_unsigned()) return make_error(where + ".recent_peaks_bytes: not bytes");
      p.recent_peaks.push_back(v.get<uint64_t>());
    }
    if (ramps) {
      for (const auto& v : *ramps) {
        if (!v.is_number() || !(v.get<double>() >= 0) || v.get<double>() > 1e7) {
          return make_error(where + ".recent_ramps_seconds: not a duration");
        }
        p.recent_ramps.push_back(v.get<double>());
      }
    }
    p.ramp_seconds = median(p.recent_ramps);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace memopt::policy

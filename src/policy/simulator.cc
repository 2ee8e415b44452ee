#include "policy/simulator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <sstream>

#include "util/bytes.h"

namespace memopt::policy::sim {
namespace {

// Portable uniform draws: the raw mt19937 sequence is fixed by the standard,
// the std distributions are not.
class Draw {
 public:
  explicit Draw(uint32_t seed) : rng_(seed) {}
  double real(double lo, double hi) { return lo + (hi - lo) * (rng_() / 4294967296.0); }
  uint64_t bytes(double lo_gib, double hi_gib) {
    return static_cast<uint64_t>(real(lo_gib, hi_gib) * static_cast<double>(kGiB));
  }

 private:
  std::mt19937 rng_;
};

const uint64_t kGpuSizesGiB[] = {8, 12, 16, 24, 48};

Trace context_growth(Draw& d) {
  Trace t;
  t.kind = "context_growth";
  t.gpu_total_bytes = kGpuSizesGiB[static_cast<int>(d.real(0, 5))] * kGiB;
  const double total = static_cast<double>(t.gpu_total_bytes);
  t.base_bytes = static_cast<uint64_t>(total * d.real(0.03, 0.08));
  SimModel a;  // the model in use; its KV / activations grow
  a.name = "chat";
  a.weights_bytes = static_cast<uint64_t>(total * d.real(0.3, 0.5));
  a.busy = true;
  SimModel b;  // an idle model someone left loaded
  b.name = "idle";
  b.weights_bytes = static_cast<uint64_t>(total * d.real(0.1, 0.25));
  b.idle_seconds = d.real(40, 900);
  const double free_bytes = total - static_cast<double>(t.base_bytes + a.weights_bytes + b.weights_bytes);
  a.kv_max_bytes = static_cast<uint64_t>(free_bytes * d.real(0.3, 1.6));
  a.kv_growth_bytes_per_s = static_cast<uint64_t>(static_cast<double>(a.kv_max_bytes) / d.real(20, 90));
  t.models = {a, b};
  return t;
}

Trace second_model(Draw& d) {
  Trace t;
  t.kind = "second_model";
  t.gpu_total_bytes = kGpuSizesGiB[static_cast<int>(d.real(0, 5))] * kGiB;
  const double total = static_cast<double>(t.gpu_total_bytes);
  t.base_bytes = static_cast<uint64_t>(total * d.real(0.03, 0.08));
  SimModel a;
  a.name = "idle";
  a.weights_bytes = static_cast<uint64_t>(total * d.real(0.25, 0.45));
  a.idle_seconds = d.real(40, 900);
  SimModel c;
  c.name = "busy";
  c.weights_bytes = static_cast<uint64_t>(total * d.real(0.1, 0.2));
  c.busy = true;
  SimModel n;
  n.name = "new";
  n.busy = true;
  const double free_bytes = total - static_cast<double>(t.base_bytes + a.weights_bytes + c.weights_bytes);
  n.weights_bytes = static_cast<uint64_t>(free_bytes * d.real(0.4, 1.5));
  n.load_at = d.real(10, 30);
  n.load_seconds = d.real(4, 12);  // reading weights from disk at 0.5-3 GB/s
  t.models = {a, c, n};
  return t;
}

Trace game_start(Draw& d) {
  Trace t;
  t.kind = "game_start";
  t.gpu_total_bytes = kGpuSizesGiB[static_cast<int>(d.real(0, 4))] * kGiB;
  const double total = static_cast<double>(t.gpu_total_bytes);
  t.base_bytes = static_cast<uint64_t>(total * d.real(0.03, 0.08));
  SimModel a;
  a.name = "idle";
  a.weights_bytes = static_cast<uint64_t>(total * d.real(0.2, 0.4));
  a.idle_seconds = d.real(40, 900);
  SimModel b;
  b.name = "busy";
  b.weights_bytes = static_cast<uint64_t>(total * d.real(0.15, 0.3));
  b.busy = true;
  const double free_bytes = total - static_cast<double>(t.base_bytes + a.weights_bytes + b.weights_bytes);
  t.other_at = d.real(10, 30);
  t.other_seconds = d.real(5, 20);  // a game streams textures in over seconds
  t.other_bytes = static_cast<uint64_t>(free_bytes * d.real(0.3, 1.6));
  t.models = {a, b};
  return t;
}

struct Live {
  SimModel spec;
  bool present = true;
  uint32_t gpu_layers = 0;
  uint64_t kv = 0;
  double idle = 0;
};

struct Pending {
  double at;
  Action action;
};

uint64_t model_gpu_bytes(const Live& m, double t) {
  double frac = 1;
  if (m.spec.load_at >= 0) {
    if (t < m.spec.load_at) return 0;
    frac = std::min(1.0, (t - m.spec.load_at) / std::max(m.spec.load_seconds, 1e-9));
  }
  const double w = static_cast<double>(m.spec.weights_bytes) * m.gpu_layers / m.spec.n_layers;
  return static_cast<uint64_t>(w * frac) + m.kv;
}

// Deterministic sample noise, as the driver's counters wobble by a few MiB.
// A full mix of the sample time (splitmix64's finaliser): a plain
// multiplicative hash of consecutive times is a sawtooth, which a line fit
// reads as a slope.
uint64_t noise(double t, uint64_t amplitude) {
  uint64_t h = static_cast<uint64_t>(std::llround(t * 1000.0)) + 0x9E3779B97F4A7C15ULL;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
  h ^= h >> 31;
  return amplitude ? h % amplitude : 0;
}

}  // namespace

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kNothing: return "nothing";
    case Mode::kThresholdOnly: return "threshold-only";
    case Mode::kPredictive: return "predictive";
  }
  return "?";
}

std::vector<Trace> make_traces(int count_per_kind, uint32_t seed) {
  Draw d(seed);
  std::vector<Trace> out;
  for (int i = 0; i < count_per_kind; ++i) out.push_back(context_growth(d));
  for (int i = 0; i < count_per_kind; ++i) out.push_back(second_model(d));
  for (int i = 0; i < count_per_kind; ++i) out.push_back(game_start(d));
  return out;
}

TraceResult run_trace(const Trace& tr, Mode mode, const Profile& profile, const Simulation& s,
                      const PolicyTuning& tuning_in, std::vector<std::string>* log) {
  PolicyTuning tuning = tuning_in;
  tuning.predict = mode == Mode::kPredictive;
  tuning.sample_interval_seconds = s.tick_seconds;
  Profile p = profile;
  p.idle_unload_seconds = 0;  // judged here: OOM prevention only
  std::vector<Live> models;
  for (const auto& m : tr.models) {
    Live l;
    l.spec = m;
    l.gpu_layers = m.n_layers;
    l.idle = m.idle_seconds;
    models.push_back(l);
  }
  TraceResult r;
  PolicyState state;
  std::deque<PolicyInput> history;
  std::vector<Pending> pending;
  // The world runs on a fine clock (`world_step_seconds`): memory grows
  // between the policy's samples and an allocation fails the moment usage
  // passes the GPU's size, not at the next sample. Actions land at their own
  // time (decision + delay). The policy is sampled at the times it asks for
  // (Decision::next_sample_seconds), else every `tick_seconds`.
  const double dt = s.world_step_seconds;
  const long steps = static_cast<long>(std::llround(tr.duration_seconds / dt));
  double next_sample = 0;
  uint64_t prev_used = 0;
  for (long i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) * dt;
    // Actions decided earlier take effect now.
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->at > t + 1e-9) {
        ++it;
        continue;
      }
      for (auto& m : models) {
        if (m.spec.name != it->action.model || !m.present) continue;
        switch (it->action.kind) {
          case ActionKind::kUnload: m.present = false; break;
          case ActionKind::kReloadFewerLayers:
          case ActionKind::kRestoreLayers: m.gpu_layers = it->action.gpu_layers; break;
          default: break;
        }
      }
      it = pending.erase(it);
    }
    uint64_t used = tr.base_bytes;
    for (auto& m : models) {
      if (!m.present) continue;
      if (i > 0 && m.spec.busy && m.kv < m.spec.kv_max_bytes) {
        m.kv = std::min(m.spec.kv_max_bytes,
                        m.kv + static_cast<uint64_t>(static_cast<double>(m.spec.kv_growth_bytes_per_s) * dt));
      }
      if (i > 0 && !m.spec.busy) m.idle += dt;
      used += model_gpu_bytes(m, t);
    }
    if (tr.other_at >= 0 && t >= tr.other_at) {
      const double frac = std::min(1.0, (t - tr.other_at) / std::max(tr.other_seconds, 1e-9));
      used += static_cast<uint64_t>(static_cast<double>(tr.other_bytes) * frac);
    }
    if (used > tr.gpu_total_bytes) {
      r.oom = true;
      r.oom_at_seconds = t;
      return r;
    }
    // How close growth came to OOM, in seconds of its current rate.
    if (i > 0 && used > prev_used) {
      const double rate = static_cast<double>(used - prev_used) / dt;
      r.min_slack_seconds =
          std::min(r.min_slack_seconds, static_cast<double>(tr.gpu_total_bytes - used) / rate);
    }
    prev_used = used;
    if (mode == Mode::kNothing || t + 1e-9 < next_sample) continue;
    PolicyInput in;
    in.now_seconds = t;
    GpuState g;
    g.index = 0;
    g.total_bytes = tr.gpu_total_bytes;
    g.used_bytes = std::min(tr.gpu_total_bytes, used + noise(t, s.sample_noise_bytes));
    in.gpus = {g};
    for (const auto& m : models) {
      if (!m.present || (m.spec.load_at >= 0 && t < m.spec.load_at)) continue;
      ModelState ms;
      ms.runtime = "sim";
      ms.name = m.spec.name;
      ms.gpu = 0;
      ms.vram_bytes = model_gpu_bytes(m, t);
      ms.size_bytes = m.spec.weights_bytes + m.kv;
      ms.busy = m.spec.busy;
      ms.idle_seconds = m.spec.busy ? 0 : m.idle;
      ms.n_layers = m.spec.n_layers;
      ms.gpu_layers = m.gpu_layers;
      ms.gpu_layer_bytes = m.spec.weights_bytes / m.spec.n_layers;
      in.models.push_back(ms);
    }
    std::vector<PolicyInput> hist(history.begin(), history.end());
    Decision d = decide(in, p, hist, state, tuning);
    for (auto& a : d.actions) {
      const double delay = a.kind == ActionKind::kUnload ? s.action_delay_seconds : s.reload_delay_seconds;
      if (log) {
        log->push_back("t=" + std::to_string(t) + " used=" + std::to_string(double(used) / double(tr.gpu_total_bytes)) +
                       " " + action_kind_name(a.kind) + " " + a.model + ": " + a.reason);
      }
      ++r.actions_by_kind[action_kind_name(a.kind)];
      pending.push_back({t + delay, a});
      ++r.actions;
    }
    const double interval = d.next_sample_seconds > 0 ? std::min(d.next_sample_seconds, s.tick_seconds) : s.tick_seconds;
    ++r.samples;
    if (interval < s.tick_seconds) ++r.fast_samples;
    next_sample = t + interval;
    history.push_back(std::move(in));
    // The daemon keeps the last 30 s of inputs (daemon.cc).
    while (!history.empty() && t - history.front().now_seconds > 30) history.pop_front();
  }
  return r;
}

std::vector<Row> evaluate(const std::vector<Trace>& traces, const Profile& profile, const Simulation& s,
                          const PolicyTuning& tuning) {
  std::vector<std::string> kinds = {"context_growth", "second_model", "game_start", "all"};
  std::vector<Row> rows;
  for (const auto& kind : kinds) {
    for (Mode mode : {Mode::kNothing, Mode::kThresholdOnly, Mode::kPredictive}) {
      Row row;
      row.kind = kind;
      row.mode = mode;
      for (const auto& tr : traces) {
        if (kind != "all" && tr.kind != kind) continue;
        const TraceResult base = run_trace(tr, Mode::kNothing, profile, s, tuning);
        const bool base_oom = base.oom;
        const TraceResult res = mode == Mode::kNothing ? base : run_trace(tr, mode, profile, s, tuning);
        // No OOM, but growth came closer to it than an unload plus one fast
        // sample: a policy that sees usage only cannot tell this trace from
        // its twin whose growth goes on, and must act in both.
        const bool too_close =
            !base_oom && base.min_slack_seconds < s.action_delay_seconds + tuning.fast_sample_seconds;
        row.too_close += too_close;
        ++row.traces;
        row.oom_without_policy += base_oom;
        row.ooms += res.oom;
        row.prevented += base_oom && !res.oom;
        row.actions += res.actions;
        if (!base_oom) {
          row.wasted_actions += res.actions;
          if (too_close) row.wasted_too_close += res.actions;
          for (const auto& [k, n] : res.actions_by_kind) row.wasted_by_kind[k] += n;
        }
      }
      rows.push_back(row);
    }
  }
  return rows;
}

std::string format_table(const std::vector<Row>& rows) {
  std::ostringstream os;
  os << "| traces | policy | n | OOM if nothing done | too close to call | OOMs | prevented | actions | wasted | "
        "of which too close | wasted by kind |\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|\n";
  os.setf(std::ios::fixed);
  os.precision(1);
  for (const auto& r : rows) {
    const double prev = r.oom_without_policy ? 100.0 * r.prevented / r.oom_without_policy : 100.0;
    const double waste = r.actions ? 100.0 * r.wasted_actions / r.actions : 0.0;
    os << "| " << r.kind << " | " << mode_name(r.mode) << " | " << r.traces << " | " << r.oom_without_policy
       << " | " << r.too_close << " | " << r.ooms << " | " << r.prevented << " (" << prev << "%) | " << r.actions
       << " | " << r.wasted_actions << " (" << waste << "%) | " << r.wasted_too_close << " |";
    const char* sep = " ";
    for (const auto& [k, n] : r.wasted_by_kind) {
      os << sep << k << " " << n;
      sep = ", ";
    }
    os << " |\n";
  }
  return os.str();
}

}  // namespace memopt::policy::sim

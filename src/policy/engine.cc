#include "policy/engine.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "policy/engine_pass.h"

namespace memopt::policy {

const char* action_kind_name(ActionKind k) {
  switch (k) {
    case ActionKind::kUnload:
      return "unload";
    case ActionKind::kReloadFewerLayers:
      return "reload_fewer_layers";
    case ActionKind::kResizeContext:
      return "resize_context";
    case ActionKind::kRestoreLayers:
      return "restore_layers";
    case ActionKind::kFreeImageCache:
      return "free_image_cache";
  }
  return "unknown";
}

namespace engine_detail {

uint64_t bytes_at_percent(uint64_t total, double percent) {
  if (percent <= 0) return 0;
  return static_cast<uint64_t>(static_cast<double>(total) * std::min(percent, 100.0) / 100.0);
}

std::string pct_text(uint64_t used, uint64_t total) {
  std::ostringstream os;
  os.precision(3);
  os << (total ? 100.0 * static_cast<double>(used) / static_cast<double>(total) : 0.0) << "%";
  return os.str();
}

std::string secs(double s) {
  std::ostringstream os;
  os.precision(3);
  os << s << " s";
  return os.str();
}

Decision Pass::run() {
  prune_rate_window();
  for (const auto& g : in_.gpus) {
    thermal_rule(g);
    d_.forecasts.push_back(forecast(g));
  }
  for (size_t i = 0; i < in_.gpus.size(); ++i) offload_rule(in_.gpus[i], d_.forecasts[i]);
  for (const auto& g : in_.gpus) compact_rule(g);
  ram_reserve_rule();
  image_generation_rule();
  idle_unload_rule();
  for (size_t i = 0; i < in_.gpus.size(); ++i) restore_rule(in_.gpus[i], d_.forecasts[i]);
  return std::move(d_);
}

// A throttling GPU is shown to the user and never a target of restore.
void Pass::thermal_rule(const GpuState& g) {
  if (g.throttling) {
    d_.thermal.push_back({g.index, g.throttle_reason.empty() ? "throttling" : g.throttle_reason});
  }
}

void Pass::prune_rate_window() {
  auto& v = st_.recent_action_times;
  v.erase(std::remove_if(v.begin(), v.end(), [&](double t) { return in_.now_seconds - t >= 60; }),
          v.end());
}

void Pass::request_sample(double seconds) {
  if (d_.next_sample_seconds <= 0 || seconds < d_.next_sample_seconds)
    d_.next_sample_seconds = seconds;
}

// Records `a` unless its target was acted on recently or the global rate
// limit is reached; either refusal is noted with its reason.
bool Pass::emit(Action a) {
  if (taken_.count(a.target)) return false;
  auto it = st_.last_action_at.find(a.target);
  // Moving more layers off a model whose growth goes on is escalation, not
  // flapping: allowed once the previous reload has had time to show, and
  // has shown (the samples dropped after it). A reload that freed nothing
  // (the runtime could not do it, or it failed) is not retried before the
  // cooldown: the same request would free nothing again.
  const bool escalation =
      a.kind == ActionKind::kReloadFewerLayers &&
      st_.last_action_kind[a.target] == static_cast<int>(ActionKind::kReloadFewerLayers) &&
      it != st_.last_action_at.end() && in_.now_seconds - it->second >= t_.settle_seconds &&
      landed_since(a.gpu, it->second);
  if (!escalation && it != st_.last_action_at.end() &&
      in_.now_seconds - it->second < t_.target_cooldown_seconds) {
    d_.notes.push_back("held back " + std::string(action_kind_name(a.kind)) + " of " + a.target +
                       ": acted on it " + secs(in_.now_seconds - it->second) + " ago (cooldown " +
                       secs(t_.target_cooldown_seconds) + ")");
    return false;
  }
  if (static_cast<int>(st_.recent_action_times.size()) >= t_.max_actions_per_minute) {
    d_.notes.push_back("held back " + std::string(action_kind_name(a.kind)) + " of " + a.target +
                       ": rate limit of " + std::to_string(t_.max_actions_per_minute) +
                       " actions per minute reached");
    return false;
  }
  taken_.insert(a.target);
  st_.last_action_at[a.target] = in_.now_seconds;
  st_.last_action_kind[a.target] = static_cast<int>(a.kind);
  st_.recent_action_times.push_back(in_.now_seconds);
  if (a.gpu >= 0) gpus_acted_.insert(a.gpu);
  land_delay_ = std::max(land_delay_, delay_of(a.kind, a.runtime, a.expected_bytes));
  d_.actions.push_back(std::move(a));
  return true;
}

double Pass::delay_of(ActionKind kind, const std::string& runtime, uint64_t bytes) const {
  return planned_delay_seconds(in_.delays, kind, runtime, bytes, t_);
}

Action Pass::model_action(ActionKind kind, const ModelState& m) const {
  Action a;
  a.kind = kind;
  a.target = m.key();
  a.runtime = m.runtime;
  a.model = m.name;
  a.endpoint = m.endpoint;
  a.gpu = m.gpu;
  return a;
}

Action Pass::image_cache_action(const ImageGenState& ig) {
  Action a;
  a.kind = ActionKind::kFreeImageCache;
  a.target = ig.key();
  a.runtime = ig.runtime;
  a.endpoint = ig.endpoint;
  a.gpu = ig.gpu;
  a.expected_bytes = ig.vram_bytes;
  return a;
}

bool Pass::unloadable(const ModelState& m, double min_idle) const {
  return !m.busy && !m.pinned && m.idle_seconds >= min_idle && !taken_.count(m.key());
}

bool Pass::landed_since(int gpu, double since) const {
  for (const auto& f : d_.forecasts) {
    if (f.gpu == gpu) return f.landed_before_seconds >= since;
  }
  return false;
}

bool Pass::cooling(const std::string& target) const {
  auto it = st_.last_action_at.find(target);
  return it != st_.last_action_at.end() &&
         in_.now_seconds - it->second < t_.target_cooldown_seconds;
}

bool Pass::armed(std::map<int, bool>& disarmed, std::map<int, double>& fired_at, int gpu) const {
  if (!disarmed[gpu]) return true;
  return in_.now_seconds - fired_at[gpu] >= t_.target_cooldown_seconds;
}

}  // namespace engine_detail

double planned_delay_seconds(const std::vector<ActionDelayStats>& learned, ActionKind kind,
                             const std::string& runtime, uint64_t model_bytes,
                             const PolicyTuning& t) {
  const bool slow = kind == ActionKind::kReloadFewerLayers || kind == ActionKind::kResizeContext ||
                    kind == ActionKind::kRestoreLayers;
  const double prior_p50 = slow ? t.reload_seconds : t.unload_seconds;
  const double prior_p90 = prior_p50 * t.prior_p90_ratio;
  // The most specific record: this runtime's over any runtime's.
  const ActionDelayStats* best = nullptr;
  for (const auto& d : learned) {
    if (d.action != action_kind_name(kind) || d.count == 0) continue;
    if (model_bytes < d.min_model_bytes || model_bytes >= d.max_model_bytes) continue;
    if (!d.runtime.empty() && d.runtime != runtime) continue;
    if (!std::isfinite(d.p50_seconds) || !std::isfinite(d.p90_seconds) || d.p50_seconds < 0) continue;
    if (!best || (best->runtime.empty() && !d.runtime.empty()) ||
        (best->runtime.empty() == d.runtime.empty() && d.count > best->count)) {
      best = &d;
    }
  }
  double p50 = prior_p50, p90 = prior_p90;
  if (best) {
    const double w = best->count / (best->count + std::max(t.prior_weight, 0.0));
    p50 = w * best->p50_seconds + (1 - w) * prior_p50;
    p90 = w * std::max(best->p90_seconds, best->p50_seconds) + (1 - w) * prior_p90;
  }
  return p50 + t.delay_spread_factor * std::max(0.0, p90 - p50);
}

Decision decide(const PolicyInput& in, const Profile& profile,
                const std::vector<PolicyInput>& history, PolicyState& state,
                const PolicyTuning& tuning) {
  return engine_detail::Pass(in, profile, history, state, tuning).run();
}

}  // namespace memopt::policy

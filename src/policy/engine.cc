#include "policy/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "util/bytes.h"

namespace memopt::policy {

const char* action_kind_name(ActionKind k) {
  switch (k) {
    case ActionKind::kUnload: return "unload";
    case ActionKind::kReloadFewerLayers: return "reload_fewer_layers";
    case ActionKind::kResizeContext: return "resize_context";
    case ActionKind::kRestoreLayers: return "restore_layers";
    case ActionKind::kFreeImageCache: return "free_image_cache";
  }
  return "unknown";
}

namespace {


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

// One pass of the engine: the inputs and what has been decided so far.
class Pass {
 public:
  Pass(const PolicyInput& in, const Profile& profile, const std::vector<PolicyInput>& history,
       PolicyState& state, const PolicyTuning& tuning)
      : in_(in), p_(profile), history_(history), st_(state), t_(tuning) {}

  Decision run() {
    prune_rate_window();
    for (const auto& g : in_.gpus) {
      if (g.throttling) {
        d_.thermal.push_back({g.index, g.throttle_reason.empty() ? "throttling" : g.throttle_reason});
      }
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

 private:
  void prune_rate_window() {
    auto& v = st_.recent_action_times;
    v.erase(std::remove_if(v.begin(), v.end(), [&](double t) { return in_.now_seconds - t >= 60; }),
            v.end());
  }

  GpuForecast forecast(const GpuState& g) {
    std::vector<UsagePoint> pts;
    for (const auto& h : history_) {
      for (const auto& hg : h.gpus) {
        if (hg.index == g.index) pts.push_back({h.now_seconds, hg.used_bytes});
      }
    }
    pts.push_back({in_.now_seconds, g.used_bytes});
    GpuForecast f;
    f.gpu = g.index;
    // Where this engine freed memory recently, the samples drop once the
    // action lands (a drop of at least half what it was to free marks it):
    // the fit takes that drop as a step, so the growth that goes on stays
    // visible for the escalation, and the freed bytes count as landed.
    double step_after = std::numeric_limits<double>::infinity();
    std::vector<std::pair<double, uint64_t>> acted;  // (decided, bytes) of recent offloads
    for (const auto& fr : st_.recently_freed[g.index]) acted.emplace_back(fr.at, fr.bytes);
    if (const auto fl = st_.last_freed.find(g.index); fl != st_.last_freed.end()) acted.push_back(fl->second);
    for (const auto& [acted_at, freed_bytes] : acted) {
      // The latest such drop is the step (two in one window are rare: the
      // fit then sees the older one as noise).
      const double drop = -0.5 * static_cast<double>(freed_bytes);
      for (size_t i = 1; i < pts.size(); ++i) {
        if (pts[i - 1].t_seconds < acted_at) continue;
        const double step = static_cast<double>(pts[i].used_bytes) - static_cast<double>(pts[i - 1].used_bytes);
        if (step <= drop && (!std::isfinite(step_after) || pts[i - 1].t_seconds > step_after)) {
          step_after = pts[i - 1].t_seconds;
        }
      }
    }
    if (std::isfinite(step_after)) f.landed_before_seconds = step_after;
    f.growth = forecast_growth(pts, t_.forecast_window_seconds, 3, 0.8, step_after);
    // Growth that has just started (or sped up) is a kink the window's line
    // cuts across: it fits badly, or too flat. The last second alone (four
    // samples or more once the engine watches) shows the new rate; where it
    // is steeper, it is the one that may be right.
    const GrowthForecast recent = forecast_growth(pts, t_.recent_window_seconds, 4, 0.8, step_after);
    if (recent.valid && recent.slope_bytes_per_s > 0 &&
        (!f.growth.valid || recent.slope_bytes_per_s > f.growth.slope_bytes_per_s)) {
      const double upper = std::max(f.growth.valid ? f.growth.slope_upper_bytes_per_s : 0.0,
                                    recent.slope_bytes_per_s);
      if (!f.growth.valid) f.growth = recent;
      f.growth.slope_upper_bytes_per_s = upper;
    }
    // The trend must hold in the last few samples too: a load that just
    // finished still tilts a 10 s line upwards, but is no longer growing.
    // Judged over the last second at least: with fast sampling, one step of
    // a quarter second is within the counters' noise.
    if (pts.size() >= 2) {
      size_t ia = pts.size() - 2;
      while (ia > 0 && pts.back().t_seconds - pts[ia].t_seconds < t_.sample_interval_seconds - 1e-6) --ia;
      // Not across the drop of a landed action: from the first sample after it.
      while (ia + 1 < pts.size() && pts[ia].t_seconds <= step_after) ++ia;
      const auto& a = pts[ia];
      const auto& b = pts.back();
      const double step = static_cast<double>(b.used_bytes) - static_cast<double>(a.used_bytes);
      // One sample after the drop says nothing yet: the fit (which models
      // the drop) decides alone.
      f.still_growing = ia + 1 == pts.size() ||
                        step > 0.25 * f.growth.slope_bytes_per_s * (b.t_seconds - a.t_seconds);
    }
    f.seconds_to_threshold =
        f.growth.seconds_to(bytes_at_percent(g.total_bytes, p_.auto_offload_threshold), g.used_bytes);
    f.seconds_to_oom = f.growth.seconds_to(g.total_bytes, g.used_bytes);
    return f;
  }

  // The interval until the next sample. While an OOM may be near (the
  // forecast's earliest OOM, or the last step's rise taken as a rate, is
  // within reload_seconds + watch_seconds), and for watch_seconds after, it
  // is the fast one: the last moment to act must not fall between two
  // samples of the configured interval, and just after an action freed
  // memory the fit has too few points to judge the growth that goes on.
  bool can_sample_faster() const {
    return t_.fast_sample_seconds > 0 && t_.fast_sample_seconds < t_.sample_interval_seconds;
  }

  double watch(const GpuState& g, const GpuForecast& f) {
    const double slow = t_.sample_interval_seconds;
    if (!can_sample_faster()) return slow;
    const double horizon = t_.reload_seconds + t_.watch_seconds;
    bool near = f.growth.earliest_seconds_to(g.total_bytes, g.used_bytes) <= horizon;
    if (!history_.empty()) {
      for (const auto& hg : history_.back().gpus) {
        if (hg.index != g.index || hg.used_bytes >= g.used_bytes) continue;
        const double dt = in_.now_seconds - history_.back().now_seconds;
        const double rate = static_cast<double>(g.used_bytes - hg.used_bytes) / std::max(dt, 1e-3);
        near = near || static_cast<double>(g.total_bytes - std::min(g.used_bytes, g.total_bytes)) <= rate * horizon;
      }
    }
    if (near) st_.watch_until[g.index] = in_.now_seconds + t_.watch_seconds;
    if (in_.now_seconds >= st_.watch_until[g.index]) return slow;
    request_sample(t_.fast_sample_seconds);
    return t_.fast_sample_seconds;
  }

  void request_sample(double seconds) {
    if (d_.next_sample_seconds <= 0 || seconds < d_.next_sample_seconds) d_.next_sample_seconds = seconds;
  }

  // Records `a` unless its target was acted on recently or the global rate
  // limit is reached; either refusal is noted with its reason.
  bool emit(Action a) {
    if (taken_.count(a.target)) return false;
    auto it = st_.last_action_at.find(a.target);
    // Moving more layers off a model whose growth goes on is escalation, not
    // flapping: allowed once the previous reload has had time to show.
    const bool escalation = a.kind == ActionKind::kReloadFewerLayers &&
                            st_.last_action_kind[a.target] == static_cast<int>(ActionKind::kReloadFewerLayers) &&
                            it != st_.last_action_at.end() && in_.now_seconds - it->second >= t_.settle_seconds;
    if (!escalation && it != st_.last_action_at.end() &&
        in_.now_seconds - it->second < t_.target_cooldown_seconds) {
      d_.notes.push_back("held back " + std::string(action_kind_name(a.kind)) + " of " + a.target +
                         ": acted on it " + secs(in_.now_seconds - it->second) +
                         " ago (cooldown " + secs(t_.target_cooldown_seconds) + ")");
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
    const bool slow = a.kind == ActionKind::kReloadFewerLayers || a.kind == ActionKind::kResizeContext ||
                      a.kind == ActionKind::kRestoreLayers;
    land_delay_ = std::max(land_delay_, slow ? t_.reload_seconds : t_.unload_seconds);
    d_.actions.push_back(std::move(a));
    return true;
  }

  Action model_action(ActionKind kind, const ModelState& m) const {
    Action a;
    a.kind = kind;
    a.target = m.key();
    a.runtime = m.runtime;
    a.model = m.name;
    a.endpoint = m.endpoint;
    a.gpu = m.gpu;
    return a;
  }

  bool unloadable(const ModelState& m, double min_idle) const {
    return !m.busy && !m.pinned && m.idle_seconds >= min_idle && !taken_.count(m.key());
  }

  // Frees `need` bytes on GPU `g`, cheapest first: idle models (longest idle
  // first), idle image-generation caches, then the largest model reloaded
  // with fewer GPU layers (it keeps serving, only slower). Without
  // `allow_reload` only the fast, free tier is taken.
  uint64_t free_on_gpu(const GpuState& g, uint64_t need, const std::string& why, bool predictive,
                       bool allow_reload = true) {
    uint64_t freed = 0;
    std::vector<const ModelState*> idle;
    for (const auto& m : in_.models) {
      if (m.gpu == g.index && m.vram_bytes > 0 && unloadable(m, t_.idle_for_offload_seconds)) {
        idle.push_back(&m);
      }
    }
    std::sort(idle.begin(), idle.end(),
              [](auto* a, auto* b) { return a->idle_seconds > b->idle_seconds; });
    for (const ModelState* m : idle) {
      if (freed >= need) return freed;
      Action a = model_action(ActionKind::kUnload, *m);
      a.expected_bytes = m->vram_bytes;
      a.predictive = predictive;
      a.reason = why + "; " + m->name + " idle for " + secs(m->idle_seconds) + " is cheapest to free";
      if (emit(std::move(a))) freed += m->vram_bytes;
    }
    for (const auto& ig : in_.image_gen) {
      if (freed >= need) return freed;
      if (ig.gpu != g.index || ig.generating || ig.vram_bytes == 0) continue;
      Action a;
      a.kind = ActionKind::kFreeImageCache;
      a.target = ig.key();
      a.runtime = ig.runtime;
      a.endpoint = ig.endpoint;
      a.gpu = ig.gpu;
      a.expected_bytes = ig.vram_bytes;
      a.predictive = predictive;
      a.reason = why + "; " + ig.runtime + " is between generations";
      if (emit(std::move(a))) freed += ig.vram_bytes;
    }
    std::vector<const ModelState*> big;
    for (const auto& m : in_.models) {
      if (!allow_reload) break;
      if (m.gpu == g.index && !m.pinned && m.gpu_layers > 0 && m.gpu_layer_bytes > 0 &&
          !taken_.count(m.key())) {
        big.push_back(&m);
      }
    }
    std::sort(big.begin(), big.end(), [](auto* a, auto* b) { return a->vram_bytes > b->vram_bytes; });
    for (const ModelState* m : big) {
      if (freed >= need) return freed;
      const uint64_t rest = need - freed;
      // ceil(rest / layer) layers leave the GPU; the planner's per-layer size
      // is what llama.cpp allocates per offloaded layer (weights of one block).
      uint64_t drop = (rest + m->gpu_layer_bytes - 1) / m->gpu_layer_bytes;
      drop = std::min<uint64_t>(drop, m->gpu_layers);
      Action a = model_action(ActionKind::kReloadFewerLayers, *m);
      a.gpu_layers = m->gpu_layers - static_cast<uint32_t>(drop);
      a.expected_bytes = drop * m->gpu_layer_bytes;
      a.predictive = predictive;
      a.reason = why + "; reload " + m->name + " with " + std::to_string(a.gpu_layers) + " of " +
                 std::to_string(m->n_layers) + " layers on GPU " + std::to_string(g.index);
      const uint64_t bytes = a.expected_bytes;
      if (emit(std::move(a))) {
        freed += bytes;
        st_.offloaded_at[m->key()] = in_.now_seconds;
      }
    }
    if (freed < need) {
      d_.notes.push_back("GPU " + std::to_string(g.index) + ": could free only " +
                         format_bytes(freed) + " of the " + format_bytes(need) +
                         " needed; nothing else is idle or reloadable");
    }
    return freed;
  }

  bool cooling(const std::string& target) const {
    auto it = st_.last_action_at.find(target);
    return it != st_.last_action_at.end() && in_.now_seconds - it->second < t_.target_cooldown_seconds;
  }

  // What the fast actions (unload an idle model, free an idle image cache)
  // can free on GPU `g`, counted as free_on_gpu would take them.
  uint64_t cheap_bytes(const GpuState& g) const {
    uint64_t bytes = 0;
    for (const auto& m : in_.models) {
      if (m.gpu == g.index && m.vram_bytes > 0 && unloadable(m, t_.idle_for_offload_seconds) && !cooling(m.key())) {
        bytes += m.vram_bytes;  // (one already on its way counts as pending)
      }
    }
    for (const auto& ig : in_.image_gen) {
      if (ig.gpu == g.index && !ig.generating && !cooling(ig.key())) bytes += ig.vram_bytes;
    }
    return bytes;
  }

  bool armed(std::map<int, bool>& disarmed, std::map<int, double>& fired_at, int gpu) const {
    if (!disarmed[gpu]) return true;
    return in_.now_seconds - fired_at[gpu] >= t_.target_cooldown_seconds;
  }

  void offload_rule(const GpuState& g, const GpuForecast& f) {
    if (g.total_bytes == 0) return;
    const uint64_t thr = bytes_at_percent(g.total_bytes, p_.auto_offload_threshold);
    const uint64_t rearm = bytes_at_percent(g.total_bytes, p_.auto_offload_threshold - t_.hysteresis_percent);
    auto& freed_log = st_.recently_freed[g.index];
    if (g.used_bytes < rearm) {
      st_.offload_disarmed[g.index] = false;
      // Below the re-arm level the threshold's episode is over. A forecast
      // acts below it, though, and what it freed is still on its way.
      if (!t_.predict) freed_log.clear();
    }
    // Frees older than settle_seconds have shown or never will.
    std::erase_if(freed_log, [&](const PolicyState::Freed& fr) {
      return in_.now_seconds - fr.at >= t_.settle_seconds;
    });
    // Growth the planner already knows about: models still loading will
    // reach their estimated size. Where there is such a load, it explains the
    // trend better than a line through the samples does.
    uint64_t known_growth = 0;
    bool loading = false;
    for (const auto& m : in_.models) {
      if (m.gpu == g.index && m.loading_target_vram_bytes > m.vram_bytes) {
        known_growth += m.loading_target_vram_bytes - m.vram_bytes;
        loading = true;
      }
    }
    // A load that finished within the forecast window still tilts the
    // fitted line; its growth was known, so the line says nothing new.
    for (const auto& h : history_) {
      if (in_.now_seconds - h.now_seconds > t_.forecast_window_seconds) continue;
      for (const auto& m : h.models) {
        if (m.gpu == g.index && m.loading_target_vram_bytes > m.vram_bytes) loading = true;
      }
    }
    const bool over = g.used_bytes >= thr;
    const double total = static_cast<double>(g.total_bytes);
    // The last bytes before OOM: compute buffers and a new request's
    // activations arrive in steps the samples cannot see coming.
    const double margin = std::max(total * t_.oom_margin_percent / 100.0, static_cast<double>(t_.oom_margin_min_bytes));
    double projected = static_cast<double>(g.used_bytes);
    uint64_t pending = 0;
    double pending_lands_at = in_.now_seconds;
    for (const auto& fr : freed_log) {
      // Still on its way: not yet settled, and not seen landing.
      if (in_.now_seconds - fr.at < t_.settle_seconds && fr.at > f.landed_before_seconds) {
        pending += fr.bytes;
        pending_lands_at = std::max(pending_lands_at, fr.lands_at);
      }
    }
    bool at_risk = false;  // the forecast says OOM is coming
    bool fast_tier_only = false;  // the forecast asks only for the free actions
    if (t_.predict) {
      if (loading) {
        projected += static_cast<double>(known_growth);
        at_risk = projected > total - t_.loading_margin_fraction * margin;
      } else {
        const bool growing = f.growth.valid && f.growth.slope_bytes_per_s > 0 && f.still_growing;
        const double interval = watch(g, f);
        // Inside the OOM margin even once what is on its way has landed.
        const bool margin_risk = static_cast<double>(g.used_bytes) - static_cast<double>(pending) > total - margin;
        double t_oom = std::numeric_limits<double>::infinity();
        double slope_hi = 0;
        if (growing) {
          // Free enough for the growth over `cover_seconds`: one action
          // covers the near future; a later pass frees more if it goes on.
          projected += f.growth.slope_bytes_per_s * t_.cover_seconds;
          // Act at the last sample that still leaves the action time to
          // land before the earliest plausible OOM (upper bound of the
          // slope): growth that stops before then never costs an action.
          // An idle model or cache goes in `unload_seconds`; only when they
          // cannot cover the shortfall must a reload start earlier.
          t_oom = f.growth.earliest_seconds_to(g.total_bytes, g.used_bytes);
          // Memory already being freed moves that moment out, if it lands
          // before it: the line then has `pending` more bytes to climb.
          if (pending > 0 && pending_lands_at - in_.now_seconds <= t_oom) {
            t_oom = f.growth.earliest_seconds_to(g.total_bytes + pending, g.used_bytes);
          }
          slope_hi = std::max(f.growth.slope_upper_bytes_per_s, f.growth.slope_bytes_per_s);
        }
        // The fast tier suffices for now if it keeps the GPU below the OOM
        // margin until a reload decided at the next sample could land; that
        // pass escalates if the growth goes on.
        const double near_need = static_cast<double>(g.used_bytes) + slope_hi * (interval + t_.reload_seconds) -
                                 (total - margin) - static_cast<double>(pending);
        const bool cheap_covers = static_cast<double>(cheap_bytes(g)) >= near_need;
        const bool risk_now = t_oom <= t_.unload_seconds + interval ||
                              (!cheap_covers && t_oom <= t_.reload_seconds + interval);
        at_risk = margin_risk || risk_now;
        fast_tier_only = cheap_covers;
      }
    }
    bool act;
    if (t_.predict) {
      // With a forecast, crossing the threshold alone does not act, however
      // long usage stays there: a plateau at 96 % never runs out, and
      // freeing for it is an action taken when no OOM would have happened
      // (the simulator counts it as wasted). What acts is a forecast OOM, a
      // planned load that will not fit, or usage inside the OOM margin.
      // `mode = "threshold"` in [daemon] keeps the profile's threshold rule.
      act = at_risk;
    } else {
      act = over && armed(st_.offload_disarmed, st_.offload_fired_at, g.index);
      if (!act && over && in_.now_seconds - st_.offload_fired_at[g.index] < t_.settle_seconds) act = true;
    }
    if (!act) {
      if (over && t_.predict) {
        d_.notes.push_back("GPU " + std::to_string(g.index) + " above auto_offload_threshold but no OOM "
                           "forecast; holding");
      }
      return;
    }
    // Free enough for the projected usage to sit at the re-arm level, minus
    // what actions of the last `settle_seconds` are already freeing.
    if (projected <= static_cast<double>(rearm)) return;
    const uint64_t want = static_cast<uint64_t>(projected - static_cast<double>(rearm));
    if (want <= pending) return;
    const uint64_t need = want - pending;
    const std::string at = "GPU " + std::to_string(g.index) + " VRAM at " + pct_text(g.used_bytes, g.total_bytes);
    std::string why;
    if (t_.predict && loading) {
      why = at + " will reach " + pct_text(static_cast<uint64_t>(projected), g.total_bytes) +
            " once the loading model is in";
    } else if (t_.predict && std::isfinite(f.seconds_to_oom) && f.seconds_to_oom > 0) {
      why = at + (over ? " (over auto_offload_threshold)" : "") + " growing " +
            format_bytes(static_cast<uint64_t>(f.growth.slope_bytes_per_s)) + "/s: out of memory forecast in " +
            secs(f.seconds_to_oom);
    } else {
      why = at + " >= " + (over ? "auto_offload_threshold " + pct_text(thr, g.total_bytes) : "the OOM margin");
    }
    st_.offload_disarmed[g.index] = true;
    st_.offload_fired_at[g.index] = in_.now_seconds;
    const uint64_t freed = free_on_gpu(g, need, why, !over, !fast_tier_only);
    if (freed > 0) {
      // Watch how it lands (and whether the growth goes on) closely.
      if (t_.predict && can_sample_faster()) {
        st_.watch_until[g.index] = in_.now_seconds + t_.watch_seconds;
        request_sample(t_.fast_sample_seconds);
      }
      freed_log.push_back({in_.now_seconds, in_.now_seconds + land_delay_, freed});
      st_.last_freed[g.index] = {in_.now_seconds, freed};
    }
  }

  void compact_rule(const GpuState& g) {
    if (g.total_bytes == 0) return;
    const uint64_t thr = bytes_at_percent(g.total_bytes, p_.auto_compact_threshold);
    const uint64_t rearm = bytes_at_percent(g.total_bytes, p_.auto_compact_threshold - t_.hysteresis_percent);
    if (g.used_bytes < rearm) st_.compact_disarmed[g.index] = false;
    const bool gpu_trigger =
        g.used_bytes >= thr && armed(st_.compact_disarmed, st_.compact_fired_at, g.index);
    const uint64_t kv_limit = bytes_at_percent(g.total_bytes, p_.kv_cache_limit_percent);
    bool fired = false;
    for (const auto& m : in_.models) {
      if (m.gpu != g.index || m.kv_capacity_bytes == 0 || m.context_length == 0) continue;
      const bool over_limit = m.kv_capacity_bytes > kv_limit;
      if (!gpu_trigger && !over_limit) continue;
      if (taken_.count(m.key())) continue;
      const uint64_t peak = std::max(m.kv_peak_bytes, m.kv_used_bytes);
      if (peak == 0) {
        d_.notes.push_back(m.key() + ": KV cache use unknown, context not right-sized");
        continue;
      }
      const double ratio = static_cast<double>(peak) / static_cast<double>(m.kv_capacity_bytes);
      const uint32_t slots = std::max<uint32_t>(1, m.parallel_slots);
      uint32_t new_slots = slots;
      // Latency first: one request at a time needs one slot; throughput
      // keeps slots up to max_batch_size.
      if (!p_.prefer_throughput && slots > 1) new_slots = 1;
      if (p_.prefer_throughput && slots > static_cast<uint64_t>(p_.max_batch_size)) {
        new_slots = static_cast<uint32_t>(p_.max_batch_size);
      }
      uint64_t new_ctx = m.context_length;
      if (ratio <= t_.kv_rightsize_ratio) {
        // KV bytes scale linearly with context (2 x n_layer x n_ctx x
        // n_embd_kv x type size; research/memory-estimation.md), so peak
        // tokens = context x ratio; keep `kv_headroom` above it.
        const double want = static_cast<double>(m.context_length) * ratio * t_.kv_headroom;
        new_ctx = static_cast<uint64_t>(std::ceil(std::max<double>(want, t_.min_context) / 1024.0)) * 1024;
      } else if (new_slots < slots &&
                 ratio * t_.kv_headroom <= static_cast<double>(new_slots) / slots) {
        new_ctx = static_cast<uint64_t>(m.context_length) / slots * new_slots;
      }
      if (new_ctx >= m.context_length) continue;
      Action a = model_action(ActionKind::kResizeContext, m);
      a.context_length = static_cast<uint32_t>(new_ctx);
      a.parallel_slots = new_slots != slots ? new_slots : 0;
      a.expected_bytes = m.kv_capacity_bytes - static_cast<uint64_t>(static_cast<double>(m.kv_capacity_bytes) *
                                                                    static_cast<double>(new_ctx) / m.context_length);
      std::string trig = over_limit ? "KV cache " + format_bytes(m.kv_capacity_bytes) +
                                          " > kv_cache_limit_percent of GPU " + std::to_string(g.index)
                                    : "GPU " + std::to_string(g.index) + " VRAM at " +
                                          pct_text(g.used_bytes, g.total_bytes) +
                                          " >= auto_compact_threshold";
      a.reason = trig + "; " + m.name + " peaked at " + pct_text(peak, m.kv_capacity_bytes) +
                 " of its " + std::to_string(m.context_length) + "-token context: resize to " +
                 std::to_string(new_ctx) + " saves " + format_bytes(a.expected_bytes);
      if (emit(std::move(a))) fired = true;
    }
    if (gpu_trigger && fired) {
      st_.compact_disarmed[g.index] = true;
      st_.compact_fired_at[g.index] = in_.now_seconds;
    }
  }

  void ram_reserve_rule() {
    const uint64_t reserve = static_cast<uint64_t>(p_.reserve_ram_gb * static_cast<double>(kGiB));
    if (in_.host.total_bytes == 0 || in_.host.available_bytes >= reserve) return;
    const uint64_t need = reserve - in_.host.available_bytes;
    std::vector<const ModelState*> c;
    for (const auto& m : in_.models) {
      if (m.size_bytes > m.vram_bytes && unloadable(m, t_.idle_for_offload_seconds)) c.push_back(&m);
    }
    std::sort(c.begin(), c.end(), [](auto* a, auto* b) {
      return a->size_bytes - a->vram_bytes > b->size_bytes - b->vram_bytes;
    });
    uint64_t freed = 0;
    for (const ModelState* m : c) {
      if (freed >= need) break;
      Action a = model_action(ActionKind::kUnload, *m);
      a.expected_bytes = m->size_bytes - m->vram_bytes;
      a.host_ram = true;
      a.reason = "host RAM available " + format_bytes(in_.host.available_bytes) +
                 " < reserve_ram_gb " + format_bytes(reserve) + " (swap prevention); " + m->name +
                 " holds " + format_bytes(a.expected_bytes) + " of RAM and is idle";
      const uint64_t b = a.expected_bytes;
      if (emit(std::move(a))) freed += b;
    }
    if (freed < need) {
      d_.notes.push_back("host RAM below reserve_ram_gb by " + format_bytes(need) + "; idle models free only " +
                         format_bytes(freed));
    }
  }

  void image_generation_rule() {
    for (const auto& ig : in_.image_gen) {
      bool& was = st_.image_was_generating[ig.key()];
      const bool finished = was && !ig.generating;
      was = ig.generating;
      if (!p_.clear_cache_between_generations) continue;
      if (finished && ig.vram_bytes > 0) {
        Action a;
        a.kind = ActionKind::kFreeImageCache;
        a.target = ig.key();
        a.runtime = ig.runtime;
        a.endpoint = ig.endpoint;
        a.gpu = ig.gpu;
        a.expected_bytes = ig.vram_bytes;
        a.reason = ig.runtime + " finished a generation; profile " + p_.name +
                   " clears caches between generations";
        emit(std::move(a));
      }
      if (ig.generating) {
        // A render and an LLM fighting over one GPU is the users' top
        // complaint here (research pain point 7): idle LLMs yield.
        for (const auto& m : in_.models) {
          if (m.gpu != ig.gpu || m.vram_bytes == 0 || !unloadable(m, t_.idle_for_offload_seconds)) continue;
          Action a = model_action(ActionKind::kUnload, m);
          a.expected_bytes = m.vram_bytes;
          a.reason = ig.runtime + " is generating on GPU " + std::to_string(ig.gpu) + "; idle " + m.name +
                     " yields its VRAM (profile " + p_.name + ")";
          emit(std::move(a));
        }
      }
    }
  }

  void idle_unload_rule() {
    if (p_.idle_unload_seconds <= 0) return;
    for (const auto& m : in_.models) {
      if (!unloadable(m, static_cast<double>(p_.idle_unload_seconds))) continue;
      Action a = model_action(ActionKind::kUnload, m);
      a.expected_bytes = m.vram_bytes > 0 ? m.vram_bytes : m.size_bytes;
      a.host_ram = m.vram_bytes == 0;
      a.reason = m.name + " idle for " + secs(m.idle_seconds) + "; profile " + p_.name +
                 " unloads after " + std::to_string(p_.idle_unload_seconds) + " s";
      emit(std::move(a));
    }
  }

  void restore_rule(const GpuState& g, const GpuForecast& f) {
    if (g.total_bytes == 0 || gpus_acted_.count(g.index)) return;
    const double limit_pct =
        std::min(p_.reserve_vram_percent, p_.auto_compact_threshold - t_.hysteresis_percent);
    const uint64_t limit = bytes_at_percent(g.total_bytes, limit_pct);
    uint64_t used = g.used_bytes;
    for (const auto& m : in_.models) {
      if (m.gpu != g.index || m.gpu_layers >= m.n_layers || m.gpu_layer_bytes == 0) continue;
      if (taken_.count(m.key())) continue;
      if (g.throttling) {
        d_.notes.push_back("not restoring layers of " + m.name + " to GPU " + std::to_string(g.index) +
                           ": it is throttling (" + g.throttle_reason + ")");
        continue;
      }
      auto off = st_.offloaded_at.find(m.key());
      if (off != st_.offloaded_at.end() && in_.now_seconds - off->second < t_.restore_stable_seconds) continue;
      if (f.growth.valid && f.growth.slope_bytes_per_s > 0) continue;
      if (used >= limit) continue;
      const uint64_t fit = (limit - used) / m.gpu_layer_bytes;
      const uint64_t layers = std::min<uint64_t>(fit, m.n_layers - m.gpu_layers);
      if (layers == 0) continue;
      Action a = model_action(ActionKind::kRestoreLayers, m);
      a.gpu_layers = m.gpu_layers + static_cast<uint32_t>(layers);
      a.expected_bytes = layers * m.gpu_layer_bytes;
      a.reason = "GPU " + std::to_string(g.index) + " VRAM at " + pct_text(g.used_bytes, g.total_bytes) +
                 " has room: " + m.name + " back to " + std::to_string(a.gpu_layers) + " of " +
                 std::to_string(m.n_layers) + " layers on GPU";
      const uint64_t b = a.expected_bytes;
      if (emit(std::move(a))) {
        used += b;
        st_.offloaded_at.erase(m.key());
      }
    }
  }

  const PolicyInput& in_;
  const Profile& p_;
  const std::vector<PolicyInput>& history_;
  PolicyState& st_;
  const PolicyTuning& t_;
  Decision d_;
  std::set<std::string> taken_;
  std::set<int> gpus_acted_;
  double land_delay_ = 0;  // the slowest action emitted in this pass, seconds
};

}  // namespace

Decision decide(const PolicyInput& in, const Profile& profile, const std::vector<PolicyInput>& history,
                PolicyState& state, const PolicyTuning& tuning) {
  return Pass(in, profile, history, state, tuning).run();
}

}  // namespace memopt::policy

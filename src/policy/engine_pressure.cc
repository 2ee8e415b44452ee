// The policy pass (engine_pass.h): freeing memory under pressure. VRAM:
// on a forecast OOM (or, in threshold mode, over auto_offload_threshold),
// cheapest first. Host RAM: idle models' RAM when below reserve_ram_gb.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "policy/engine_pass.h"
#include "util/bytes.h"

namespace memopt::policy::engine_detail {

// The forecast's verdict on growing usage with no planned load: whether
// an OOM may come before an action decided at the next sample could land
// (or usage is inside the OOM margin already), and whether the fast tier
// (idle models, idle caches) covers it. Adds the growth to `projected`.
Pass::Risk Pass::growth_risk(const GpuState& g, const GpuForecast& f, double margin,
                             uint64_t pending, double pending_lands_at, double& projected) {
  const double total = static_cast<double>(g.total_bytes);
  const bool growing = f.growth.valid && f.growth.slope_bytes_per_s > 0 && f.still_growing;
  const double interval = watch(g, f);
  // Inside the OOM margin even once what is on its way has landed. Not
  // where usage stays at the level a load of known size brought it to
  // (offload_rule: known_level): that load's estimate counted what it
  // allocates last, so the margin's unseen steps are its own and they are
  // in; a plateau that fits is no risk, and the samples' noise there is no
  // growth. A rise above that level ends it, and growth is judged again.
  if (known_plateau_) return {};
  const bool margin_risk =
      static_cast<double>(g.used_bytes) - static_cast<double>(pending) > total - margin;
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
  const double near_need = static_cast<double>(g.used_bytes) + slope_hi * (interval + reload_s_) -
                           (total - margin) - static_cast<double>(pending);
  const bool cheap_covers = static_cast<double>(cheap_bytes(g)) >= near_need;
  const bool risk_now =
      t_oom <= unload_s_ + interval || (!cheap_covers && t_oom <= reload_s_ + interval);
  return {margin_risk || risk_now, cheap_covers, margin_risk};
}

// Why the offload acts, as the action's reason says it.
std::string Pass::offload_reason(const GpuState& g, const GpuForecast& f, bool over, uint64_t thr,
                                 bool loading, double projected) const {
  const std::string at =
      "GPU " + std::to_string(g.index) + " VRAM at " + pct_text(g.used_bytes, g.total_bytes);
  if (t_.predict && loading) {
    return at + " will reach " + pct_text(static_cast<uint64_t>(projected), g.total_bytes) +
           " once the loading model is in";
  }
  if (t_.predict && std::isfinite(f.seconds_to_oom) && f.seconds_to_oom > 0) {
    return at + (over ? " (over auto_offload_threshold)" : "") + " growing " +
           format_bytes(static_cast<uint64_t>(f.growth.slope_bytes_per_s)) +
           "/s: out of memory forecast in " + secs(f.seconds_to_oom);
  }
  return at + " >= " +
         (over ? "auto_offload_threshold " + pct_text(thr, g.total_bytes) : "the OOM margin");
}

void Pass::offload_rule(const GpuState& g, const GpuForecast& f) {
  if (g.total_bytes == 0) return;
  const uint64_t thr = bytes_at_percent(g.total_bytes, p_.auto_offload_threshold);
  const uint64_t rearm =
      bytes_at_percent(g.total_bytes, p_.auto_offload_threshold - t_.hysteresis_percent);
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
  plan_delays(g);
  // Growth known before it lands (the planner's estimate of a loading model,
  // the gateway's admission, a learned profile): it explains the trend
  // better than a line through the samples does.
  uint64_t known_growth = 0;
  bool loading = false;
  for (const auto& a : in_.announced) {
    if (a.gpu == g.index && a.remaining_bytes() > 0) {
      known_growth += a.remaining_bytes();
      loading = true;
    }
  }
  // A load that finished within the forecast window still tilts the
  // fitted line; its growth was known, so the line says nothing new.
  for (const auto& h : history_) {
    if (in_.now_seconds - h.now_seconds > t_.forecast_window_seconds) continue;
    for (const auto& a : h.announced) {
      if (a.gpu == g.index && a.remaining_bytes() > 0) loading = true;
    }
  }
  // So does a model its runtime began listing within the window (a load
  // quicker than the runtime's list, which shows it loaded at once): its
  // size is what the climb was, and it is in.
  if (t_.new_model_explains_climb && !history_.empty()) {
    const PolicyInput* oldest = nullptr;
    for (const auto& h : history_) {
      if (in_.now_seconds - h.now_seconds <= t_.forecast_window_seconds) {
        oldest = &h;
        break;
      }
    }
    for (const auto& m : in_.models) {
      if (!oldest || m.gpu != g.index || m.vram_bytes == 0) continue;
      const bool listed_before = std::any_of(oldest->models.begin(), oldest->models.end(),
                                             [&](const ModelState& o) { return o.key() == m.key(); });
      if (!listed_before) loading = true;
    }
  }
  const bool over = g.used_bytes >= thr;
  const double total = static_cast<double>(g.total_bytes);
  double step_seen_at = -std::numeric_limits<double>::infinity();
  bool step_margin = false;  // the margin is the step rule's
  // The last bytes before OOM: compute buffers and a new request's
  // activations arrive in steps the samples cannot see coming.
  const double base_margin = t_.oom_margin_bytes(g.total_bytes);
  double margin = base_margin;
  // Growth that comes in steps (PyTorch's allocator takes segments, a
  // game a level, llama.cpp its KV at once): the next step may be as big as
  // the largest one seen lately, and no line through the samples sees it
  // coming. Keep that much (times step_margin_factor) in hand.
  // Steps of a load announced lately were known, not a sign of what comes.
  bool announced_lately = false;
  for (const auto& h : history_) {
    if (in_.now_seconds - h.now_seconds > t_.step_window_seconds) continue;
    for (const auto& a : h.announced) announced_lately = announced_lately || a.gpu == g.index;
  }
  for (const auto& a : in_.announced) announced_lately = announced_lately || a.gpu == g.index;
  // The level loads whose size was known brought the GPU to (while one
  // is loading, the highest usage seen), kept past the history's window. A
  // rise above it beyond the counters' wobble that nobody announced ends
  // it, and so does a fall below it by more than the OOM margin (memory
  // freed: a climb from there is judged as any other).
  const double wobble = t_.wobble_bytes();
  if (loading) {
    uint64_t& l = st_.known_level[g.index];
    l = std::max(l, g.used_bytes);
  } else if (auto it = st_.known_level.find(g.index);
             it != st_.known_level.end() &&
             (static_cast<double>(g.used_bytes) > static_cast<double>(it->second) + wobble ||
              static_cast<double>(g.used_bytes) + base_margin <
                  static_cast<double>(it->second))) {
    st_.known_level.erase(it);
  }
  const auto level = st_.known_level.find(g.index);
  known_plateau_ = t_.known_plateau && !loading && level != st_.known_level.end() &&
                   static_cast<double>(g.used_bytes) <= static_cast<double>(level->second) + wobble;
  if (!announced_lately) {
    const double step = static_cast<double>(recent_step(g, &step_seen_at));
    margin = std::max(margin, t_.step_margin_factor * step);
    step_margin = step > 0 && t_.step_margin_factor * step >= margin;
    // A steady climb (the fit holds and the last samples agree): a load
    // streaming in, whose last allocations may come at once.
    if (t_.stream_tail_fraction > 0 && f.growth.valid && f.still_growing) {
      margin = std::max(margin, t_.stream_tail_fraction * static_cast<double>(climb_bytes(g)));
    }
  }
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
  bool at_risk = false;         // the forecast says OOM is coming
  bool fast_tier_only = false;  // the forecast asks only for the free actions
  bool inside_margin = false;   // usage is closer to full than the margin
  if (t_.predict) {
    if (loading) {
      projected += static_cast<double>(known_growth);
      at_risk = projected > total - t_.loading_margin_fraction * margin;
    } else {
      const Risk r = growth_risk(g, f, margin, pending, pending_lands_at, projected);
      at_risk = r.at_risk;
      fast_tier_only = r.fast_tier_only;
      inside_margin = r.margin;
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
    if (!act && over && in_.now_seconds - st_.offload_fired_at[g.index] < t_.settle_seconds)
      act = true;
  }
  if (!act) {
    if (over && t_.predict) {
      d_.notes.push_back("GPU " + std::to_string(g.index) +
                         " above auto_offload_threshold but no OOM "
                         "forecast; holding");
    }
    return;
  }
  // Free enough for the projected usage to sit at the re-arm level, minus
  // what actions of the last `settle_seconds` are already freeing. On a
  // plateau after steps nobody announced (a game's level, a program's
  // allocator segments), where a step as big as the last ones would not
  // fit, at least what gives the step margin back, below the re-arm level
  // too: once step_confirm_seconds have passed since the last step without
  // an announcement (a runtime lists a model it loads within about a
  // second, and the planner then knows the rest) and with no climb going.
  double want_d = projected - static_cast<double>(rearm);
  if (inside_margin && step_margin && !(f.growth.valid && f.still_growing) &&
      in_.now_seconds - step_seen_at >= t_.step_confirm_seconds) {
    want_d = std::max(want_d, static_cast<double>(g.used_bytes) + margin - total);
  }
  if (want_d <= 0) return;
  const uint64_t want = static_cast<uint64_t>(want_d);
  if (want <= pending) return;
  const uint64_t need = want - pending;
  const std::string why = offload_reason(g, f, over, thr, loading, projected);
  st_.offload_disarmed[g.index] = true;
  st_.offload_fired_at[g.index] = in_.now_seconds;
  // Under a climb nothing announced that the fit does not follow (steps:
  // the margin acted, not the forecast), a reload frees what the climb's
  // own rate adds over cover_seconds too: the model is then out of reach
  // for a cooldown, and a reload sized for the moment leaves the rest of
  // the climb to nothing. (A forecast's projection holds that growth.)
  uint64_t reload_need = need;
  if (t_.predict && !loading && projected <= static_cast<double>(g.used_bytes)) {
    double since = in_.now_seconds;
    const uint64_t climb = climb_bytes(g, &since);
    if (climb > 0 && in_.now_seconds - since >= t_.sample_interval_seconds) {
      const double rate = static_cast<double>(climb) / (in_.now_seconds - since);
      reload_need = need + static_cast<uint64_t>(rate * t_.cover_seconds);
    }
  }
  const uint64_t freed = free_on_gpu(g, need, why, !over, !fast_tier_only, reload_need);
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

uint64_t Pass::recent_step(const GpuState& g, double* latest_at) const {
  uint64_t step = 0;
  const uint64_t* prev = nullptr;
  double prev_t = 0;
  auto visit = [&](double t, const std::vector<GpuState>& gpus) {
    for (const auto& hg : gpus) {
      if (hg.index != g.index) continue;
      // One interval apart at most: a rise over a longer gap is growth.
      if (prev && hg.used_bytes > *prev && t - prev_t <= 1.5 * t_.sample_interval_seconds) {
        step = std::max(step, hg.used_bytes - *prev);
        // The counters' wobble is no step: it does not restart the wait.
        if (latest_at && static_cast<double>(hg.used_bytes - *prev) > t_.wobble_bytes()) *latest_at = t;
      }
      prev = &hg.used_bytes;
      prev_t = t;
    }
  };
  for (const auto& h : history_) {
    if (in_.now_seconds - h.now_seconds <= t_.step_window_seconds) visit(h.now_seconds, h.gpus);
  }
  visit(in_.now_seconds, in_.gpus);
  return step;
}

uint64_t Pass::climb_bytes(const GpuState& g, double* since) const {
  // Walk back while each older sample is no higher than the next (within
  // the counters' wobble).
  const double wobble = t_.wobble_bytes();
  uint64_t lowest = g.used_bytes;
  uint64_t next = g.used_bytes;
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    const GpuState* hg = nullptr;
    for (const auto& x : it->gpus) {
      if (x.index == g.index) hg = &x;
    }
    if (!hg || static_cast<double>(hg->used_bytes) > static_cast<double>(next) + wobble) break;
    next = hg->used_bytes;
    if (next <= lowest) {
      lowest = next;
      if (since) *since = it->now_seconds;
    }
  }
  return g.used_bytes - lowest;
}

void Pass::plan_delays(const GpuState& g) {
  unload_s_ = delay_of(ActionKind::kUnload, "", 0);
  reload_s_ = delay_of(ActionKind::kReloadFewerLayers, "", 0);
  bool any_idle = false, any_reload = false;
  double u = 0, r = 0;
  for (const auto& m : in_.models) {
    if (m.gpu != g.index || m.vram_bytes == 0) continue;
    if (unloadable(m, t_.idle_for_offload_seconds)) {
      u = std::max(u, delay_of(ActionKind::kUnload, m.runtime, m.vram_bytes));
      any_idle = true;
    } else if (!m.pinned && m.gpu_layers > 0) {
      r = std::max(r, delay_of(ActionKind::kReloadFewerLayers, m.runtime, m.vram_bytes));
      any_reload = true;
    }
  }
  if (any_idle) unload_s_ = u;
  if (any_reload) reload_s_ = r;
}

// What the fast actions (unload an idle model, free an idle image cache)
// can free on GPU `g`, counted as free_on_gpu would take them.
uint64_t Pass::cheap_bytes(const GpuState& g) const {
  uint64_t bytes = 0;
  for (const auto& m : in_.models) {
    if (m.gpu == g.index && m.vram_bytes > 0 && unloadable(m, t_.idle_for_offload_seconds) &&
        !cooling(m.key())) {
      bytes += m.vram_bytes;  // (one already on its way counts as pending)
    }
  }
  for (const auto& ig : in_.image_gen) {
    if (ig.gpu == g.index && !ig.generating && !cooling(ig.key())) bytes += ig.vram_bytes;
  }
  return bytes;
}

// Frees `need` bytes on GPU `g`, cheapest first: idle models (longest idle
// first), idle image-generation caches, then the largest model reloaded
// with fewer GPU layers (it keeps serving, only slower). Without
// `allow_reload` only the fast, free tier is taken.
uint64_t Pass::free_on_gpu(const GpuState& g, uint64_t need, const std::string& why,
                           bool predictive, bool allow_reload, uint64_t reload_need) {
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
    Action a = image_cache_action(ig);
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
  const uint64_t reload_target = std::max(need, reload_need);
  for (const ModelState* m : big) {
    if (freed >= need) return freed;
    const uint64_t rest = reload_target - freed;
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

void Pass::ram_reserve_rule() {
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
    d_.notes.push_back("host RAM below reserve_ram_gb by " + format_bytes(need) +
                       "; idle models free only " + format_bytes(freed));
  }
}

}  // namespace memopt::policy::engine_detail

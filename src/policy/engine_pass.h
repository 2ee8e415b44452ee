#pragma once
// Inside the policy engine (engine.h is its interface): one pass of
// decide(). The pass runs the rule families in a fixed order over one
// input; each family lives in a file of its own:
//   engine.cc           the pass itself and what every rule shares (emit,
//                       cooldowns, rate limit, thermal flags)
//   engine_forecast.cc  the per-GPU growth forecast and the fast-sample watch
//   engine_pressure.cc  freeing VRAM under pressure (offload) and host RAM
//                       under the reserve, cheapest first
//   engine_context.cc   context right-sizing (auto_compact, kv_cache_limit)
//   engine_image.cc     image-generation caches, and LLMs yielding to a render
//   engine_idle.cc      unloading models idle past the profile's limit
//   engine_restore.cc   moving layers back once the GPU has room
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/engine.h"

namespace memopt::policy::engine_detail {

uint64_t bytes_at_percent(uint64_t total, double percent);
std::string pct_text(uint64_t used, uint64_t total);  // "91.2%"
std::string secs(double s);                           // "4.5 s"

// One pass of the engine: the inputs and what has been decided so far.
class Pass {
 public:
  Pass(const PolicyInput& in, const Profile& profile, const std::vector<PolicyInput>& history,
       PolicyState& state, const PolicyTuning& tuning)
      : in_(in), p_(profile), history_(history), st_(state), t_(tuning) {}

  Decision run();

 private:
  // engine.cc: shared by every rule.
  void prune_rate_window();
  void thermal_rule(const GpuState& g);
  void request_sample(double seconds);
  bool emit(Action a);
  Action model_action(ActionKind kind, const ModelState& m) const;
  double delay_of(ActionKind kind, const std::string& runtime, uint64_t bytes) const;
  // The slowest planned delay of the actions free_on_gpu may take on `g`:
  // unloads of the idle models, reloads of the others.
  void plan_delays(const GpuState& g);
  // The largest rise between two consecutive samples of `g` lately.
  // The largest rise between two samples within step_window_seconds;
  // `latest_at` (optional) gets when the latest such rise was seen.
  uint64_t recent_step(const GpuState& g, double* latest_at = nullptr) const;
  // What the GPU gained over the climb that ends now (samples rising,
  // within the counters' wobble), 0 when not climbing.
  // `since` (optional) gets the time the climb started.
  uint64_t climb_bytes(const GpuState& g, double* since = nullptr) const;
  // Frees `ig`'s cache, all of its VRAM.
  static Action image_cache_action(const ImageGenState& ig);
  bool unloadable(const ModelState& m, double min_idle) const;
  bool cooling(const std::string& target) const;
  // Whether the samples of `gpu` showed an offload's drop after `since`
  // (GpuForecast::landed_before_seconds).
  bool landed_since(int gpu, double since) const;
  bool armed(std::map<int, bool>& disarmed, std::map<int, double>& fired_at, int gpu) const;

  // engine_forecast.cc
  GpuForecast forecast(const GpuState& g);
  bool can_sample_faster() const;
  double watch(const GpuState& g, const GpuForecast& f);

  // engine_pressure.cc
  void offload_rule(const GpuState& g, const GpuForecast& f);
  struct Risk {
    bool at_risk = false;         // an OOM may come before a later action could land
    bool fast_tier_only = false;  // the free actions cover it
    bool margin = false;          // usage is inside the OOM margin (the step rule's included)
  };
  Risk growth_risk(const GpuState& g, const GpuForecast& f, double margin, uint64_t pending,
                   double pending_lands_at, double& projected);
  std::string offload_reason(const GpuState& g, const GpuForecast& f, bool over, uint64_t thr,
                             bool loading, double projected) const;
  uint64_t cheap_bytes(const GpuState& g) const;
  // `reload_need`: what the reload tier frees (at least `need`; a reload
  // costs a cooldown, so it is sized for the climb, not the moment).
  uint64_t free_on_gpu(const GpuState& g, uint64_t need, const std::string& why, bool predictive,
                       bool allow_reload = true, uint64_t reload_need = 0);
  void ram_reserve_rule();

  // engine_context.cc
  void compact_rule(const GpuState& g);
  // engine_image.cc
  void image_generation_rule();
  // engine_idle.cc
  void idle_unload_rule();
  // engine_restore.cc
  void restore_rule(const GpuState& g, const GpuForecast& f);

  const PolicyInput& in_;
  const Profile& p_;
  const std::vector<PolicyInput>& history_;
  PolicyState& st_;
  const PolicyTuning& t_;
  Decision d_;
  std::set<std::string> taken_;
  std::set<int> gpus_acted_;
  double land_delay_ = 0;  // the slowest action emitted in this pass, seconds
  double unload_s_ = 0;    // plan_delays(): for the GPU being judged
  double reload_s_ = 0;
  bool known_plateau_ = false;  // offload_rule(): see growth_risk
};

}  // namespace memopt::policy::engine_detail

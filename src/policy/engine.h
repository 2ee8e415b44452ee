#pragma once
// The policy engine (the seed's Offload Orchestrator + Inference Optimizer):
// input + profile + recent history -> actions, each with its reason and the
// bytes it is expected to free. Pure: the state it remembers between passes
// (hysteresis, rate limits) is passed in and out explicitly; no clock, no I/O.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "policy/policy_input.h"
#include "policy/predictor.h"
#include "policy/profile.h"

namespace memopt::policy {

enum class ActionKind {
  kUnload,             // unload a model through its runtime's API
  kReloadFewerLayers,  // reload with fewer GPU layers (spill to CPU)
  kResizeContext,      // reload with a right-sized context / fewer slots
  kRestoreLayers,      // reload with more GPU layers once space returned
  kFreeImageCache,     // ComfyUI POST /free, A1111 unload checkpoint
};
const char* action_kind_name(ActionKind k);  // "unload", "reload_fewer_layers", ...

struct Action {
  ActionKind kind = ActionKind::kUnload;
  std::string target;  // ModelState::key() or ImageGenState::key()
  std::string runtime;
  std::string model;
  std::string endpoint;
  int gpu = -1;
  uint32_t gpu_layers = 0;      // new value for reload/restore
  uint32_t context_length = 0;  // new value for resize
  uint32_t parallel_slots = 0;  // new value for resize (0 = unchanged)
  // Bytes the action frees on `gpu`; for restore, the bytes it moves back.
  uint64_t expected_bytes = 0;
  bool host_ram = false;    // expected_bytes are host RAM (reserve_ram_gb rule)
  bool predictive = false;  // taken on a forecast, before the threshold
  std::string reason;
  std::string outcome;  // filled by the actuator: "dry-run", "ok", "failed: ..."
};

// A GPU throttling for temperature or power: shown to the user, and never a
// target of restore/rebalance.
struct ThermalFlag {
  int gpu = 0;
  std::string reason;
};

struct GpuForecast {
  int gpu = 0;
  GrowthForecast growth;
  double seconds_to_threshold = 0;  // to auto_offload_threshold (inf: never)
  double seconds_to_oom = 0;        // to 100 % (inf: never)
  bool still_growing = false;       // the last samples agree with the trend
  // Offload actions taken at or before this time show in the samples
  // already (their drop was seen); -inf when none was seen.
  double landed_before_seconds = -std::numeric_limits<double>::infinity();
};

struct Decision {
  std::vector<Action> actions;
  std::vector<ThermalFlag> thermal;
  std::vector<GpuForecast> forecasts;
  std::vector<std::string> notes;  // what it chose not to do, and why
  // > 0: take the next sample this soon (seconds) rather than at the
  // configured interval: usage is heading for OOM and the moment to act
  // must not fall between two samples. 0: the configured interval.
  double next_sample_seconds = 0;
};

// Knobs that are not the user's profile: how cautious the engine is.
struct PolicyTuning {
  double hysteresis_percent = 5;        // re-arm a trigger only this far below it
  double target_cooldown_seconds = 60;  // never act on one target twice within
  int max_actions_per_minute = 6;       // global rate limit
  bool predict = true;                  // act on forecasts, not only thresholds
  double forecast_window_seconds = 4;   // samples the trend is fitted on
  double recent_window_seconds = 1;     // and the last of them, for a kink
  // How long an action takes to show in the samples once decided: the
  // prior median, used where the daemon has recorded no such action yet
  // (PolicyInput::delays; Ollama frees an unloaded model in about a second,
  // a reload with fewer layers reads the weights again). The engine plans
  // with p50 + delay_spread_factor x (p90 - p50) of the learned figures,
  // blended with the prior (p90 = prior_p90_ratio x median) by count:
  // learned weight count / (count + prior_weight). A forecast acts only
  // when the earliest plausible OOM is closer than that plus one sample
  // interval: later would be too late, earlier acts on growth that may
  // still stop on its own.
  double unload_seconds = 1;
  double reload_seconds = 3;
  double prior_p90_ratio = 2;
  double delay_spread_factor = 1.5;
  double prior_weight = 3;
  double cover_seconds = 16;  // a forecast action frees this much growth
  // The caller's sample interval, and the faster one the engine asks for
  // (Decision::next_sample_seconds) while the earliest plausible OOM is
  // within reload_seconds + watch_seconds. 0 = never faster.
  double sample_interval_seconds = 1;
  double fast_sample_seconds = 0.25;
  double watch_seconds = 5;
  double idle_for_offload_seconds = 30;  // "idle" for the cheapest-first order
  double restore_stable_seconds = 60;    // quiet time before moving layers back
  double settle_seconds = 10;            // time for an action to show in samples
  // This close to full counts as at risk: what the samples cannot resolve
  // (the counters' wobble, allocations made in blocks of MiB).
  double oom_margin_percent = 1;
  uint64_t oom_margin_min_bytes = 128ULL << 20;
  // That margin on a GPU of `total_bytes`, and the counters' wobble (half
  // the margin's minimum): a rise or fall no bigger is no change.
  double oom_margin_bytes(uint64_t total_bytes) const {
    return std::max(static_cast<double>(total_bytes) * oom_margin_percent / 100.0,
                    static_cast<double>(oom_margin_min_bytes));
  }
  double wobble_bytes() const { return static_cast<double>(oom_margin_min_bytes) / 2; }
  // And at least the largest step usage rose by between two samples within
  // step_window_seconds, times this (engine_pressure.cc). 0: off.
  // 3 (was 2 until 2026-12-05): a game's level, after loading screens'
  // smaller steps, is often more than twice their size. Chosen on the
  // tuning set at 1000 traces a kind (policy_sim_bench --summary
  // --traces-per-kind=1000 --knob=step_margin_factor=N): prevention at 1x
  // 99.2 % -> 99.4 %, growth nobody announced 98.4 % -> 99.1 %; the waste
  // for that growth 49.9 % -> 52.8 % (known loads' waste unchanged).
  double step_margin_factor = 3;
  double step_window_seconds = 30;
  // Below the re-arm level that margin acts only on a plateau this long
  // after the last step (engine_pressure.cc offload_rule).
  double step_confirm_seconds = 2;
  // A steady climb with nothing announced is a load streaming in (a
  // model's weights); what follows a stream often comes at once (llama.cpp
  // allocates the whole KV cache and its compute buffer after the weights):
  // keep this share of what the climb has added in hand too (0: off).
  // 0.35: llama.cpp's KV cache and compute buffer are up to about a third
  // of the weights at the contexts people run (src/estimate); chosen on the
  // simulator's tuning set (policy_sim_bench --summary).
  double stream_tail_fraction = 0.35;
  // Share of that margin a planned load keeps on top of its planned size.
  // 0: the planner's estimate of a load is never under what llama.cpp
  // allocates (measured in src/estimate: total never under in 36 real
  // configurations, compute up to +7.5 %), so it is already a bound.
  double loading_margin_fraction = 0;
  // A GPU inside the OOM margin after a load whose size was known, holding
  // still, is not at risk (engine_pressure.cc growth_risk). false: the
  // margin acts on it like on any plateau.
  bool known_plateau = true;
  // A model its runtime began listing within forecast_window_seconds
  // explains the climb the window's line shows (engine_pressure.cc).
  bool new_model_explains_climb = true;
  double kv_rightsize_ratio = 0.5;  // right-size when peak/capacity is below
  double kv_headroom = 1.25;        // new context = observed peak x this
  uint32_t min_context = 2048;
};

// Remembered between passes. Start with a default-constructed one.
struct PolicyState {
  std::map<std::string, double> last_action_at;  // per target
  std::map<std::string, int> last_action_kind;   // per target, an ActionKind
  std::vector<double> recent_action_times;       // for the rate limit
  std::map<int, bool> offload_disarmed;          // fired, waiting to fall below
  std::map<int, double> offload_fired_at;
  // Bytes freed by recent offload actions per GPU (time, bytes), so a pass
  // does not free the same shortfall twice before the first action shows.
  struct Freed {
    double at = 0;        // decided
    double lands_at = 0;  // expected to show in the samples (decided + the slowest action's delay)
    uint64_t bytes = 0;
  };
  std::map<int, std::vector<Freed>> recently_freed;
  // The latest offload per GPU (time, bytes), kept past the episode: the
  // forecaster looks for its drop in the samples.
  std::map<int, std::pair<double, uint64_t>> last_freed;
  std::map<int, double> watch_until;  // per GPU: sample fast until then
  // Per GPU: the usage loads whose size was known brought it to; gone once
  // usage rises above it unannounced (engine_pressure.cc).
  std::map<int, uint64_t> known_level;
  std::map<int, bool> compact_disarmed;
  std::map<int, double> compact_fired_at;
  std::map<std::string, bool> image_was_generating;
  std::map<std::string, double> offloaded_at;  // model key -> when layers left the GPU
};

// One pass. `history` holds earlier inputs, oldest first (the caller keeps a
// bounded window); it feeds the forecaster.
// The delay the engine plans with for `kind` on a model of `runtime`
// holding `model_bytes` (see PolicyTuning::unload_seconds).
double planned_delay_seconds(const std::vector<ActionDelayStats>& learned, ActionKind kind,
                             const std::string& runtime, uint64_t model_bytes,
                             const PolicyTuning& tuning);

Decision decide(const PolicyInput& in, const Profile& profile,
                const std::vector<PolicyInput>& history, PolicyState& state,
                const PolicyTuning& tuning = {});

}  // namespace memopt::policy

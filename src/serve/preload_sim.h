#pragma once
// Judges the preload predictor on replayed request logs. A generator makes
// weeks of realistic gateway traffic from a seed (users with working hours
// and evenings, sessions of several requests, model successions such as
// "embed, then the chat model", a nightly batch job, random noise); a replay
// runs it through the gateway's own admission (admit()) with a memory budget
// that holds only some of the models, with and without preloading, and
// counts how often the first request of a session found its model loaded.
// Knobs are set on the tuning seeds; the held-out seeds are only reported.
// Pure: seeds in, counts out. Model loads take no time here (a preload made
// at an idle moment is up before the next request), which is what the
// gateway's preload_idle_seconds and the load time must make true.
#include <cstdint>
#include <string>
#include <vector>

namespace memopt::serve::preload_sim {

struct SimModel {
  std::string name;
  uint64_t bytes = 0;
};

struct SimRequest {
  int64_t t = 0;  // unix seconds
  int model = 0;  // index into Trace::models
  bool first_of_session = false;
};

struct Trace {
  uint64_t seed = 0;
  std::vector<SimModel> models;
  uint64_t budget_bytes = 0;
  std::vector<SimRequest> requests;  // in time order
  int64_t measure_from = 0;          // the first week teaches, the rest is counted
};

// `weeks` of traffic from 2026-01-05 (a Monday) 00:00 UTC.
Trace make_trace(uint64_t seed, int weeks = 6);

// The seeds the knobs were chosen on, and the ones only reported.
std::vector<uint64_t> tuning_seeds();
std::vector<uint64_t> held_out_seeds();

enum class Policy {
  kLru,        // on a miss, stop the least recently used models until it fits
  kAdmission,  // on a miss, the gateway's admit(): cheapest set, then LRU
  kPredictor,  // kAdmission + preloading at idle moments
};
const char *policy_name(Policy p);

// The gateway's preload settings, as the sim uses them.
struct Knobs {
  // The defaults are the best of `preload_sim_bench --tune` on the tuning
  // seeds, and the gateway's defaults.
  double min_probability = 0.2;      // [serve] preload_min_probability
  int64_t idle_seconds = 60;         // [serve] preload_idle_seconds
  int64_t evict_idle_seconds = 120;  // [serve] preload_evict_idle_seconds (0: never evict)
  int64_t recheck_seconds = 30;      // how often an idle gateway asks again
  double half_life_days = 14;        // PreloadPredictorOptions::half_life_days
};

struct Outcome {
  uint64_t sessions = 0;    // counted sessions
  uint64_t warm_first = 0;  // whose first request found its model loaded
  uint64_t requests = 0;
  uint64_t warm = 0;
  uint64_t loads = 0;          // on-demand loads (cold requests)
  uint64_t preloads = 0;       // loads made by the predictor
  uint64_t preloads_used = 0;  // preloaded models requested before being evicted
  double warm_first_percent() const {
    return sessions ? 100.0 * static_cast<double>(warm_first) / static_cast<double>(sessions) : 0;
  }
  Outcome &operator+=(const Outcome &o);
};

Outcome replay(const Trace &trace, Policy policy, const Knobs &knobs = {});

}  // namespace memopt::serve::preload_sim

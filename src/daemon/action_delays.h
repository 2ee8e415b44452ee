#pragma once
// How long actions really take to give memory back on this machine (issue
// 14): the daemon watches each action it carried out until the runtime no
// longer holds the memory, records the delay in its history, and gives the
// engine the spread per runtime, action kind and model size class. Pure:
// inputs in, values out.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/engine.h"

namespace memopt::daemon {

// One measured action, as history stores it.
struct DelayRecord {
  int64_t ts_ms = 0;  // when it was decided (unix ms)
  std::string runtime;
  std::string kind;  // action_kind_name()
  std::string model;
  uint64_t model_bytes = 0;  // the model's VRAM when decided
  double call_seconds = 0;   // the runtime's API call
  double freed_seconds = 0;  // decision -> memory no longer held
};

// An action carried out whose memory has not shown free yet.
struct DelayWatch {
  policy::Action action;
  double decided_seconds = 0;
  int64_t decided_unix_ms = 0;
  double call_seconds = 0;
  uint64_t model_vram_bytes = 0;  // the model's VRAM when decided
  // The memory can show free before the runtime's call returns (Ollama
  // stops the runner, then answers): both are waited for.
  bool call_finished = false;
  double back_at_seconds = -1;  // daemon clock; -1 = not seen yet
};

// Only actions that free memory have a delay worth learning (a restore
// moves layers back; its time is a load's).
bool frees_memory(policy::ActionKind k);

// A watch for `a`, with the model's VRAM taken from `decided_on`
// (the input it was decided on); nothing for actions that free nothing.
std::optional<DelayWatch> watch_for(const policy::Action& a, double decided_seconds,
                                    int64_t decided_unix_ms, double call_seconds,
                                    const policy::PolicyInput& decided_on);

// Whether `in` shows the watched memory given back: the runtime no longer
// lists the model (unload), or lists it holding at least half of the
// expected bytes less (a reload with fewer layers or a smaller context), or
// the image runtime's VRAM fell by half of what it held. Judged on the
// runtime's own figures, not the GPU's total: on a GPU that is filling up
// (the very case the policy acts in) the total may never fall.
bool memory_back(const DelayWatch& w, const policy::PolicyInput& in);

// Size classes of models, by VRAM: [0, 2 GiB), [2, 4), [4, 8), ... [64, inf).
// Delays grow with what is freed (weights to unmap, a larger process to
// stop), so a 70B model's unload says little about a 1B one's.
struct SizeClass {
  uint64_t min_bytes = 0;
  uint64_t max_bytes = 0;  // 0 = no upper bound
};
SizeClass size_class(uint64_t model_bytes);

// Spread of the delays, per runtime, kind and size class: median, 90th
// percentile and maximum of the newest `per_group` records of each (a
// runtime upgrade changes its delays; old records should age out).
struct DelaySummary {
  std::string runtime;
  std::string kind;
  SizeClass size;
  uint32_t count = 0;
  double p50_seconds = 0;
  double p90_seconds = 0;
  double max_seconds = 0;
};
std::vector<DelaySummary> summarize_delays(const std::vector<DelayRecord>& newest_first,
                                           size_t per_group = 64);

// The engine's input (policy_input.h) from the summaries.
std::vector<policy::ActionDelayStats> delay_stats(const std::vector<DelaySummary>& summaries);

}  // namespace memopt::daemon

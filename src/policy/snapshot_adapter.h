#pragma once
// From the typed Snapshot every view renders (src/snapshot) to the policy
// engine's compact input. Pure. Everything the engine needs is in the
// Snapshot (the GPUs with their throttle state, host memory, the loaded
// models with what their runtimes report and what the assembler tracked
// across readings), plus what only the daemon keeps: the gateway's
// announced loads, learned action delays and learned workload profiles.
// This is the ONE way an input is made: the daemon and the simulator both
// call it, so the simulator cannot give the engine what the daemon lacks.
#include <vector>

#include "policy/policy_input.h"
#include "policy/workload_profile.h"
#include "snapshot/snapshot.h"

namespace memopt::policy {

// What the daemon knows beyond one Snapshot.
struct DaemonKnowledge {
  std::vector<AnnouncedLoad> gateway;  // admissions by `serve` (source "gateway")
  // The planner's estimates (model, endpoint, gpu, bytes) of the models the
  // runtimes list, made by the daemon from each model's file (model_path /
  // Ollama digest): used for a model while the Snapshot shows it "loading".
  std::vector<AnnouncedLoad> planned;
  std::vector<ActionDelayStats> delays;   // from the history's action records
  std::vector<WorkloadProfile> profiles;  // learned from the history's runs
  int profile_max_distance = 2;           // nearest neighbour reach (match_profile)
};

PolicyInput to_policy_input(const snapshot::Snapshot& snapshot, double now_seconds);
PolicyInput to_policy_input(const snapshot::Snapshot& snapshot, double now_seconds,
                            const DaemonKnowledge& knowledge);

}  // namespace memopt::policy

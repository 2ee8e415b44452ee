#pragma once
// One sample of the machine as the daemon sees it: the typed Snapshot (what
// GET /api/v1/status serves, through snapshot::to_json, and what /metrics
// renders) and the policy engine's compact digest of it. Plain values.
#include <cstdint>

#include "policy/policy_input.h"
#include "policy/snapshot_adapter.h"
#include "snapshot/snapshot.h"

namespace memopt::daemon {

struct Sample {
  int64_t unix_ms = 0;
  snapshot::Snapshot snapshot;  // collectors that failed are in snapshot.errors
  policy::PolicyInput input;
};

// Where samples come from: the real machine (system_sampler.h) or a test.
class Sampler {
 public:
  virtual ~Sampler() = default;
  // `now_seconds` is the daemon's monotonic clock, copied into the input.
  // `knowledge` is what the daemon learned beyond one Snapshot (learned
  // workload profiles, announced loads): the input is made with it.
  virtual Sample sample(double now_seconds, const policy::DaemonKnowledge& knowledge) = 0;
};

}  // namespace memopt::daemon

#pragma once
// From the typed Snapshot every view renders (src/snapshot) to the policy
// engine's compact input. Pure. Everything the engine needs is in the
// Snapshot: the GPUs with their throttle state, host memory, the loaded
// models with what their runtimes report and what the assembler tracked
// across readings (idle time, KV peak, layers).
#include "policy/policy_input.h"
#include "snapshot/snapshot.h"

namespace memopt::policy {

PolicyInput to_policy_input(const snapshot::Snapshot& snapshot, double now_seconds);

}  // namespace memopt::policy

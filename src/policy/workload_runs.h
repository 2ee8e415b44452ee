#pragma once
// Runs of workloads, as the daemon sees them sample after sample: each
// workload (by pid and signature) keeps its VRAM per GPU from the moment the
// daemon first saw it; when it is gone, its runs come out for learn()
// (workload_profile.h). Pure: Snapshots in, finished runs out.
//
// Only runs whose start the daemon saw are learned: a workload already
// running when the tracker began (the daemon started after it) would give a
// ramp of zero and perhaps only part of its peak, so it is followed but
// never returned. A workload counts as gone after it is missing from two
// consecutive Snapshots (one failed scan does not end a run).
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "policy/workload_profile.h"
#include "snapshot/snapshot.h"

namespace memopt::policy {

class WorkloadRunTracker {
 public:
  // Bounds: workloads followed at once, and samples kept per run and GPU
  // (beyond it, the last sample keeps the highest value seen since).
  static constexpr size_t kMaxTracked = 256;
  static constexpr size_t kMaxSamples = 4096;

  // Feeds one Snapshot taken at `now_seconds` (monotonic); returns the runs
  // that ended with it, one per GPU the workload used.
  std::vector<WorkloadRun> observe(const snapshot::Snapshot& snapshot, double now_seconds);

  size_t tracked() const { return runs_.size(); }

 private:
  struct Tracked {
    WorkloadSignature signature;
    double first_seen = 0;
    bool seen_start = false;  // false: running before the tracker began
    int missing = 0;          // consecutive Snapshots without it
    std::map<int, std::vector<std::pair<double, uint64_t>>> samples;  // per GPU
  };
  std::map<int, Tracked> runs_;  // by pid
  bool started_ = false;
};

}  // namespace memopt::policy

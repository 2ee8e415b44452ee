#include "policy/workload_runs.h"

#include <algorithm>
#include <set>

namespace memopt::policy {
namespace {

void add_sample(std::vector<std::pair<double, uint64_t>>& v, double t, uint64_t bytes) {
  // A flat stretch is its first sample: the ramp and the peak are the same.
  if (!v.empty() && v.back().second == bytes) return;
  if (v.size() >= WorkloadRunTracker::kMaxSamples) {
    v.back().second = std::max(v.back().second, bytes);
    return;
  }
  v.emplace_back(t, bytes);
}

}  // namespace

std::vector<WorkloadRun> WorkloadRunTracker::observe(const snapshot::Snapshot& snapshot,
                                                     double now) {
  std::vector<WorkloadRun> ended;
  auto end_run = [&](std::map<int, Tracked>::iterator it) {
    if (it->second.seen_start) {
      for (auto& [gpu, samples] : it->second.samples) {
        if (samples.empty()) continue;
        ended.push_back(WorkloadRun{it->second.signature, gpu, std::move(samples)});
      }
    }
    return runs_.erase(it);
  };

  std::set<int> present;
  for (const auto& w : snapshot.workloads) {
    if (w.pid <= 0) continue;
    present.insert(w.pid);
    const WorkloadSignature sig = signature_of(w);
    auto it = runs_.find(w.pid);
    // The same pid with another identity is another program (pid reuse).
    if (it != runs_.end() && !(it->second.signature == sig)) {
      end_run(it);
      it = runs_.end();
    }
    if (it == runs_.end()) {
      if (!sig.specific() || runs_.size() >= kMaxTracked) continue;
      Tracked t;
      t.signature = sig;
      t.first_seen = now;
      t.seen_start = started_;
      it = runs_.emplace(w.pid, std::move(t)).first;
    }
    Tracked& t = it->second;
    t.missing = 0;
    for (const auto& share : w.vram) {
      add_sample(t.samples[static_cast<int>(share.gpu_index)], now - t.first_seen,
                 share.used_bytes);
    }
  }
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    if (++it->second.missing >= 2) {
      it = end_run(it);
    } else {
      ++it;
    }
  }
  started_ = true;
  return ended;
}

}  // namespace memopt::policy

#pragma once
// Learned workload profiles (the seed's workload classifier and predictive
// pre-allocation, done with data): each workload signature (executable,
// model file, key arguments, container) keeps the VRAM ramp and peak its
// earlier runs reached on each GPU, so when the same program starts again
// the engine knows what it will take before it takes it. A program seen
// with other arguments borrows its nearest neighbour's profile. Pure: runs
// in, profiles out; the daemon stores them (to_json / profiles_from_json)
// in its history.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "snapshot/snapshot.h"
#include "util/result.h"

namespace memopt::policy {

struct WorkloadSignature {
  std::string runtime;     // registry id, "other" for a non-AI program
  std::string executable;  // the top process's command
  std::string model_file;  // base name of its first model file, "" when none
  std::string args;        // key arguments, "ctx=8192 np=4"; "" when none known
  std::string container;   // container id, "" when not in one

  bool operator==(const WorkloadSignature&) const = default;
  // Names one program: a model file, key arguments or an executable that
  // is not a bare interpreter. "python3" alone is every script there is:
  // such signatures are neither learned nor matched.
  bool specific() const;
  std::string text() const;  // "ollama:ollama model=x.gguf ctx=8192 np=4 [container]"
};

// What the Snapshot shows of a workload's identity. Key arguments are the
// ones that change its memory (context, parallel sequences), as the
// assembler parsed them from the command line.
WorkloadSignature signature_of(const snapshot::Workload& w);

// One run of a workload as the daemon sampled it: its VRAM on one GPU
// (the GPU backend's per-process attribution) over time, from its start.
struct WorkloadRun {
  WorkloadSignature signature;
  int gpu = 0;
  std::vector<std::pair<double, uint64_t>> samples;  // (seconds since start, bytes)
};

struct WorkloadProfile {
  WorkloadSignature signature;
  int gpu = 0;
  uint32_t runs = 0;
  std::vector<uint64_t> recent_peaks;  // newest last, at most kKeptPeaks
  double ramp_seconds = 0;             // median time from start to 90 % of the peak
  std::vector<double> recent_ramps;    // newest last, at most kKeptPeaks

  static constexpr size_t kKeptPeaks = 8;
  // The peak to plan for: the highest of the recent runs (a program that
  // reached it once may again), 0 when never run.
  uint64_t expected_peak_bytes() const;
};

// Adds `run` to the profile of its signature and GPU (creating it). A run
// with no samples, no memory or a signature that is not specific changes
// nothing.
void learn(std::vector<WorkloadProfile>& profiles, const WorkloadRun& run);

// The profile for `sig` on `gpu`: the same signature, else the nearest one
// of the same runtime and executable (distance: a different model file
// counts 3, each different key argument 1, a different container 1) up to
// `max_distance`: another model file is another program, other arguments
// or another container the same one. `distance` (optional) gets the
// distance of the match, -1 for none.
const WorkloadProfile* match_profile(const std::vector<WorkloadProfile>& profiles,
                                     const WorkloadSignature& sig, int gpu, int max_distance = 2,
                                     int* distance = nullptr);

// Fills each workload's learned_peak (snapshot.h) from the profiles: the
// GPU where its profile expects the most, so a view can say "expected to
// reach X (learned from N runs)". Workloads with no profile are left empty.
void annotate_learned_peaks(snapshot::Snapshot& snapshot,
                            const std::vector<WorkloadProfile>& profiles, int max_distance = 2);

// For the history: a JSON array; the reader checks every member and bounds
// (at most 4096 profiles, names of at most 4096 bytes) and names what is wrong.
std::string profiles_to_json(const std::vector<WorkloadProfile>& profiles);
Result<std::vector<WorkloadProfile>> profiles_from_json(std::string_view text);

}  // namespace memopt::policy

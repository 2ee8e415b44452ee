#pragma once
// Trace-driven simulator that judges the policy engine. A simulated GPU
// holds processes whose VRAM follows the shapes real programs have
// (llama.cpp's step load: weights, then the whole context's KV, then the
// compute buffer; PyTorch's caching-allocator staircase with frees; a
// ComfyUI workflow swapping models per node; another user's process; a
// game's loading screens). The world runs on a fine clock (an allocation
// fails the moment usage passes the GPU's size); the engine sees only what
// the daemon would: each sample the world "shows" a snapshot::Snapshot
// (GPU counters with noise, per-process VRAM, the runtimes' lists, no busy
// flag where the runtime has none) and the engine's input is made from it by
// policy::to_policy_input, the daemon's own path, with the daemon's
// knowledge (planner estimates, gateway admissions, action delays and
// workload profiles learned from earlier runs). Actions land after delays
// the world draws from its own distributions (a heavy tail included),
// independent of what the engine learned; `delay_mismatch` makes the world
// slower than the history the engine learned from. Pure and deterministic
// (seeded generator).
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "policy/engine.h"
#include "policy/snapshot_adapter.h"
#include "policy/workload_profile.h"

namespace memopt::policy::sim {

// A process holding VRAM on the simulated GPU, or a model inside a runtime.
struct SimProcess {
  std::string name;     // model name (runtime's) or program
  std::string runtime;  // "ollama", "llama.cpp", "pytorch", "comfyui", "other"
  std::string command;  // what the detector reads as its command
  std::string model_file;
  uint64_t ctx = 0, parallel = 0;  // command-line context and sequences (llama-server)
  std::string container;
  uint32_t uid = 1000;
  bool maps_readable = true;  // another user's process: no model files, no signature
  int64_t pid = 0;
  double start_at = -1;  // < 0: running before the trace began (at its curve's end)
  // VRAM since its start (seconds, bytes), linear between points; a step is
  // two points a world step apart.
  std::vector<std::pair<double, uint64_t>> curve;
  // Listed by a runtime API (Ollama /api/ps, llama-server /slots).
  bool api_model = false;
  std::string endpoint;
  uint32_t n_layers = 0;
  double listed_after = 0;  // seconds after its start the runtime lists it ("loading")
  bool busy = false;        // serving requests (Ollama reports no busy flag; llama.cpp does)
  double request_every = 10;
  double idle_at_start = 0;           // idle models: seconds since their last request
  uint64_t planner_bytes = 0;         // the planner's estimate of it (0: none can be made)
  bool gateway = false;               // admitted through `serve`: announced before it starts
  bool estimate_in_workload = false;  // llama-server: the assembler estimates its command line
  bool actionable = false;            // the runtime can unload / reload it (Ollama)
};

struct Trace {
  std::string kind;  // "ollama_load", "llama_server_start", "pytorch_staircase", ...
  std::string
      known_by;  // how the growth can be known early: "planner", "gateway", "profile", "none"
  std::string observes;  // what the daemon could observe, in words
  uint64_t gpu_total_bytes = 0;
  uint64_t base_bytes = 0;  // display server, CUDA contexts
  std::vector<SimProcess> procs;
  std::vector<WorkloadProfile> profiles;  // learned from earlier runs (the daemon's history)
  double duration_seconds = 90;
};

// How the world's actions take time: lognormal around a median that grows
// with the model, with a heavy (Pareto) tail. Medians: Ollama's unload is
// its scheduler plus the runner's exit (the H200 measured the driver's part
// at 0.14 s). A reload stops the runner (its memory comes back like an
// unload's, a little later: the new runner is planned first), then the new
// runner reads the weights again from the page cache and its memory grows
// back to the smaller size. What the daemon records, and the engine plans
// with, is the time until the memory came back.
struct DelayModel {
  double unload_base_seconds = 0.35;
  double unload_seconds_per_gib = 0.02;
  double reload_extra_seconds = 0.3;   // on top of an unload, before memory comes back
  double reload_gib_per_second = 2.0;  // the new runner's load
  double sigma = 0.4;              // of the log
  double tail_probability = 0.05;  // this share is multiplied by a Pareto draw
  double tail_alpha = 1.2;         // P(x > m) = (1.5 / m)^alpha, m >= 1.5, capped at 10
  double mismatch = 1;             // the world this much slower than the history
};

// One drawn delay (seconds) for `kind` on a model of `bytes`: until its
// memory comes back.
double draw_delay(const DelayModel& m, ActionKind kind, uint64_t bytes, uint32_t& rng_state);

// The daemon's history of action delays: `per_class` actions per size class
// drawn from `m` (at its mismatch), summarised as the daemon would.
std::vector<ActionDelayStats> learn_delays(const DelayModel& m, uint32_t seed, int per_class = 30);

// Two disjoint trace sets: the engine's knobs were chosen looking at the
// tuning set only; the figures to report come from the held-out set.
constexpr uint32_t kTuningSeed = 20261127;
constexpr uint32_t kHeldOutSeed = 20261201;
// A second, larger held-out set (300 traces per kind), first run on
// 2026-12-05 after that day's engine changes and reported as it came
// (policy_sim_bench --second-held-out); nothing was tuned on it.
constexpr uint32_t kSecondHeldOutSeed = 20261212;
// A third held-out set sized to decide the bars (2000 traces per
// kind: about 4000 preventable OOMs, so a 99 % share is read within about
// +/- 0.3 points, and about 2400 profile-known actions, 5 % within about
// +/- 0.9), chosen on 2026-12-05 (third stop) before it was first run,
// because the 95 % intervals of the first two sets both hold 99 % and 5 %
// (policy_sim_bench --third-held-out). Nothing is tuned on it.
constexpr uint32_t kThirdHeldOutSeed = 20261219;
constexpr int kThirdHeldOutPerKind = 2000;
// A fourth, the same size, chosen on 2026-12-05 (fourth stop) before it was
// first run: the third set put prevention at 1x on the line (42 misses
// where 99 % allows 41.6), which sent the engine back to the tuning set
// (step_margin_factor 2 -> 3, chosen there); a set the changed engine has
// never seen reports it (policy_sim_bench --fourth-held-out). Nothing is
// tuned on it.
constexpr uint32_t kFourthHeldOutSeed = 20261226;
constexpr int kFourthHeldOutPerKind = 2000;

// How far the planner's estimate of a llama.cpp load (Ollama's or
// llama-server's) is from what the load takes. kMeasured: weights and KV
// exact, the compute buffer +0..+10 % (docs/estimate-accuracy.md, llama.cpp's
// CPU backend); kTotal6: the whole figure +0..+6 % (the model before that
// table existed; kept to report a GPU backend whose buffers are unchecked).
enum class PlannerError { kMeasured, kTotal6 };

// How much runs of one program differ: each run (the learned ones and the
// one in the trace) is the program's nominal curve scaled by a factor drawn
// uniformly from [1 - spread, 1 + spread]. 3 %: a guess (no run-to-run
// spread was measured on a real GPU); policy_sim_bench --run-spread=S shows
// what the engine does under another.
constexpr double kRunSpread = 0.03;

// `count_per_kind` traces of each kind from `seed`. The spread changes no
// other draw: the same seed gives the same traces but for the runs' scale.
std::vector<Trace> make_traces(int count_per_kind, uint32_t seed,
                               PlannerError planner_error = PlannerError::kMeasured,
                               double run_spread = kRunSpread);
std::vector<std::string> trace_kinds();

enum class Mode { kNothing, kThresholdOnly, kPredictive };
const char* mode_name(Mode m);

struct Simulation {
  double tick_seconds = 1.0;         // the daemon's sample interval
  double world_step_seconds = 0.05;  // the simulated GPU's clock
  uint64_t sample_noise_bytes = 32ULL << 20;
  DelayModel world_delays;                // what actions really take
  std::vector<ActionDelayStats> learned;  // what the daemon's history says
  bool log_samples = false;               // run_trace's log: every sample too
};

struct TraceResult {
  bool oom = false;
  double oom_at_seconds = 0;
  int actions = 0;
  std::map<std::string, int> actions_by_kind;
  // Nothing mode: the highest demand over the GPU's size, and what every
  // action the policy could take would free; an OOM is preventable when
  // the second covers the first.
  uint64_t peak_demand_bytes = 0;
  uint64_t freeable_bytes = 0;
  int samples = 0;
  int fast_samples = 0;
  // The engine's inputs, non-default fields as "models.busy@ollama" names
  // (input_fields()), when asked for.
  std::set<std::string> fields;
};

TraceResult run_trace(const Trace& t, Mode mode, const Profile& profile, const Simulation& s = {},
                      const PolicyTuning& tuning = {}, std::vector<std::string>* log = nullptr,
                      bool collect_fields = false);

// The non-default fields of an input, each named with the runtime whose
// model carries it ("models.busy@llama.cpp"), so a test can compare what
// the simulator gives the engine with what the daemon can.
std::set<std::string> input_fields(const PolicyInput& in);

// A share's interval, in percent.
struct Interval {
  double low = 0, high = 100;
};
// The Wilson score interval at 95 % (z = 1.96) of `k` successes in `n`
// trials: it stays inside 0..100 and is not empty at 0 of n or n of n
// (0 of 59 is 0-6.1 %). n = 0 gives 0-100 (nothing is known).
Interval wilson95(int k, int n);

struct Row {
  std::string group;  // trace kind, "known by <source>", or "all"
  Mode mode = Mode::kNothing;
  double mismatch = 1;
  int traces = 0;
  int oom_without_policy = 0;
  int unpreventable = 0;  // OOMs no action could prevent (too little to free)
  int ooms = 0;
  int prevented = 0;  // of the preventable OOMs
  int actions = 0;
  int wasted_actions = 0;  // actions in traces that would not have OOMed
  // Of those, the ones in traces whose peak without a policy came inside
  // the engine's OOM margin (PolicyTuning::oom_margin_percent, at least
  // oom_margin_min_bytes, below the GPU's total): a run that ended at
  // 99.5 % of the GPU did not run out, but only just.
  int wasted_near_full = 0;
  std::map<std::string, int> wasted_by_kind;
  double prevented_percent() const;
  double wasted_percent() const;
  // 95 % intervals of the two shares, in percent (wilson95): how far a
  // set of this size lets a figure be read (9 wasted of 102 is 4.7-15.9 %).
  Interval prevented_interval() const;
  Interval wasted_interval() const;
};

// Runs every trace: nothing and threshold-only once, predictive at each
// delay mismatch; rows per kind, per known_by and "all".
std::vector<Row> evaluate(const std::vector<Trace>& traces, const Profile& profile,
                          const Simulation& s = {}, const PolicyTuning& tuning = {},
                          const std::vector<double>& mismatches = {1.0});
// The rows as a Markdown table; prevented and wasted with their shares and
// 95 % intervals ("192 (99.5%; 97.1-99.9)").
std::string format_table(const std::vector<Row>& rows);

// VRAM efficiency over a replayed day (README "Seed metrics"): the share of
// the GPU memory models hold that belongs to a model actually serving (a
// request in flight, or one ended within `serving_window_seconds`: the
// conversation goes on), integrated over the day. The world: a few Ollama
// models that users open sessions with (several requests, minutes apart),
// busy in the day and quiet at night; Ollama loads a model on its first
// request, evicts the least recently used idle one when the next does not
// fit, and unloads a model `keep_alive_seconds` after its last request.
// With the policy, the daemon's engine sees what the daemon would (no busy
// flag: Ollama has none; idle time since the last request) every
// `step_seconds` and its actions land at once.
struct DayReplay {
  double hours = 24;
  double step_seconds = 5;
  uint64_t gpu_total_bytes = 24ULL << 30;
  uint64_t base_bytes = 1ULL << 30;
  double keep_alive_seconds = 1800;  // OLLAMA_KEEP_ALIVE=30m
  double serving_window_seconds = 60;
};

struct DayResult {
  double held_byte_seconds = 0;     // models loaded
  double serving_byte_seconds = 0;  // of which serving
  int requests = 0;
  int loads = 0;             // cold loads (a request found its model unloaded)
  int policy_unloads = 0;    // unloads the engine decided
  double efficiency_percent() const;
};

// `fields` (optional): the engine's inputs' non-default fields
// (input_fields()), for the test that they are the daemon's.
DayResult replay_day(uint32_t seed, const Profile& profile, bool with_policy,
                     const DayReplay& day = {}, std::set<std::string>* fields = nullptr);

}  // namespace memopt::policy::sim

// Trace-driven judgement of the policy engine (src/policy/simulator.h):
// prints the OOM-prevention table on the tuning and the held-out trace sets
// (nothing / threshold-only / predictive, the predictive policy at 1x, 1.5x
// and 2x delay mismatch), and times one simulated trace set.
// Run: build/policy_sim_bench --benchmark_filter=NONE   (tables only)
//      build/policy_sim_bench --json                    (held-out figures)
#include <benchmark/benchmark.h>

#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "policy/simulator.h"

namespace {

using namespace memopt::policy;

// The daemon's history of action delays, drawn from the world's own
// distributions at 1x (a seed of its own): what the engine plans with.
sim::Simulation simulation() {
  sim::Simulation s;
  s.learned = sim::learn_delays(s.world_delays, 20261130);
  return s;
}

void BM_SimulateTraces(benchmark::State& state) {
  auto traces = sim::make_traces(5, 7);
  const Profile p = builtin_profiles()[0];
  const sim::Simulation s = simulation();
  for (auto _ : state) {
    for (const auto& t : traces) {
      benchmark::DoNotOptimize(sim::run_trace(t, sim::Mode::kPredictive, p, s));
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(traces.size()));
}
BENCHMARK(BM_SimulateTraces)->Unit(benchmark::kMillisecond);

const sim::Row& find(const std::vector<sim::Row>& rows, const std::string& group, sim::Mode mode,
                     double mismatch = 1) {
  for (const auto& r : rows) {
    if (r.group == group && r.mode == mode && r.mismatch == mismatch) return r;
  }
  static const sim::Row none;
  return none;
}

nlohmann::json row_json(const sim::Row& r) {
  return {{"traces", r.traces},
          {"oom_without_policy", r.oom_without_policy},
          {"unpreventable", r.unpreventable},
          {"ooms", r.ooms},
          {"prevented", r.prevented},
          {"oom_prevented_percent", r.prevented_percent()},
          {"actions", r.actions},
          {"wasted_actions", r.wasted_actions},
          {"wasted_actions_percent", r.wasted_percent()}};
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int per_kind = 100;
  int explain = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) json = true;
    if (std::strncmp(argv[i], "--explain=", 10) == 0) explain = std::atoi(argv[i] + 10);
    if (std::strncmp(argv[i], "--traces-per-kind=", 18) == 0) {
      per_kind = std::atoi(argv[i] + 18);
      if (per_kind < 1 || per_kind > 10000) {
        std::cerr << "policy_sim_bench: --traces-per-kind must be 1..10000\n";
        return 2;
      }
    }
  }
  const Profile p = builtin_profiles()[0];
  const sim::Simulation s = simulation();
  const std::vector<double> mismatches = {1.0, 1.5, 2.0};
  if (explain >= 0) {
    // One tuning-set trace, step by step: what the engine did and why (and
    // whether the GPU would have run out without it).
    const auto traces = sim::make_traces(per_kind, sim::kTuningSeed);
    if (explain >= static_cast<int>(traces.size())) {
      std::cerr << "policy_sim_bench: --explain=N: N must be below " << traces.size() << "\n";
      return 2;
    }
    const auto& t = traces[static_cast<size_t>(explain)];
    const auto base = sim::run_trace(t, sim::Mode::kNothing, p, s);
    std::vector<std::string> log;
    const auto r = sim::run_trace(t, sim::Mode::kPredictive, p, s, {}, &log);
    std::cout << t.kind << " (known by " << t.known_by << "), GPU " << (t.gpu_total_bytes >> 20)
              << " MiB, peak demand " << (base.peak_demand_bytes >> 20) << " MiB, freeable "
              << (base.freeable_bytes >> 20) << " MiB; without policy "
              << (base.oom ? "OOM at " + std::to_string(base.oom_at_seconds) + " s" : "no OOM")
              << "; predictive " << (r.oom ? "OOM" : "no OOM") << ", " << r.actions << " actions\n";
    for (const auto& l : log) std::cout << "  " << l << "\n";
    return 0;
  }
  if (json) {
    const auto rows =
        sim::evaluate(sim::make_traces(per_kind, sim::kHeldOutSeed), p, s, {}, mismatches);
    const auto& all1 = find(rows, "all", sim::Mode::kPredictive, 1.0);
    nlohmann::json j = {{"set", "held-out"},
                        {"seed", sim::kHeldOutSeed},
                        {"traces", all1.traces},
                        {"oom_prevented_percent", all1.prevented_percent()},
                        {"wasted_actions_percent", all1.wasted_percent()},
                        {"oom_prevented_percent_at_1_5x_delay",
                         find(rows, "all", sim::Mode::kPredictive, 1.5).prevented_percent()},
                        {"oom_prevented_percent_at_2x_delay",
                         find(rows, "all", sim::Mode::kPredictive, 2.0).prevented_percent()}};
    nlohmann::json groups = nlohmann::json::object();
    for (const auto& r : rows) {
      if (r.mode != sim::Mode::kPredictive || r.mismatch != 1.0) continue;
      groups[r.group] = row_json(r);
    }
    j["predictive_by_group"] = groups;
    j["threshold_only"] = row_json(find(rows, "all", sim::Mode::kThresholdOnly));
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  const struct {
    const char* name;
    uint32_t seed;
  } sets[] = {{"tuning set", sim::kTuningSeed}, {"held-out set", sim::kHeldOutSeed}};
  for (const auto& set : sets) {
    auto traces = sim::make_traces(per_kind, set.seed);
    std::cout << "Policy simulator, " << set.name << ": " << traces.size() << " traces (seed "
              << set.seed << "), profile local_llm, delays learned from the world at 1x\n"
              << sim::format_table(sim::evaluate(traces, p, s, {}, mismatches)) << "\n";
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

// Trace-driven judgement of the policy engine: prints the OOM-prevention
// table (nothing / threshold-only / predictive) and times one engine pass.
// Run: build/policy_sim_bench (--benchmark_filter=NONE for the tables only)
#include <benchmark/benchmark.h>

#include <iostream>

#include "policy/simulator.h"

namespace {

using namespace memopt::policy;

void BM_SimulateAllTraces(benchmark::State& state) {
  auto traces = sim::make_traces(20, 7);
  Profile p = builtin_profiles()[0];
  for (auto _ : state) {
    for (const auto& t : traces) benchmark::DoNotOptimize(sim::run_trace(t, sim::Mode::kPredictive, p));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(traces.size()));
}
BENCHMARK(BM_SimulateAllTraces)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  const Profile p = builtin_profiles()[0];
  const struct {
    const char* name;
    uint32_t seed;
  } sets[] = {{"tuning set", sim::kTuningSeed}, {"held-out set", sim::kHeldOutSeed}};
  for (const auto& set : sets) {
    auto traces = sim::make_traces(200, set.seed);
    std::cout << "Policy simulator, " << set.name << ": 600 traces (seed " << set.seed
              << "), profile local_llm\n"
              << sim::format_table(sim::evaluate(traces, p)) << "\n";
  }
  // How much the action delay matters: the held-out set with faster unloads
  // (the engine told the same, so it waits as long as it safely can).
  auto held_out = sim::make_traces(200, sim::kHeldOutSeed);
  // And with samples every 0.05 s while watching (20 Hz, the simulator's
  // clock) instead of 0.25 s.
  const struct {
    double unload, fast;
  } variants[] = {{1.0, 0.25}, {0.5, 0.25}, {0.25, 0.25}, {1.0, 0.05}};
  for (const auto [unload, fast] : variants) {
    sim::Simulation s;
    s.action_delay_seconds = unload;
    PolicyTuning t;
    t.unload_seconds = unload;
    t.fast_sample_seconds = fast;
    for (const auto& r : sim::evaluate(held_out, p, s, t)) {
      if (r.kind != "all" || r.mode != sim::Mode::kPredictive) continue;
      std::cout << "held-out, unload " << unload << " s, watching every " << fast << " s: " << r.prevented << "/" << r.oom_without_policy
                << " OOMs prevented, " << r.wasted_actions << "/" << r.actions << " actions wasted ("
                << 100.0 * r.wasted_actions / r.actions << " %), " << r.wasted_too_close << " of them too close to call\n";
    }
  }
  std::cout << "\n";
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

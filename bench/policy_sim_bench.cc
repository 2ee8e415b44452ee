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
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

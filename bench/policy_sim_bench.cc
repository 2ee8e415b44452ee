// Trace-driven judgement of the policy engine: prints the OOM-prevention
// table (nothing / threshold-only / predictive) and times one engine pass.
// Run: build/policy_sim_bench
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
  auto traces = sim::make_traces(200, 20261127);
  std::cout << "Policy simulator: 600 traces (seed 20261127), profile local_llm\n"
            << sim::format_table(sim::evaluate(traces, builtin_profiles()[0])) << "\n";
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

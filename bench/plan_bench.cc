// `ai plan --ctx max` planning time: a 100-layer model on 8 GPUs, searching
// the largest context per KV cache type and the layer split (target: median
// under 1 ms; it runs inside the daemon's loop).
// Run: build/plan_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "estimate/placement.h"
#include "support/synthetic_model.h"
#include "util/bytes.h"

namespace {

using namespace memopt;
using namespace memopt::estimate;

gguf::ModelInfo big_model() {
  testing::SyntheticModelSpec spec;
  spec.n_layer = 100;
  spec.n_embd = 8192;
  spec.n_head = 64;
  spec.n_head_kv = 8;
  spec.n_ff = 28672;
  spec.n_vocab = 128256;
  spec.n_ctx_train = 131072;
  return testing::synthetic_model_info(spec);
}

// Eight GPUs of `gib` GiB each, 1 GiB already in use, on two NUMA nodes.
// 24: the model and its full 128k context fit; 12: the context search has to
// stop short of 128k; 4: not even a short context fits, so the layer split is
// searched too.
std::vector<GpuDevice> eight_gpus(uint64_t gib) {
  std::vector<GpuDevice> g;
  for (int i = 0; i < 8; ++i) {
    const uint64_t total = gib * kGiB;
    g.push_back({i, "gpu", total - 1 * kGiB, total, i / 4});
  }
  return g;
}

PlanRequest ctx_max_request() {
  PlanRequest r;
  r.ctx_max = true;
  r.settings.flash_attn = true;
  return r;
}

void BM_PlanCtxMax100Layers8Gpus(benchmark::State& state) {
  const auto info = big_model();
  auto costs = prepare_model_costs(info, GpuTraits{});
  const auto gpus = eight_gpus(static_cast<uint64_t>(state.range(0)));
  const HostMemory host{256 * kGiB, 2};
  const auto req = ctx_max_request();
  uint64_t ctx = 0, ngl = 0;
  for (auto _ : state) {
    auto plan = plan_placement(*costs, gpus, host, req);
    ctx = plan->settings.ctx_per_seq;
    ngl = plan->placement.n_gpu_layers;
    benchmark::DoNotOptimize(plan);
  }
  state.counters["ctx"] = static_cast<double>(ctx);
  state.counters["ngl"] = static_cast<double>(ngl);
}
BENCHMARK(BM_PlanCtxMax100Layers8Gpus)->Arg(24)->Arg(12)->Arg(4)->Unit(benchmark::kMicrosecond);

// The same including the per-model preparation from the tensor table
// (what `ai plan` does once per model file).
void BM_PrepareAndPlan100Layers8Gpus(benchmark::State& state) {
  const auto info = big_model();
  const auto gpus = eight_gpus(12);
  const HostMemory host{256 * kGiB, 2};
  const auto req = ctx_max_request();
  for (auto _ : state) {
    auto costs = prepare_model_costs(info, GpuTraits{});
    auto plan = plan_placement(*costs, gpus, host, req);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PrepareAndPlan100Layers8Gpus)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

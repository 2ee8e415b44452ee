#include "estimate/placement.h"

#include <gtest/gtest.h>

#include <random>

#include "support/synthetic_model.h"
#include "util/bytes.h"

namespace memopt::estimate {
namespace {

// Llama-3.1-8B-shaped, Q4_K: 32 layers, GQA 32/8, 128k vocab.
ModelCosts llama8b(uint32_t n_layer = 32) {
  testing::SyntheticModelSpec spec;
  spec.n_layer = n_layer;
  auto costs = prepare_model_costs(testing::synthetic_model_info(spec), GpuTraits{});
  EXPECT_TRUE(costs.ok());
  return *costs;
}

PlanRequest request(uint64_t ctx = 8192) {
  PlanRequest r;
  r.settings.ctx_per_seq = ctx;
  r.settings.flash_attn = true;
  r.reserve_vram_percent = 0;
  return r;
}

const HostMemory kBigHost{64 * kGiB, 1};

// GPU memory the model needs fully offloaded on one GPU.
uint64_t full_need(const ModelCosts& c, const PlanRequest& r) {
  Placement p;
  p.n_gpus = 1;
  p.n_gpu_layers = c.n_layer() + 1;
  auto e = estimate_memory_requirements(c, r.settings, p, r.gpu);
  EXPECT_TRUE(e.ok());
  return e->devices[1].total_bytes();
}

TEST(PlanPlacement, ExactFitIsFullyOnGpu) {
  const auto c = llama8b();
  const auto r = request();
  const uint64_t need = full_need(c, r);
  auto plan = plan_placement(c, {{0, "gpu0", need, need, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_TRUE(plan->fits);
  EXPECT_TRUE(plan->fully_on_gpu);
  EXPECT_EQ(plan->placement.n_gpu_layers, 33u);
  EXPECT_EQ(plan->estimate.devices[1].total_bytes(), need);
  EXPECT_EQ(plan->launch.llama_cpp_args[0], "-ngl");
  EXPECT_EQ(plan->launch.llama_cpp_args[1], "33");
  EXPECT_TRUE(plan->suggestions.empty());
}

TEST(PlanPlacement, OneByteShortOffloadsFewerLayersAndSaysWhatWouldFit) {
  const auto c = llama8b();
  const auto r = request();
  const uint64_t need = full_need(c, r);
  auto plan = plan_placement(c, {{0, "gpu0", need - 1, need - 1, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->fits);
  EXPECT_FALSE(plan->fully_on_gpu);
  EXPECT_EQ(plan->placement.n_gpu_layers, 32u);  // one layer back on the CPU
  EXPECT_LE(plan->estimate.devices[1].total_bytes(), need - 1);
  EXPECT_EQ(plan->layers.size(), 32u);
  EXPECT_TRUE(std::holds_alternative<LayerOnCpu>(plan->layers[0]));
  EXPECT_TRUE(std::holds_alternative<LayerOnGpu>(plan->layers[1]));
  // A q8_0 KV cache or a slightly smaller context would make it fit fully.
  bool has_q8 = false, has_ctx = false;
  for (const auto& s : plan->suggestions) {
    has_q8 |= s.flags.find("q8_0") != std::string::npos;
    has_ctx |= s.change.find("reduce the context") != std::string::npos;
    EXPECT_LE(s.gpu_bytes, need - 1) << s.change;
  }
  EXPECT_TRUE(has_q8);
  EXPECT_TRUE(has_ctx);
}

TEST(PlanPlacement, TwoUnequalGpusSplitByCapacity) {
  const auto c = llama8b();
  auto r = request(32768);
  const uint64_t need = full_need(c, r);
  // Neither GPU holds it alone; together (after each one's overhead) they do.
  const uint64_t big = need * 2 / 3 + 512 * kMiB, small = need / 3 + 512 * kMiB + 256 * kMiB;
  auto plan = plan_placement(c, {{0, "big", big, big, -1}, {1, "small", small, small, -1}},
                             kBigHost, r);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->fits);
  EXPECT_TRUE(plan->fully_on_gpu) << plan->verdict;
  ASSERT_EQ(plan->layers_per_gpu.size(), 2u);
  EXPECT_EQ(plan->layers_per_gpu[0] + plan->layers_per_gpu[1], 33u);
  EXPECT_GT(plan->layers_per_gpu[0], plan->layers_per_gpu[1]);
  EXPECT_LE(plan->estimate.devices[1].total_bytes(), big);
  EXPECT_LE(plan->estimate.devices[2].total_bytes(), small);
  const auto& a = plan->launch.llama_cpp_args;
  auto ts = std::find(a.begin(), a.end(), "-ts");
  ASSERT_NE(ts, a.end());
  EXPECT_EQ(*(ts + 1), std::to_string(plan->layers_per_gpu[0]) + "," +
                           std::to_string(plan->layers_per_gpu[1]));
}

TEST(PlanPlacement, CpuOnlyPlanSaysSo) {
  const auto c = llama8b();
  auto plan = plan_placement(c, {}, kBigHost, request());
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->fits);
  EXPECT_TRUE(plan->cpu_only);
  EXPECT_FALSE(plan->fully_on_gpu);
  EXPECT_EQ(plan->placement.n_gpu_layers, 0u);
  EXPECT_NE(plan->verdict.find("CPU-only"), std::string::npos);
  EXPECT_EQ(plan->estimate.devices.size(), 1u);
  EXPECT_EQ(plan->estimate.devices[0].layers, 32u);
}

TEST(PlanPlacement, LargerThanAllMemoryIsRefused) {
  const auto c = llama8b();
  const HostMemory tiny_host{2 * kGiB, 1};
  auto plan = plan_placement(c, {{0, "gpu0", 1 * kGiB, 1 * kGiB, -1}}, tiny_host, request());
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->fits);
  EXPECT_NE(plan->verdict.find("does not fit"), std::string::npos);
  EXPECT_NE(plan->verdict.find("RAM needs"), std::string::npos);
  EXPECT_TRUE(plan->launch.llama_cpp_args.empty());  // no flags for a plan that will not load
}

TEST(PlanPlacement, ReserveIsKeptFree) {
  const auto c = llama8b();
  auto r = request();
  const uint64_t need = full_need(c, r);
  r.reserve_vram_percent = 5;
  // Exactly enough without the reserve is not enough with it.
  auto plan = plan_placement(c, {{0, "gpu0", need, need, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->fully_on_gpu);
  const uint64_t with_reserve = need + need / 19 + 1;  // need / 0.95, rounded up
  plan = plan_placement(c, {{0, "gpu0", with_reserve, with_reserve, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->fully_on_gpu);
}

TEST(PlanPlacement, ContextMaxIsTheLargestThatFits) {
  const auto c = llama8b();
  auto r = request(0);
  r.ctx_max = true;
  r.settings.ctx_per_seq = 4096;
  auto plan = plan_placement(c, {{0, "gpu0", 8 * kGiB, 8 * kGiB, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->fully_on_gpu);
  const uint64_t ctx = plan->settings.ctx_per_seq;
  EXPECT_GT(ctx, 4096u);
  EXPECT_EQ(ctx % 256, 0u);
  // 256 more tokens would not fit.
  auto more = r;
  more.ctx_max = false;
  more.settings.ctx_per_seq = ctx + 256;
  auto bigger = plan_placement(c, {{0, "gpu0", 8 * kGiB, 8 * kGiB, -1}}, kBigHost, more);
  ASSERT_TRUE(bigger.ok());
  EXPECT_FALSE(bigger->fully_on_gpu);
  // Per KV type: q8_0 holds more context than f16, q4_0 more than q8_0.
  ASSERT_EQ(plan->max_context.size(), 3u);
  EXPECT_EQ(plan->max_context[0].max_ctx_per_seq, ctx);
  EXPECT_GT(plan->max_context[1].max_ctx_per_seq, plan->max_context[0].max_ctx_per_seq);
  EXPECT_GT(plan->max_context[2].max_ctx_per_seq, plan->max_context[1].max_ctx_per_seq);
}

TEST(PlanPlacement, PinnedLayersAreHonouredEvenWhenMoreWouldFit) {
  const auto c = llama8b();
  auto r = request();
  r.pinned_ngl = 10;
  auto plan = plan_placement(c, {{0, "gpu0", 80 * kGiB, 80 * kGiB, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->placement.n_gpu_layers, 10u);
  EXPECT_EQ(plan->estimate.devices[1].layers, 9u);  // 9 repeating layers + the output
  r.pinned_ngl = 40;
  EXPECT_FALSE(plan_placement(c, {{0, "gpu0", 80 * kGiB, 80 * kGiB, -1}}, kBigHost, r).ok());
}

TEST(PlanPlacement, PinnedLayersThatDoNotFitAreNotALoadablePlan) {
  const auto c = llama8b();
  auto r = request();
  r.pinned_ngl = 33;
  auto plan = plan_placement(c, {{0, "gpu0", 2 * kGiB, 2 * kGiB, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->fits);
  EXPECT_NE(plan->verdict.find("GPU 0 needs"), std::string::npos);
}

TEST(PlanPlacement, MoeKeepsExpertsOnCpuBeforeDroppingLayers) {
  testing::SyntheticModelSpec spec;
  spec.n_layer = 24;
  spec.n_embd = 2048;
  spec.n_head = 32;
  spec.n_head_kv = 4;
  spec.n_ff = 768;
  spec.n_expert = 64;
  spec.n_expert_used = 8;
  spec.n_vocab = 151936;
  auto costs = prepare_model_costs(testing::synthetic_model_info(spec), GpuTraits{});
  ASSERT_TRUE(costs.ok());
  auto r = request();
  auto plan = plan_placement(*costs, {{0, "gpu0", 3 * kGiB, 3 * kGiB, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->fits);
  EXPECT_EQ(plan->placement.n_gpu_layers, 25u);
  EXPECT_GT(plan->placement.n_cpu_moe, 0u);
  EXPECT_LT(plan->placement.n_cpu_moe, 24u);
  EXPECT_TRUE(std::holds_alternative<LayerSplit>(plan->layers[0]));
  EXPECT_TRUE(std::holds_alternative<LayerOnGpu>(plan->layers[23]));
  const auto& a = plan->launch.llama_cpp_args;
  EXPECT_NE(std::find(a.begin(), a.end(), "--n-cpu-moe"), a.end());
  // One fewer expert layer on the CPU would not fit.
  auto fewer = r;
  fewer.pinned_n_cpu_moe = plan->placement.n_cpu_moe - 1;
  fewer.pinned_ngl = 25;
  auto f = plan_placement(*costs, {{0, "gpu0", 3 * kGiB, 3 * kGiB, -1}}, kBigHost, fewer);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->fits);
}

TEST(PlanPlacement, NumaAdviceFollowsTheGpu) {
  const auto c = llama8b();
  auto plan = plan_placement(c, {{0, "gpu0", 3 * kGiB, 3 * kGiB, 1}}, HostMemory{64 * kGiB, 2},
                             request());
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(std::holds_alternative<LayerOnCpu>(plan->layers[0]));
  EXPECT_EQ(std::get<LayerOnCpu>(plan->layers[0]).numa_node, 1);
  ASSERT_FALSE(plan->launch.numa_advice.empty());
  EXPECT_NE(plan->launch.numa_advice[0].find("--membind=1"), std::string::npos);
}

TEST(PlanPlacement, ParallelMultipliesTheContextFlag) {
  const auto c = llama8b();
  auto r = request(4096);
  r.settings.parallel = 4;
  auto plan = plan_placement(c, {{0, "gpu0", 80 * kGiB, 80 * kGiB, -1}}, kBigHost, r);
  ASSERT_TRUE(plan.ok());
  const auto& a = plan->launch.llama_cpp_args;
  auto it = std::find(a.begin(), a.end(), "-c");
  ASSERT_NE(it, a.end());
  EXPECT_EQ(*(it + 1), "16384");
  EXPECT_EQ(plan->launch.ollama_options.at("num_ctx"), "4096");
  EXPECT_EQ(plan->launch.env.at("OLLAMA_NUM_PARALLEL"), "4");
}

// Property check over many random models, devices and settings (fixed seed):
// a plan marked loadable never puts more on a device than its limit, a plan
// that does not load carries no flags, and the layer accounting adds up.
TEST(PlanPlacement, RandomPlansNeverOvercommit) {
  std::mt19937_64 rng(20261127);
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  int loadable = 0, refused = 0;
  for (int iter = 0; iter < 300; ++iter) {
    testing::SyntheticModelSpec spec;
    spec.n_layer = static_cast<uint32_t>(pick(1, 48));
    spec.n_head = static_cast<uint32_t>(1u << pick(2, 5));
    spec.n_embd = spec.n_head * 128;
    spec.n_head_kv = static_cast<uint32_t>(std::max<uint64_t>(1, spec.n_head >> pick(0, 3)));
    spec.n_ff = 256 * pick(2, 40);
    spec.n_vocab = 256 * pick(4, 600);
    spec.n_ctx_train = 1024 * pick(1, 64);
    spec.tied_output = pick(0, 1) == 1;
    if (pick(0, 3) == 0) {
      spec.n_expert = static_cast<uint32_t>(pick(4, 64));
      spec.n_expert_used = static_cast<uint32_t>(pick(1, 4));
      spec.n_ff = 256 * pick(1, 4);
    }
    auto costs = prepare_model_costs(testing::synthetic_model_info(spec), GpuTraits{});
    ASSERT_TRUE(costs.ok());
    std::vector<GpuDevice> gpus;
    const uint64_t n_gpus = pick(0, 4);
    for (uint64_t g = 0; g < n_gpus; ++g) {
      const uint64_t total = pick(512, 48 * 1024) * kMiB;
      gpus.push_back({static_cast<int>(g), "gpu", pick(0, total), total, -1});
    }
    const HostMemory host{pick(64, 64 * 1024) * kMiB, 1};
    PlanRequest r;
    r.settings.ctx_per_seq = 256 * pick(1, 128);
    r.settings.parallel = static_cast<uint32_t>(pick(1, 4));
    r.settings.flash_attn = pick(0, 1) == 1;
    const uint32_t types[] = {1, 8, 2};
    r.settings.type_k = r.settings.type_v = r.settings.flash_attn ? types[pick(0, 2)] : 1;
    r.ctx_max = pick(0, 3) == 0;
    r.reserve_vram_percent = static_cast<double>(pick(0, 10));
    if (pick(0, 4) == 0) r.pinned_ngl = static_cast<uint32_t>(pick(0, spec.n_layer + 1));
    auto plan = plan_placement(*costs, gpus, host, r);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const auto& e = plan->estimate;
    ASSERT_EQ(e.devices.size(), 1 + gpus.size());
    ASSERT_EQ(plan->layers.size(), spec.n_layer);
    if (plan->fits) {
      ++loadable;
      EXPECT_LE(e.devices[0].total_bytes(), host.available_bytes) << iter;
      for (size_t g = 0; g < gpus.size(); ++g) {
        EXPECT_LE(e.devices[1 + g].total_bytes(), plan->gpu_limit_bytes[g]) << iter;
        EXPECT_LE(plan->gpu_limit_bytes[g], gpus[g].free_bytes) << iter;
      }
      EXPECT_FALSE(plan->launch.llama_cpp_args.empty()) << iter;
    } else {
      ++refused;
      EXPECT_TRUE(plan->launch.llama_cpp_args.empty()) << iter;
      EXPECT_NE(plan->verdict.find("does not fit"), std::string::npos) << iter;
    }
    if (!gpus.empty()) {
      uint32_t placed = 0;
      for (uint32_t n : plan->layers_per_gpu) placed += n;
      EXPECT_EQ(placed, std::min(plan->placement.n_gpu_layers, spec.n_layer + 1)) << iter;
    } else {
      EXPECT_EQ(plan->placement.n_gpu_layers, 0u);
    }
    for (const auto& sg : plan->suggestions) {
      uint64_t limit_sum = 0;
      for (uint64_t l : plan->gpu_limit_bytes) limit_sum += l;
      EXPECT_LE(sg.gpu_bytes, limit_sum) << iter << " " << sg.change;
    }
  }
  // Both outcomes were exercised.
  EXPECT_GT(loadable, 50);
  EXPECT_GT(refused, 10);
}

}  // namespace
}  // namespace memopt::estimate

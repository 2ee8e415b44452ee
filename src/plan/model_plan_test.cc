#include "plan/model_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/gguf_models.h"
#include "util/bytes.h"

namespace memopt::plan {
namespace {

class ModelPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/memopt_plan_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    model_ = dir_ + "/tiny.gguf";
    auto st = testing::tiny_model(testing::tiny_llama_gqa()).write_file(model_);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static gpu::GpuDevice gpu(uint32_t index, uint64_t free_bytes, bool integrated = false) {
    gpu::GpuDevice g;
    g.index = index;
    g.name = "GPU " + std::to_string(index);
    g.integrated = integrated;
    g.memory_total_bytes = 2 * free_bytes;
    g.memory_free_bytes = free_bytes;
    return g;
  }
  static proc::HostMemory host(uint64_t available_bytes) {
    proc::HostMemory h;
    h.meminfo.total_bytes = 2 * available_bytes;
    h.meminfo.available_bytes = available_bytes;
    return h;
  }

  std::string dir_, model_;
};

TEST_F(ModelPlanTest, OptionsAreCheckedBeforeAnyFileIsRead) {
  PlanOptions o;
  o.model = dir_ + "/does-not-exist.gguf";
  EXPECT_TRUE(check_options(o).ok());
  o.kv_type = "q9_9";
  EXPECT_EQ(check_options(o).error().message.rfind("--kv-type: 'q9_9'", 0), 0u)
      << check_options(o).error().message;
  o.kv_type = "f16";
  o.ctx = "lots";
  EXPECT_EQ(check_options(o).error().message.rfind("--ctx: 'lots' is not a whole number", 0), 0u);
  o.ctx = "";
  o.parallel = 0;
  EXPECT_EQ(check_options(o).error().message, "--parallel: 0 is not in 1..256");
  o.parallel = 1;
  o.ngld = 3;
  EXPECT_EQ(check_options(o).error().message, "--ngld needs --draft");
  o.ngld.reset();
  o.model.clear();
  EXPECT_FALSE(check_options(o).ok());
}

TEST_F(ModelPlanTest, PlansOnTheGivenMachine) {
  PlanOptions o;
  o.model = model_;
  o.ctx = "512";
  o.gpu_overhead = "1MiB";
  Machine m;
  m.gpus = {gpu(0, 64 * kMiB), gpu(1, 8 * kGiB, /*integrated=*/true)};
  m.host = host(8 * kGiB);
  auto mp = make_plan(o, m, 10.0);
  ASSERT_TRUE(mp.ok()) << mp.error().message;
  // The integrated GPU is left out with a note; the other one takes it all.
  ASSERT_EQ(mp->devices.gpus.size(), 1u);
  EXPECT_EQ(mp->devices.gpus[0].free_bytes, 64 * kMiB);
  ASSERT_EQ(mp->devices.notes.size(), 1u);
  EXPECT_NE(mp->devices.notes[0].find("GPU 1 (GPU 1) is integrated"), std::string::npos);
  EXPECT_EQ(mp->devices.host.available_bytes, 8 * kGiB);
  EXPECT_TRUE(mp->plan.fully_on_gpu);
  const nlohmann::json doc = plan_json(*mp);
  EXPECT_EQ(doc.at("schema"), "ruvector-memopt.ai-plan/1");
  EXPECT_EQ(doc.at("settings").at("ctx_per_seq"), 512);
  // The reserve given by the caller: 10% of the 128 MiB total, rounded up.
  EXPECT_EQ(doc.at("devices").at(1).at("limit_bytes"), 64 * kMiB - 13421773);
  EXPECT_EQ(doc.at("notes").size(), 1u);
}

TEST_F(ModelPlanTest, AnUncheckedArchitectureIsSaidSo) {
  // gemma (Gemma 1) is not in the accuracy grid (docs/estimate-accuracy.md):
  // estimated by the same rules, labelled "unchecked for gemma"; the llama
  // model is checked.
  auto spec = testing::tiny_llama_gqa();
  spec.arch = "gemma";
  const std::string unchecked = dir_ + "/gemma.gguf";
  ASSERT_TRUE(testing::tiny_model(spec).write_file(unchecked).ok());
  PlanOptions o;
  o.gpus = "none";
  o.ram = "1GiB";
  Machine m;
  o.model = unchecked;
  auto mp = make_plan(o, m, 10.0);
  ASSERT_TRUE(mp.ok()) << mp.error().message;
  nlohmann::json doc = plan_json(*mp);
  EXPECT_EQ(doc.at("model").at("architecture"), "gemma");
  EXPECT_EQ(doc.at("estimate_checked"), false);
  EXPECT_EQ(doc.at("estimate_label"), "unchecked for gemma");
  o.model = model_;
  mp = make_plan(o, m, 10.0);
  ASSERT_TRUE(mp.ok()) << mp.error().message;
  doc = plan_json(*mp);
  EXPECT_EQ(doc.at("estimate_checked"), true);
  EXPECT_EQ(doc.at("estimate_label"), "checked against llama.cpp");
}

TEST_F(ModelPlanTest, FailuresNameWhatIsMissing) {
  PlanOptions o;
  o.model = model_;
  o.gpus = "none";
  Machine m;  // no host memory reading
  m.host_error = "cannot read /proc/meminfo";
  auto mp = make_plan(o, m, 10.0);
  ASSERT_FALSE(mp.ok());
  EXPECT_EQ(mp.error().message,
            "cannot read /proc/meminfo; give the RAM to plan for with --ram 64GiB");
  o.ram = "1GiB";
  EXPECT_TRUE(make_plan(o, m, 10.0).ok());
  o.ctx = "100000";  // the tiny model was trained on 512
  mp = make_plan(o, m, 10.0);
  ASSERT_FALSE(mp.ok());
  EXPECT_NE(mp.error().message.find("beyond the trained context"), std::string::npos);
  o.ctx = "";
  o.gpus = "2";
  m.gpus = {gpu(0, kGiB)};
  mp = make_plan(o, m, 10.0);
  ASSERT_FALSE(mp.ok());
  EXPECT_EQ(mp.error().message, "--gpus: no usable GPU 2 on this machine");
}

}  // namespace
}  // namespace memopt::plan

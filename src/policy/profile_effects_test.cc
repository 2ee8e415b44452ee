#include "policy/profile_effects.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace memopt::policy {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Every engine source file's text, to check the keys said to be read there.
std::string engine_sources() {
  std::string all;
  for (const auto& e : std::filesystem::directory_iterator(MEMOPT_SOURCE_DIR "/src/policy")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("engine", 0) != 0 || name.find("_test") != std::string::npos) continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    all += ss.str();
  }
  return all;
}

// All runtimes' settings of a profile, as one comparable text.
std::string settings_text(const Profile& p, const LaunchPlace& place) {
  std::string out;
  for (const char* rt : {"llamacpp", "vllm", "ollama", "a1111", "comfyui"}) {
    auto s = runtime_settings(p, rt, place);
    out += std::string(rt) + ":";
    for (const auto& a : s.prefix) out += " " + a;
    out += " |";
    for (const auto& a : s.args) out += " " + a;
    out += " | " + s.api_options.dump() + " |";
    for (const auto& a : s.advice) out += " " + a;
    out += "\n";
  }
  return out;
}

TEST(ProfileEffectsTest, NoKeyIsSilentlyInert) {
  const auto keys = profile_key_names();
  ASSERT_EQ(keys.size(), profile_key_effects().size());
  const std::string engine = engine_sources();
  ASSERT_FALSE(engine.empty());
  for (const auto& key : keys) {
    const ProfileKeyEffect* e = find_key_effect(key);
    ASSERT_NE(e, nullptr) << key << " has no row in profile_key_effects()";
    if (e->advice_only()) {
      // Advice only says so, and says what to do.
      EXPECT_EQ(e->advice.rfind("advice only: ", 0), 0u) << key;
      EXPECT_GT(e->advice.size(), 40u) << key;
      continue;
    }
    EXPECT_TRUE(e->advice.empty()) << key;
    // A key said to be read by the policy engine is read there.
    if (e->acts_on.find("policy engine") != std::string_view::npos) {
      EXPECT_NE(engine.find("p_." + key), std::string::npos)
          << key << " is said to act in the policy engine, which never reads it";
    }
  }
}

TEST(ProfileEffectsTest, EveryRuntimeKeyChangesWhatARuntimeIsGiven) {
  // Flipping a key that is said to act on runtimes (not only in the engine)
  // changes the settings some runtime gets.
  const LaunchPlace places[] = {{}, {1, true}};
  for (const auto& place : places) {
    for (const auto& e : profile_key_effects()) {
      const bool engine_only = e.advice_only() || e.acts_on.rfind("policy engine", 0) == 0;
      if (engine_only) continue;
      Profile a = builtin_profiles()[0];
      Profile b = a;
      if (e.key == "dynamic_batching")
        b.dynamic_batching = !a.dynamic_batching;
      else if (e.key == "continuous_batching")
        b.continuous_batching = !a.continuous_batching;
      else if (e.key == "numa_aware")
        b.numa_aware = !a.numa_aware;
      else if (e.key == "max_batch_size")
        b.max_batch_size = a.max_batch_size + 1;
      else
        FAIL() << e.key << ": no flip in this test for a runtime key";
      EXPECT_NE(settings_text(a, place), settings_text(b, place)) << e.key;
    }
  }
}

TEST(ProfileEffectsTest, LlamaCppVllmAndOllamaGetTheProfilesSettings) {
  Profile p = builtin_profiles()[1];  // batch_inference: 32 slots, continuous
  ASSERT_EQ(p.name, "batch_inference");
  auto llama = runtime_settings(p, "llamacpp");
  EXPECT_TRUE(llama.prefix.empty());
  EXPECT_EQ(llama.args, (std::vector<std::string>{"--numa", "distribute", "--cont-batching",
                                                  "--parallel", "32"}));
  auto vllm = runtime_settings(p, "vllm");
  EXPECT_EQ(vllm.args, (std::vector<std::string>{"--max-num-seqs", "32"}));
  auto ollama = runtime_settings(p, "ollama");
  EXPECT_EQ(ollama.api_options["numa"], true);
  ASSERT_EQ(ollama.advice.size(), 1u);
  EXPECT_NE(ollama.advice[0].find("OLLAMA_NUM_PARALLEL=32"), std::string::npos);
  // The GPU's NUMA node known and numactl present: bound to that node.
  auto bound = runtime_settings(p, "llamacpp", {1, true});
  EXPECT_EQ(bound.prefix, (std::vector<std::string>{"numactl", "--cpunodebind=1", "--membind=1"}));
  EXPECT_TRUE(has(bound.args, "numactl"));
  // Off: single slot, no continuous batching, no NUMA flag.
  p.dynamic_batching = false;
  p.continuous_batching = false;
  p.numa_aware = false;
  auto off = runtime_settings(p, "llamacpp", {1, true});
  EXPECT_TRUE(off.prefix.empty());
  EXPECT_EQ(off.args, (std::vector<std::string>{"--no-cont-batching", "--parallel", "1"}));
  EXPECT_TRUE(runtime_settings(p, "ollama").api_options.empty());
}

TEST(ProfileEffectsTest, ImageRuntimesGetAdviceForTheirKeys) {
  Profile p = builtin_profiles()[2];  // image_generation: slicing and tiling on
  ASSERT_TRUE(p.enable_attention_slicing && p.enable_vae_tiling);
  auto comfy = runtime_settings(p, "comfyui");
  ASSERT_EQ(comfy.advice.size(), 2u);
  EXPECT_EQ(comfy.advice[0].rfind("enable_attention_slicing: advice only: ", 0), 0u);
  EXPECT_NE(comfy.advice[0].find("--use-split-cross-attention"), std::string::npos);
  EXPECT_EQ(comfy.advice[1].rfind("enable_vae_tiling: advice only: ", 0), 0u);
  p.enable_vae_tiling = false;
  EXPECT_EQ(runtime_settings(p, "a1111").advice.size(), 1u);
}

TEST(ProfileEffectsTest, TheUsersOwnFlagsWin) {
  Profile p = builtin_profiles()[1];
  auto s = runtime_settings(p, "llamacpp", {0, true});
  auto argv = with_runtime_settings(
      {"/usr/bin/llama-server", "-m", "x.gguf", "-np", "4", "--numa=isolate"}, s);
  EXPECT_EQ(argv, (std::vector<std::string>{"numactl", "--cpunodebind=0", "--membind=0",
                                            "/usr/bin/llama-server", "-m", "x.gguf", "-np", "4",
                                            "--numa=isolate", "--cont-batching"}));
  EXPECT_TRUE(with_runtime_settings({}, s).empty());
}

}  // namespace
}  // namespace memopt::policy

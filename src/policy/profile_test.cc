#include "policy/profile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace memopt::policy {
namespace {

TEST(ProfileTest, BuiltinsCarryTheSeedValues) {
  auto all = builtin_profiles();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "local_llm");
  EXPECT_EQ(all[0].reserve_vram_percent, 90);
  EXPECT_EQ(all[0].reserve_ram_gb, 8);
  EXPECT_EQ(all[0].kv_cache_limit_percent, 30);
  EXPECT_EQ(all[0].auto_offload_threshold, 95);
  EXPECT_EQ(all[0].auto_compact_threshold, 80);
  EXPECT_FALSE(all[0].prefer_throughput);
  EXPECT_TRUE(all[0].dynamic_batching);
  EXPECT_TRUE(all[0].numa_aware);
  EXPECT_EQ(all[1].name, "batch_inference");
  EXPECT_EQ(all[1].reserve_vram_percent, 95);
  EXPECT_EQ(all[1].reserve_ram_gb, 4);
  EXPECT_EQ(all[1].kv_cache_limit_percent, 50);
  EXPECT_EQ(all[1].auto_offload_threshold, 98);
  EXPECT_EQ(all[1].auto_compact_threshold, 90);
  EXPECT_TRUE(all[1].prefer_throughput);
  EXPECT_TRUE(all[1].continuous_batching);
  EXPECT_EQ(all[1].max_batch_size, 32);
  EXPECT_EQ(all[2].name, "image_generation");
  EXPECT_EQ(all[2].reserve_vram_percent, 85);
  EXPECT_EQ(all[2].reserve_ram_gb, 16);
  EXPECT_EQ(all[2].auto_offload_threshold, 90);
  EXPECT_TRUE(all[2].clear_cache_between_generations);
  EXPECT_TRUE(all[2].enable_attention_slicing);
  EXPECT_TRUE(all[2].enable_vae_tiling);
}

TEST(ProfileTest, SeedFormatOverridesAndAddsProfiles) {
  auto set = parse_profiles(R"(
[ai_mode.local_llm]
reserve_ram_gb = 12
auto_offload_threshold = 92.5

[ai_mode.night]
idle_unload_seconds = 60
prefer_throughput = true

[daemon]
apply = true
interval_seconds = 2
mode = "threshold"
)",
                            "cfg.toml");
  ASSERT_TRUE(set.ok()) << set.error().message;
  const Profile* l = set->find("local_llm");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->reserve_ram_gb, 12);
  EXPECT_EQ(l->auto_offload_threshold, 92.5);
  EXPECT_EQ(l->auto_compact_threshold, 80);  // untouched keys keep the seed's value
  const Profile* n = set->find("night");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->idle_unload_seconds, 60);
  EXPECT_TRUE(n->prefer_throughput);
  EXPECT_EQ(n->reserve_vram_percent, 90);  // new profiles start from local_llm
  EXPECT_EQ(set->profiles.size(), 4u);
  EXPECT_TRUE(set->daemon.apply);
  EXPECT_EQ(set->daemon.interval_seconds, 2);
  EXPECT_EQ(set->daemon.mode, "threshold");
  EXPECT_EQ(parse_profiles("", "c")->daemon.mode, "predictive");  // the default
}

TEST(ProfileTest, UnknownKeyNamesFileLineAndKey) {
  auto set = parse_profiles("[ai_mode.local_llm]\nreserve_ram_gb = 4\nreserve_vram = 3\n", "/x/config.toml");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("/x/config.toml:3"), std::string::npos) << set.error().message;
  EXPECT_NE(set.error().message.find("ai_mode.local_llm.reserve_vram"), std::string::npos);
}

TEST(ProfileTest, WrongTypeIsAnError) {
  auto set = parse_profiles("[ai_mode.local_llm]\n\nprefer_throughput = \"yes\"\n", "c.toml");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("c.toml:3"), std::string::npos) << set.error().message;
  EXPECT_NE(set.error().message.find("prefer_throughput' must be true or false"), std::string::npos);
  auto b = parse_profiles("[ai_mode.x]\nmax_batch_size = 2.5\n", "c.toml");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("max_batch_size' must be an integer"), std::string::npos);
}

TEST(ProfileTest, RenderHandoffIsOneOfThreeWords) {
  auto builtin = parse_profiles("", "c.toml");
  ASSERT_TRUE(builtin.ok());
  EXPECT_EQ(builtin->find("image_generation")->render_handoff, "queue");
  EXPECT_EQ(builtin->find("local_llm")->render_handoff, "off");
  auto set = parse_profiles("[ai_mode.local_llm]\nrender_handoff = \"reject\"\n", "c.toml");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->find("local_llm")->render_handoff, "reject");
  auto bad = parse_profiles("[ai_mode.local_llm]\n\nrender_handoff = \"later\"\n", "c.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("c.toml:3: key 'ai_mode.local_llm.render_handoff' must be "
                                     "one of \"off\", \"queue\", \"reject\""),
            std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(parse_profiles("[ai_mode.local_llm]\nrender_handoff = 1\n", "c.toml").ok());
}

TEST(ProfileTest, OutOfRangeIsAnError) {
  auto set = parse_profiles("[ai_mode.batch_inference]\nauto_offload_threshold = 140\n", "c.toml");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("c.toml:2: key 'ai_mode.batch_inference.auto_offload_threshold' is 140"),
            std::string::npos)
      << set.error().message;
  auto neg = parse_profiles("[ai_mode.a]\nreserve_ram_gb = -1\n", "c.toml");
  ASSERT_FALSE(neg.ok());
  auto nan = parse_profiles("[ai_mode.a]\nreserve_ram_gb = nan\n", "c.toml");
  ASSERT_FALSE(nan.ok());
  auto order = parse_profiles("[ai_mode.a]\nauto_compact_threshold = 99\nauto_offload_threshold = 90\n", "c.toml");
  ASSERT_FALSE(order.ok());
  EXPECT_NE(order.error().message.find("must not exceed"), std::string::npos);
}

TEST(ProfileTest, StructuralErrors) {
  EXPECT_FALSE(parse_profiles("ai_mode = 3\n", "c").ok());
  EXPECT_FALSE(parse_profiles("[ai_mode]\nlocal_llm = 1\n", "c").ok());
  EXPECT_FALSE(parse_profiles("[other]\n", "c").ok());
  EXPECT_FALSE(parse_profiles("[ai_mode.\"bad name!\"]\n", "c").ok());
  auto syntax = parse_profiles("[ai_mode.local_llm\n", "c.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message.find("c.toml:1: not valid TOML"), std::string::npos)
      << syntax.error().message;
  auto d = parse_profiles("[daemon]\nfoo = 1\n", "c.toml");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("daemon.foo"), std::string::npos);
  auto m = parse_profiles("[daemon]\nmode = \"psychic\"\n", "c.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("c.toml:2"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("key 'daemon.mode' must be \"predictive\" or \"threshold\""), std::string::npos)
      << m.error().message;
}

class ProfileFileTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string dir_ = tmp_.path();
};

TEST_F(ProfileFileTest, MissingFileGivesBuiltins) {
  auto set = load_profiles(dir_ + "/none.toml");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->profiles.size(), 3u);
  EXPECT_EQ(set->source, "");
}

TEST_F(ProfileFileTest, HugeFileRefused) {
  std::ofstream(dir_ + "/big.toml") << std::string(2 << 20, '#');
  auto set = load_profiles(dir_ + "/big.toml");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message.find("larger than 1 MiB"), std::string::npos);
}

TEST_F(ProfileFileTest, ActiveProfileRoundTripAtomically) {
  const std::string state = dir_ + "/state/ruvector-memopt";
  auto none = active_profile(state);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "local_llm");
  auto set = set_active_profile(state, "image_generation");
  ASSERT_TRUE(set.ok()) << set.error().message;
  auto got = active_profile(state);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "image_generation");
  // Replacing an existing choice (on Windows a plain rename would refuse).
  set = set_active_profile(state, "batch_inference");
  ASSERT_TRUE(set.ok()) << set.error().message;
  got = active_profile(state);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "batch_inference");
  // No temp file is left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(state)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_FALSE(set_active_profile(state, "../etc").ok());
  std::ofstream(active_profile_path(state)) << "rm -rf /\n";
  EXPECT_FALSE(active_profile(state).ok());
}

}  // namespace
}  // namespace memopt::policy

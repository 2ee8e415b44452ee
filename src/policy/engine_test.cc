#include "policy/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "util/bytes.h"

namespace memopt::policy {
namespace {

Profile profile(const std::string& name = "local_llm") {
  for (auto& p : builtin_profiles()) {
    if (p.name == name) return p;
  }
  return {};
}

GpuState gpu(int idx, uint64_t used_gib, uint64_t total_gib = 24) {
  GpuState g;
  g.index = idx;
  g.used_bytes = used_gib * kGiB;
  g.total_bytes = total_gib * kGiB;
  return g;
}

ModelState model(const std::string& name, uint64_t vram_gib, double idle, int gpu_index = 0) {
  ModelState m;
  m.runtime = "ollama";
  m.name = name;
  m.endpoint = "http://127.0.0.1:11434";
  m.gpu = gpu_index;
  m.vram_bytes = vram_gib * kGiB;
  m.size_bytes = m.vram_bytes;
  m.idle_seconds = idle;
  m.n_layers = 33;
  m.gpu_layers = 33;
  m.gpu_layer_bytes = m.vram_bytes / 33;
  return m;
}

// Threshold semantics only (no forecaster), for the rules' own tests.
PolicyTuning threshold_only() {
  PolicyTuning t;
  t.predict = false;
  return t;
}

// The forecaster at one sample a second, never faster: the lead an action
// needs is then its own delay plus that second.
// The timings these tests work out assume the engine plans with its prior
// median delays exactly (unload 1 s, reload 3 s): no spread on top, and no
// margin for the next step of growth that comes in steps.
PolicyTuning exact() {
  PolicyTuning t;
  t.delay_spread_factor = 0;
  t.step_margin_factor = 0;
  t.stream_tail_fraction = 0;  // the climb's tail: its own test
  return t;
}

PolicyTuning one_hz() {
  PolicyTuning t = exact();
  t.fast_sample_seconds = 0;
  return t;
}

PolicyInput base(double now = 1000) {
  PolicyInput in;
  in.now_seconds = now;
  in.host.total_bytes = 64 * kGiB;
  in.host.available_bytes = 40 * kGiB;
  return in;
}

const Action* find(const Decision& d, ActionKind k, const std::string& model) {
  for (const auto& a : d.actions) {
    if (a.kind == k && a.model == model) return &a;
  }
  return nullptr;
}

TEST(EngineTest, QuietMachineGetsNoActions) {
  auto in = base();
  in.gpus = {gpu(0, 8)};
  in.models = {model("llama3.2:3b", 4, 10)};
  PolicyState st;
  auto d = decide(in, profile(), {}, st);
  EXPECT_TRUE(d.actions.empty());
  ASSERT_EQ(d.forecasts.size(), 1u);
  EXPECT_FALSE(d.forecasts[0].growth.valid);
}

TEST(EngineTest, IdleUnloadAfterProfileTime) {
  auto in = base();
  in.gpus = {gpu(0, 10)};
  in.models = {model("old", 4, 301), model("recent", 4, 299), model("pinned", 2, 5000)};
  in.models[2].pinned = true;
  PolicyState st;
  auto d = decide(in, profile(), {}, st);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].kind, ActionKind::kUnload);
  EXPECT_EQ(d.actions[0].model, "old");
  EXPECT_EQ(d.actions[0].expected_bytes, 4 * kGiB);
  EXPECT_NE(d.actions[0].reason.find("unloads after 300 s"), std::string::npos)
      << d.actions[0].reason;
  // batch_inference never idle-unloads.
  PolicyState st2;
  EXPECT_TRUE(decide(in, profile("batch_inference"), {}, st2).actions.empty());
}

TEST(EngineTest, OffloadFreesIdleModelsFirstThenReloadsLargest) {
  auto in = base();
  in.gpus = {gpu(0, 23)};  // 95.8 % >= 95
  in.models = {model("big", 14, 0), model("idle-small", 2, 120), model("busy", 5, 0)};
  in.models[2].busy = true;
  in.models[0].busy = true;
  PolicyState st;
  auto d = decide(in, profile(), {}, st, threshold_only());
  // Re-arm level is 90 % = 21.6 GiB: need 1.4 GiB; the idle model covers it.
  ASSERT_EQ(d.actions.size(), 1u) << d.actions.size();
  EXPECT_EQ(d.actions[0].kind, ActionKind::kUnload);
  EXPECT_EQ(d.actions[0].model, "idle-small");
  EXPECT_FALSE(d.actions[0].predictive);

  // No idle model: the largest is reloaded with just enough fewer layers.
  in.models = {model("big", 14, 0), model("busy", 5, 0)};
  PolicyState st2;
  d = decide(in, profile(), {}, st2, threshold_only());
  const Action* r = find(d, ActionKind::kReloadFewerLayers, "big");
  ASSERT_NE(r, nullptr);
  const uint64_t layer = 14 * kGiB / 33;
  const uint64_t need = 23 * kGiB - static_cast<uint64_t>(24.0 * kGiB * 0.90);
  const uint64_t drop = (need + layer - 1) / layer;
  EXPECT_EQ(r->gpu_layers, 33 - drop);
  EXPECT_EQ(r->expected_bytes, drop * layer);
  EXPECT_GE(r->expected_bytes, need);
}

TEST(EngineTest, OffloadHysteresisDoesNotFlap) {
  auto in = base();
  in.gpus = {gpu(0, 23)};
  in.models = {model("a", 3, 100), model("b", 3, 100), model("c", 3, 100)};
  PolicyState st;
  auto d1 = decide(in, profile(), {}, st, threshold_only());
  EXPECT_EQ(d1.actions.size(), 1u);
  // Still over the threshold 1 s later (dry run, nothing changed): disarmed.
  in.now_seconds += 1;
  auto d2 = decide(in, profile(), {}, st, threshold_only());
  EXPECT_TRUE(d2.actions.empty());
  // Dips to 94 % (below threshold, above re-arm 90 %) and back: still nothing.
  in.gpus[0].used_bytes = static_cast<uint64_t>(24.0 * kGiB * 0.94);
  in.now_seconds += 1;
  EXPECT_TRUE(decide(in, profile(), {}, st, threshold_only()).actions.empty());
  in.gpus[0].used_bytes = 23 * kGiB;
  in.now_seconds += 1;
  EXPECT_TRUE(decide(in, profile(), {}, st, threshold_only()).actions.empty());
  // Falls below the re-arm level, then crosses again: fires once more.
  in.gpus[0].used_bytes = 20 * kGiB;
  in.now_seconds += 1;
  EXPECT_TRUE(decide(in, profile(), {}, st, threshold_only()).actions.empty());
  in.gpus[0].used_bytes = 23 * kGiB;
  in.now_seconds += 1;
  auto d3 = decide(in, profile(), {}, st, threshold_only());
  ASSERT_EQ(d3.actions.size(), 1u);
  EXPECT_NE(d3.actions[0].model, d1.actions[0].model);  // d1's target is cooling down
}

TEST(EngineTest, TargetCooldownAndGlobalRateLimit) {
  auto in = base();
  in.gpus = {gpu(0, 4, 80)};
  for (int i = 0; i < 10; ++i) in.models.push_back(model("m" + std::to_string(i), 0, 400));
  PolicyTuning t;
  t.target_cooldown_seconds = 120;
  PolicyState st;
  auto d = decide(in, profile(), {}, st, t);
  EXPECT_EQ(d.actions.size(), 6u);  // max_actions_per_minute
  bool noted = false;
  for (auto& n : d.notes) noted |= n.find("rate limit") != std::string::npos;
  EXPECT_TRUE(noted);
  in.now_seconds += 30;
  EXPECT_TRUE(decide(in, profile(), {}, st, t).actions.empty());
  in.now_seconds += 31;  // window passed; the first six still cool down
  auto d2 = decide(in, profile(), {}, st, t);
  EXPECT_EQ(d2.actions.size(), 4u);
  for (auto& a : d2.actions) EXPECT_GE(std::stoi(a.model.substr(1)), 6);
}

TEST(EngineTest, PredictsOomAndActsBeforeTheThreshold) {
  // A second model loading: +1 GiB/s from 16 GiB on 24 GiB, one sample a
  // second, never faster (one_hz). The idle model unloads in
  // `unload_seconds` (1 s), so the engine acts at the last sample that leaves
  // it time: 2 s before OOM, not at 4 s (growth that stops in between costs
  // no action).
  auto at = [](double t, uint64_t used_gib) {
    auto in = base(t);
    in.gpus = {gpu(0, used_gib)};
    in.models = {model("chat", 6, 200), model("loading", 4, 0)};
    in.models[1].busy = true;
    return in;
  };
  std::vector<PolicyInput> hist;
  for (int i = 0; i < 4; ++i) hist.push_back(at(1000 + i, 16 + i));
  PolicyState st;
  auto early = decide(at(1004, 20), profile(), hist, st, one_hz());
  ASSERT_EQ(early.forecasts.size(), 1u);
  EXPECT_NEAR(early.forecasts[0].seconds_to_oom, 4.0, 1e-6);
  EXPECT_TRUE(early.actions.empty());
  hist.push_back(at(1004, 20));
  hist.push_back(at(1005, 21));
  auto d = decide(at(1006, 22), profile(), hist, st, one_hz());
  EXPECT_NEAR(d.forecasts[0].seconds_to_oom, 2.0, 1e-6);
  const Action* a = find(d, ActionKind::kUnload, "chat");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->predictive);
  EXPECT_NE(a->reason.find("out of memory forecast in 2 s"), std::string::npos) << a->reason;
  // The idle model covers the growth until a reload could land, so the busy
  // one keeps all its layers this pass.
  EXPECT_EQ(find(d, ActionKind::kReloadFewerLayers, "loading"), nullptr);
  // Threshold-only tuning does nothing yet (92 % < 95 %).
  PolicyTuning thr;
  thr.predict = false;
  PolicyState st2;
  EXPECT_TRUE(decide(at(1006, 22), profile(), hist, st2, thr).actions.empty());
}

TEST(EngineTest, ForecastSeesGrowthGoOnThroughItsOwnUnload) {
  // 1 GiB/s on 24 GiB; the idle 3 GiB model is unloaded at 22 GiB and the
  // samples drop by 3 GiB. The fit takes the drop as a step, so two seconds
  // later the growth is still forecast and the busy model is reloaded with
  // fewer layers in time (a plain line through the drop sees no trend).
  auto at = [](double t, uint64_t used_gib, bool idle_present) {
    auto in = base(t);
    in.gpus = {gpu(0, used_gib)};
    auto busy = model("busy", 12, 0);
    busy.busy = true;
    in.models = {busy};
    if (idle_present) in.models.push_back(model("idle", 3, 300));
    return in;
  };
  std::vector<PolicyInput> hist;
  for (int i = 0; i < 4; ++i) hist.push_back(at(100 + i, 18 + i, true));
  PolicyState st;
  auto d1 = decide(at(104, 22, true), profile(), hist, st, one_hz());
  ASSERT_NE(find(d1, ActionKind::kUnload, "idle"), nullptr);
  EXPECT_EQ(find(d1, ActionKind::kReloadFewerLayers, "busy"), nullptr);
  hist.push_back(at(104, 22, true));
  hist.push_back(at(105, 20, false));  // 23 - 3
  hist.push_back(at(106, 21, false));
  auto d2 = decide(at(107, 22, false), profile(), hist, st, one_hz());
  ASSERT_EQ(d2.forecasts.size(), 1u);
  EXPECT_NEAR(d2.forecasts[0].growth.slope_bytes_per_s, static_cast<double>(kGiB), 1e6);
  EXPECT_DOUBLE_EQ(d2.forecasts[0].landed_before_seconds, 104);
  const Action* r = find(d2, ActionKind::kReloadFewerLayers, "busy");
  ASSERT_NE(r, nullptr) << (d2.notes.empty() ? "" : d2.notes[0]);
  EXPECT_TRUE(r->predictive);
}

TEST(EngineTest, ForecasterLeavesAPlateauAboveTheThresholdAlone) {
  // 95.8 % for two minutes, flat: it never runs out, so the predictive
  // policy frees nothing (it says why); mode = "threshold" acts at once.
  auto in = base(100);
  in.gpus = {gpu(0, 23)};
  in.models = {model("idle", 3, 100), model("busy", 10, 0)};
  in.models[1].busy = true;
  PolicyState st;
  std::vector<PolicyInput> hist;
  for (int i = 0; i < 120; ++i) {
    auto d = decide(in, profile(), hist, st);
    EXPECT_TRUE(d.actions.empty()) << "t=" << in.now_seconds;
    EXPECT_EQ(d.next_sample_seconds, 0) << "t=" << in.now_seconds;  // nothing to watch
    if (i == 119) {
      ASSERT_FALSE(d.notes.empty());
      EXPECT_NE(d.notes[0].find("no OOM forecast; holding"), std::string::npos) << d.notes[0];
    }
    hist.push_back(in);
    if (hist.size() > 30) hist.erase(hist.begin());
    in.now_seconds += 1;
  }
  PolicyState st2;
  auto d = decide(in, profile(), hist, st2, threshold_only());
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].model, "idle");
  EXPECT_NE(d.actions[0].reason.find(">= auto_offload_threshold"), std::string::npos)
      << d.actions[0].reason;
}

TEST(EngineTest, SamplesFasterWhileAnOomIsNearAndActsAtTheLastMoment) {
  // +1 GiB/s from 16 GiB on 24 GiB at one sample a second. At 22 GiB the
  // earliest OOM is 2 s away: within reload_seconds + watch_seconds, so the
  // engine asks for a sample in 0.25 s, and with that lead (unload 1 s +
  // 0.25 s) waits until OOM is 1.25 s away before it unloads.
  auto at = [](double t) {
    auto in = base(t);
    GpuState g = gpu(0, 0);
    g.used_bytes = static_cast<uint64_t>((16 + (t - 1000)) * static_cast<double>(kGiB));
    in.gpus = {g};
    in.models = {model("chat", 6, 200), model("loading", 4, 0)};
    in.models[1].busy = true;
    return in;
  };
  std::vector<PolicyInput> hist;
  PolicyState st;
  for (int i = 0; i < 4; ++i) {
    auto d = decide(at(1000 + i), profile(), hist, st, exact());
    EXPECT_TRUE(d.actions.empty());
    hist.push_back(at(1000 + i));
  }
  auto d4 = decide(at(1004), profile(), hist, st, exact());  // 20 GiB: OOM in 4 s
  EXPECT_EQ(d4.next_sample_seconds, 0.25);
  hist.push_back(at(1004));
  auto d5 = decide(at(1005), profile(), hist, st, exact());
  EXPECT_EQ(d5.next_sample_seconds, 0.25);
  hist.push_back(at(1005));
  double t = 1006;
  for (; t < 1007; t += 0.25) {
    auto d = decide(at(t), profile(), hist, st, exact());
    EXPECT_EQ(d.next_sample_seconds, 0.25) << "t=" << t;
    if (!d.actions.empty()) {
      ASSERT_EQ(d.actions.size(), 1u);
      EXPECT_EQ(d.actions[0].model, "chat");
      EXPECT_NE(d.actions[0].reason.find("out of memory forecast in 1.25 s"), std::string::npos)
          << d.actions[0].reason;
      break;
    }
    hist.push_back(at(t));
  }
  EXPECT_DOUBLE_EQ(t, 1006.75);  // 22.75 GiB: the last sample that leaves the unload its second
  // At one sample a second the same growth is acted on at 22 GiB, 0.75 s of
  // growth earlier, where it might still have stopped.
  PolicyState st2;
  std::vector<PolicyInput> h2;
  for (int i = 0; i < 6; ++i) h2.push_back(at(1000 + i));
  EXPECT_FALSE(decide(at(1006), profile(), h2, st2, one_hz()).actions.empty());
}

TEST(EngineTest, AnUnloadThatLandsInTimeNeedsNoReload) {
  // 8 GiB GPU, +1 GiB/s sampled every 0.25 s. The idle model (3 GiB) is
  // unloaded when OOM is 1.25 s away; a quarter second later OOM is a
  // second away, but the unload lands before it and moves it out by 3 s of
  // growth, enough for a reload decided later to land: the busy model is
  // not reloaded now. (Usage is below the threshold's re-arm level here; the
  // engine used to forget what it had freed there and reloaded the model.)
  auto at = [](double t, bool idle_present) {
    auto in = base(t);
    GpuState g = gpu(0, 0, 8);
    g.used_bytes = static_cast<uint64_t>((2 + t - 100) * static_cast<double>(kGiB));
    in.gpus = {g};
    auto busy = model("busy", 1, 0);
    busy.busy = true;
    in.models = {busy};
    if (idle_present) in.models.push_back(model("idle", 3, 200));
    return in;
  };
  std::vector<PolicyInput> hist;
  PolicyState st;
  double t = 100;
  bool unloaded = false;
  for (; t < 107 && !unloaded; t += 0.25) {
    Decision d = decide(at(t, true), profile(), hist, st, exact());
    unloaded = find(d, ActionKind::kUnload, "idle") != nullptr;
    hist.push_back(at(t, true));
  }
  ASSERT_TRUE(unloaded);
  EXPECT_DOUBLE_EQ(t - 0.25, 104.75);  // at 6.75 GiB: OOM 1.25 s away
  // 7 GiB: OOM 1 s away, sooner than a reload (3 s) could land; but the
  // unload lands at 105.75, before it, and then 3 GiB more are free.
  auto next = decide(at(t, true), profile(), hist, st,
                     exact());  // still present: the unload has not landed
  EXPECT_EQ(find(next, ActionKind::kReloadFewerLayers, "busy"), nullptr)
      << (next.notes.empty() ? "" : next.notes[0]);
  EXPECT_TRUE(next.actions.empty());
}

TEST(EngineTest, GrowthThatJustStartedIsJudgedByItsNewRate) {
  // Flat at 10 of 24 GiB for 3 s, then +2 GiB/s sampled every 0.25 s: the
  // 4 s line cuts across the kink (too flat); the last second shows the
  // rate, and the earliest OOM is judged by it.
  std::vector<PolicyInput> hist;
  auto at = [](double t) {
    auto in = base(t);
    GpuState g = gpu(0, 0);
    const double gib = t < 103 ? 10 : 10 + 2 * (t - 103);
    g.used_bytes = static_cast<uint64_t>(gib * static_cast<double>(kGiB));
    in.gpus = {g};
    return in;
  };
  for (double t = 100; t < 104.5; t += 0.25) hist.push_back(at(t));
  PolicyState st;
  auto d = decide(at(104.5), profile(), hist, st);
  ASSERT_EQ(d.forecasts.size(), 1u);
  // The 4 s line through flat and rising samples fits too badly to use
  // (R^2 < 0.8); the last second's line is the forecast: 13 GiB now, 11 to
  // go at 2 GiB/s.
  EXPECT_TRUE(d.forecasts[0].growth.valid);
  EXPECT_NEAR(d.forecasts[0].growth.slope_bytes_per_s, 2.0 * static_cast<double>(kGiB), 1e6);
  EXPECT_NEAR(d.forecasts[0].seconds_to_oom, 5.5, 1e-3);
  EXPECT_EQ(d.next_sample_seconds, 0.25);  // within reload + watch seconds
  const GrowthForecast long_line = forecast_growth(
      [&] {
        std::vector<UsagePoint> p;
        for (const auto& h : hist) p.push_back({h.now_seconds, h.gpus[0].used_bytes});
        p.push_back({104.5, at(104.5).gpus[0].used_bytes});
        return p;
      }(),
      4.0);
  EXPECT_FALSE(long_line.valid) << long_line.r2;
}

TEST(EngineTest, FlatUsageInsideTheOomMarginFreesAnIdleModelOnly) {
  // 23.9 of 24 GiB, flat: inside the 1 % margin (240 MiB). The idle model
  // goes; the busy one keeps its layers (the fast tier covers it).
  auto in = base(100);
  GpuState g = gpu(0, 0);
  g.used_bytes = 24 * kGiB - 100 * (1ULL << 20);
  in.gpus = {g};
  in.models = {model("idle", 3, 100), model("busy", 10, 0)};
  in.models[1].busy = true;
  PolicyState st;
  auto d = decide(in, profile(), {}, st);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].model, "idle");
  EXPECT_EQ(d.actions[0].kind, ActionKind::kUnload);
  // 300 MiB below full: outside the margin, nothing.
  in.gpus[0].used_bytes = 24 * kGiB - 300 * (1ULL << 20);
  PolicyState st2;
  EXPECT_TRUE(decide(in, profile(), {}, st2).actions.empty());
}

TEST(EngineTest, KnownLoadActsWhenItWillNotFit) {
  auto in = base();
  in.gpus = {gpu(0, 14)};
  in.models = {model("idle", 6, 200), model("loading", 1, 0)};
  in.models[1].busy = true;
  AnnouncedLoad load;
  load.source = "planner";
  load.model = "loading";
  load.gpu = 0;
  load.bytes = 9 * kGiB;  // 1 GiB of it resident: 14 + 8 = 22 GiB fits
  load.resident_bytes = 1 * kGiB;
  in.announced = {load};
  PolicyState st;
  EXPECT_TRUE(decide(in, profile(), {}, st).actions.empty());
  // 14 + 8.9 = 22.9 GiB: the planner's figure is a bound (never under what
  // llama.cpp allocates), so no margin is kept on top of it.
  in.announced[0].bytes = 9 * kGiB + 9 * kGiB / 10;
  EXPECT_TRUE(decide(in, profile(), {}, st).actions.empty());
  in.announced[0].bytes = 12 * kGiB;  // 14 + 11 = 25 GiB > 24
  auto d = decide(in, profile(), {}, st);
  const Action* a = find(d, ActionKind::kUnload, "idle");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->predictive);
  EXPECT_NE(a->reason.find("once the loading model is in"), std::string::npos) << a->reason;
  // A load on another GPU says nothing about this one.
  in.announced[0].gpu = 1;
  PolicyState st2;
  EXPECT_TRUE(decide(in, profile(), {}, st2).actions.empty());
}

TEST(EngineTest, AKnownLoadThatEndsInsideTheMarginIsLeftAlone) {
  // A planned 9 GiB load on a 24 GiB GPU with 14.9 GiB in use ends 100 MiB
  // below full: inside the 1 % OOM margin, but its size was known (the
  // estimate counted its last allocations) and it fits, so nothing acts,
  // even once its announcement has left the history's window.
  const uint64_t mib = 1ULL << 20;
  const uint64_t full = 24 * kGiB;
  const uint64_t start = full - 100 * mib - 9 * kGiB;
  auto at = [&](double t, uint64_t used, bool loading) {
    auto in = base(t);
    GpuState g = gpu(0, 0);
    g.used_bytes = used;
    in.gpus = {g};
    in.models = {model("idle", 6, 200)};  // idle, not yet past idle_unload_seconds
    if (loading) {
      AnnouncedLoad load;
      load.source = "planner";
      load.model = "new";
      load.gpu = 0;
      load.bytes = 9 * kGiB;
      load.resident_bytes = used - start;
      in.announced = {load};
    }
    return in;
  };
  PolicyState st;
  std::vector<PolicyInput> hist;
  int actions = 0;
  for (int t = 100; t <= 160; ++t) {
    const uint64_t used = t < 103 ? start + static_cast<uint64_t>(t - 100) * 3 * kGiB
                                  : full - 100 * mib;
    auto in = at(t, used, t < 103);
    const auto dd = decide(in, profile(), hist, st, one_hz());
    actions += static_cast<int>(dd.actions.size());
    hist.push_back(in);
    if (hist.size() > 30) hist.erase(hist.begin());
  }
  EXPECT_EQ(actions, 0);
  ASSERT_EQ(st.known_level.count(0), 1u);
  EXPECT_EQ(st.known_level[0], full - 100 * mib);
  // Memory freed (usage 3 GiB lower) ends it too: a climb from there is
  // judged as any other.
  PolicyState freed = st;
  decide(at(161, full - 3 * kGiB, false), profile(), hist, freed, one_hz());
  EXPECT_EQ(freed.known_level.count(0), 0u);
  // A rise above that level nobody announced ends it: at 20 MiB below full
  // the margin acts again (the idle model goes).
  auto in = at(161, full - 20 * mib, false);
  const auto d = decide(in, profile(), hist, st, one_hz());
  EXPECT_NE(find(d, ActionKind::kUnload, "idle"), nullptr);
  // Off, the plateau inside the margin acts as any plateau there does.
  PolicyTuning off = one_hz();
  off.known_plateau = false;
  PolicyState st_off;
  std::vector<PolicyInput> hist_off;
  int actions_off = 0;
  for (int t = 100; t <= 140; ++t) {
    const uint64_t used = t < 103 ? start + static_cast<uint64_t>(t - 100) * 3 * kGiB
                                  : full - 100 * mib;
    auto in2 = at(t, used, t < 103);
    actions_off += static_cast<int>(decide(in2, profile(), hist_off, st_off, off).actions.size());
    hist_off.push_back(in2);
  }
  EXPECT_GE(actions_off, 1);
}

TEST(EngineTest, AModelThatAppearsListedExplainsTheClimb) {
  // An Ollama load quicker than its list: the runner (4 GiB) came in within
  // a second and /api/ps shows the model loaded at once (never "loading",
  // so nothing announced it). The climb is that model, and it is in: the
  // window's line through it is no forecast.
  auto at = [](double t, double used_gib, bool listed) {
    auto in = base(t);
    GpuState g = gpu(0, 0);
    g.used_bytes = static_cast<uint64_t>(used_gib * static_cast<double>(kGiB));
    in.gpus = {g};
    in.models = {model("idle", 4, 200)};
    if (listed) in.models.push_back(model("new", 4, 0));
    in.models.back().busy = listed;
    return in;
  };
  const std::vector<std::tuple<double, double, bool>> samples = {
      {96, 18, false}, {97, 18, false}, {98, 18, false}, {99, 20.5, false},
      {99.25, 21.8, false}, {99.5, 22.4, true}, {99.75, 22.5, true}};
  auto run = [&](PolicyTuning t) {
    PolicyState st;
    std::vector<PolicyInput> hist;
    int actions = 0;
    for (const auto& [time, used, listed] : samples) {
      auto in = at(time, used, listed);
      actions += static_cast<int>(decide(in, profile(), hist, st, t).actions.size());
      hist.push_back(in);
    }
    return actions;
  };
  EXPECT_EQ(run(exact()), 0);
  // Without that, the line forecasts an OOM and the idle model goes.
  PolicyTuning off = exact();
  off.new_model_explains_climb = false;
  EXPECT_GE(run(off), 1);
}

TEST(EngineTest, GrowthInStepsKeepsTheLastStepInHand) {
  // 22.5 of 24 GiB, flat now. Reached by 1 GiB steps a second apart (a
  // PyTorch allocator's segments): the next step may come with no warning,
  // and twice that is kept in hand. Reached slowly, nothing to do.
  std::vector<PolicyInput> steps, slow;
  for (int i = 0; i < 4; ++i) {
    auto in = base(1000 + i);
    in.gpus = {gpu(0, 19)};
    in.gpus[0].used_bytes = 19 * kGiB + kGiB / 2 + static_cast<uint64_t>(i) * kGiB;
    steps.push_back(in);
  }
  for (int i = 0; i < 4; ++i) {
    auto in = base(970 + 10.0 * i);
    in.gpus = {gpu(0, 22)};
    in.gpus[0].used_bytes = 22 * kGiB + kGiB / 2 - static_cast<uint64_t>(3 - i) * (kGiB / 8);
    slow.push_back(in);
  }
  auto now = base(1005);
  now.gpus = {gpu(0, 22)};
  now.gpus[0].used_bytes = 22 * kGiB + kGiB / 2;
  now.models = {model("idle", 4, 100)};  // (under idle_unload_seconds)
  for (auto* h : {&steps, &slow}) {
    for (auto& in : *h) in.models = now.models;  // listed all along
  }
  PolicyState st, st2;
  auto d = decide(now, profile(), steps, st);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].model, "idle");
  EXPECT_TRUE(decide(now, profile(), slow, st2).actions.empty());
  // Steps of a load the planner announced were known: no margin for them.
  for (auto& in : steps)
    in.announced = {AnnouncedLoad{.source = "planner",
                                  .runtime = "ollama",
                                  .model = "m",
                                  .endpoint = "",
                                  .pid = 0,
                                  .gpu = 0,
                                  .bytes = kGiB,
                                  .resident_bytes = kGiB,
                                  .runs = 0,
                                  .announced_at_seconds = 1000}};
  PolicyState st3;
  EXPECT_TRUE(decide(now, profile(), steps, st3).actions.empty());
}

TEST(EngineTest, AStepMarginActsBelowTheReArmLevelOnAPlateau) {
  // A game loads a level in 8 GiB steps nobody announced, to 42 of 48 GiB
  // (87.5 %: under local_llm's re-arm level, 95 - 5 %), and holds. Its next
  // level may be another step like those: 6 GiB free cannot take it, so
  // once the plateau has held step_confirm_seconds the idle models go,
  // enough to give the step margin back (2 x 8 GiB: 10 GiB).
  // On the plateau the counter wobbles by a few MiB, as real ones do.
  const auto sample = [](double t, uint64_t used_gib, uint64_t wobble_mib = 0) {
    auto in = base(t);
    in.gpus = {gpu(0, used_gib, 48)};
    in.gpus[0].used_bytes += wobble_mib * kMiB;
    in.models = {model("a", 6, 100), model("b", 6, 90)};  // idle, under idle_unload
    return in;
  };
  const std::vector<PolicyInput> h = {sample(1000, 26), sample(1001, 34),    sample(1002, 34),
                                      sample(1003, 42), sample(1004, 42, 8), sample(1005, 42)};
  const auto now = sample(1006, 42, 6);
  PolicyState st;
  const auto d = decide(now, profile(), h, st);
  ASSERT_EQ(d.actions.size(), 2u);
  uint64_t freed = 0;
  for (const auto& a : d.actions) {
    EXPECT_EQ(a.kind, ActionKind::kUnload);
    EXPECT_NE(a.reason.find("the OOM margin"), std::string::npos) << a.reason;
    freed += a.expected_bytes;
  }
  EXPECT_EQ(freed, 12 * kGiB);
  // A step seen less than step_confirm_seconds ago may be a load its
  // runtime lists in a moment (the planner then knows the rest): not yet.
  PolicyTuning wait;
  wait.step_confirm_seconds = 5;
  PolicyState st2;
  EXPECT_TRUE(decide(now, profile(), h, st2, wait).actions.empty());
  // Without the step rule the plateau under the re-arm level is left alone.
  PolicyTuning off;
  off.step_margin_factor = 0;
  PolicyState st3;
  EXPECT_TRUE(decide(now, profile(), h, st3, off).actions.empty());
}

TEST(EngineTest, PlansWithLearnedDelaysAndTheirSpread) {
  PolicyTuning t;  // prior: unload 1 s median, p90 2 s, spread factor 1.5
  EXPECT_DOUBLE_EQ(planned_delay_seconds({}, ActionKind::kUnload, "ollama", kGiB, t), 2.5);
  EXPECT_DOUBLE_EQ(planned_delay_seconds({}, ActionKind::kReloadFewerLayers, "ollama", kGiB, t),
                   7.5);
  ActionDelayStats s;
  s.runtime = "ollama";
  s.action = "unload";
  s.p50_seconds = 0.4;
  s.p90_seconds = 0.8;
  s.count = 27;  // weight 27 / 30 against the prior's 3
  const double p50 = 0.9 * 0.4 + 0.1 * 1, p90 = 0.9 * 0.8 + 0.1 * 2;
  EXPECT_NEAR(planned_delay_seconds({s}, ActionKind::kUnload, "ollama", kGiB, t),
              p50 + 1.5 * (p90 - p50), 1e-9);
  // Another runtime, another size class, another action: the prior.
  EXPECT_DOUBLE_EQ(planned_delay_seconds({s}, ActionKind::kUnload, "vllm", kGiB, t), 2.5);
  s.max_model_bytes = kGiB;
  EXPECT_DOUBLE_EQ(planned_delay_seconds({s}, ActionKind::kUnload, "ollama", kGiB, t), 2.5);
  s.max_model_bytes = UINT64_MAX;
  EXPECT_DOUBLE_EQ(planned_delay_seconds({s}, ActionKind::kReloadFewerLayers, "ollama", kGiB, t),
                   7.5);
  // A runtime's own record wins over one for any runtime.
  ActionDelayStats any = s;
  any.runtime = "";
  any.p50_seconds = 5;
  any.p90_seconds = 9;
  any.count = 1000;
  EXPECT_LT(planned_delay_seconds({any, s}, ActionKind::kUnload, "ollama", kGiB, t), 1.5);
  EXPECT_GT(planned_delay_seconds({any, s}, ActionKind::kUnload, "vllm", kGiB, t), 5);
  // A hostile record (NaN) is ignored, not planned with.
  s.p50_seconds = std::nan("");
  EXPECT_DOUBLE_EQ(planned_delay_seconds({s}, ActionKind::kUnload, "ollama", kGiB, t), 2.5);
}

TEST(EngineTest, ASteadyClimbKeepsItsTailInHand) {
  // Something nobody announced streams in at 1 GiB/s from 4 GiB on a 24 GiB
  // GPU (a model's weights); llama.cpp then takes its KV cache and compute
  // buffer at once. With the tail kept in hand (35 % of the climb) the idle
  // model goes while the climb is still 3 GiB or more from the top; with
  // it off, only when the line itself nears the top.
  auto at = [](double t) {
    auto in = base(t);
    GpuState g = gpu(0, 0);
    g.used_bytes = static_cast<uint64_t>((4 + (t - 100)) * static_cast<double>(kGiB));
    in.gpus = {g};
    in.models = {model("idle", 3, 100)};
    return in;
  };
  auto first_unload = [&](PolicyTuning tuning) {
    std::vector<PolicyInput> hist;
    PolicyState st;
    for (double t = 100; t < 125; t += 1) {
      const Decision d = decide(at(t), profile(), hist, st, tuning);
      if (find(d, ActionKind::kUnload, "idle")) return t;
      hist.push_back(at(t));
    }
    return 0.0;
  };
  PolicyTuning tail = one_hz();
  tail.stream_tail_fraction = 0.35;
  const double with_tail = first_unload(tail);
  const double without = first_unload(one_hz());
  // Climb c = t - 100 GiB over 4 GiB: acts once 4 + c > 24 - 0.35 c.
  EXPECT_GE(with_tail, 114);
  EXPECT_LE(with_tail, 116);
  EXPECT_GE(without, 118);  // OOM 2 s away at 1 Hz: the last moment
  EXPECT_GT(without - with_tail, 2);
  // Announced growth has no unknown tail: the planner's size stands.
  PolicyTuning t2 = tail;
  std::vector<PolicyInput> hist;
  PolicyState st;
  for (double t = 100; t < 112; t += 1) {
    auto in = at(t);
    AnnouncedLoad a;
    a.source = "planner";
    a.bytes = 12 * kGiB;
    a.resident_bytes = static_cast<uint64_t>((t - 100) * static_cast<double>(kGiB));
    in.announced = {a};
    EXPECT_TRUE(decide(in, profile(), hist, st, t2).actions.empty()) << "t=" << t;
    hist.push_back(in);
  }
}

TEST(EngineTest, ReloadEscalatesWhileGrowthGoesOnButDoesNotFlap) {
  // KV of the only model grows 1 GiB/s; each pass sees the last 4 samples.
  auto at = [](double t, uint64_t used_gib, uint32_t layers) {
    auto in = base(t);
    in.gpus = {gpu(0, used_gib)};
    auto m = model("chat", 16, 0);
    m.busy = true;
    m.gpu_layers = layers;
    in.models = {m};
    return in;
  };
  auto hist = [&](double t, uint64_t used_gib) {
    std::vector<PolicyInput> h;
    for (int i = 4; i >= 1; --i) h.push_back(at(t - i, used_gib - i, 33));
    return h;
  };
  PolicyState st;
  auto d1 = decide(at(100, 20, 33), profile(), hist(100, 20), st, one_hz());
  const Action* r1 = find(d1, ActionKind::kReloadFewerLayers, "chat");
  ASSERT_NE(r1, nullptr);
  EXPECT_TRUE(r1->predictive);
  // 5 s later, inside settle_seconds: the first reload is still landing.
  EXPECT_EQ(find(decide(at(105, 20, r1->gpu_layers), profile(), hist(105, 20), st, one_hz()),
                 ActionKind::kReloadFewerLayers, "chat"),
            nullptr);
  // 12 s later growth goes on, but the first reload's drop never showed
  // (a runtime that could not reload, or failed): asking again would free
  // nothing again, so the cooldown holds.
  PolicyState st_no_drop = st;
  EXPECT_EQ(find(decide(at(112, 20, r1->gpu_layers), profile(), hist(112, 20), st_no_drop,
                        one_hz()),
                 ActionKind::kReloadFewerLayers, "chat"),
            nullptr);
  // Where it landed (the samples dropped by what it freed) and growth went
  // on from there up to 22.5 GiB, escalation is allowed despite the
  // cooldown.
  std::vector<PolicyInput> landed;
  const uint64_t dropped = 20 * kGiB - r1->expected_bytes;
  const uint64_t rate = (22 * kGiB + kGiB / 2 - dropped) / 11;
  for (int i = 0; i < 12; ++i) {
    auto h = at(100 + i, 20, i == 0 ? 33 : r1->gpu_layers);
    h.gpus[0].used_bytes = i == 0 ? 20 * kGiB : dropped + static_cast<uint64_t>(i - 1) * rate;
    landed.push_back(h);
  }
  auto now = at(112, 20, r1->gpu_layers);
  now.gpus[0].used_bytes = dropped + 11 * rate;
  auto d3 = decide(now, profile(), landed, st, one_hz());
  const Action* r3 = find(d3, ActionKind::kReloadFewerLayers, "chat");
  ASSERT_NE(r3, nullptr);
  EXPECT_LT(r3->gpu_layers, r1->gpu_layers);
  // Restoring within the cooldown after an offload would flap: refused.
  st.offloaded_at.clear();
  auto quiet = at(130, 8, r3->gpu_layers);
  PolicyTuning t;
  t.restore_stable_seconds = 0;
  EXPECT_EQ(find(decide(quiet, profile(), {}, st, t), ActionKind::kRestoreLayers, "chat"), nullptr);
}

TEST(EngineTest, CompactRightSizesContextWithBytesSaved) {
  auto in = base();
  in.gpus = {gpu(0, 20)};  // 83 % >= 80 %
  auto m = model("qwen", 12, 0);
  m.busy = true;
  m.context_length = 32768;
  m.kv_capacity_bytes = 4 * kGiB;
  m.kv_peak_bytes = kGiB / 4;  // 6.25 % of capacity -> 2048 tokens x 1.25 = 2560 -> 3072
  in.models = {m};
  PolicyState st;
  auto d = decide(in, profile(), {}, st);
  const Action* a = find(d, ActionKind::kResizeContext, "qwen");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->context_length, 3072u);
  EXPECT_EQ(a->expected_bytes, 4 * kGiB - 4 * kGiB * 3072 / 32768);
  EXPECT_NE(a->reason.find("auto_compact_threshold"), std::string::npos);
  // Unknown KV use: no resize, a note instead.
  in.models[0].kv_peak_bytes = 0;
  PolicyState st2;
  d = decide(in, profile(), {}, st2);
  EXPECT_EQ(find(d, ActionKind::kResizeContext, "qwen"), nullptr);
  ASSERT_FALSE(d.notes.empty());
}

TEST(EngineTest, KvOverLimitTriggersWithoutVramPressure) {
  auto in = base();
  in.gpus = {gpu(0, 12)};
  auto m = model("long", 10, 0);
  m.busy = true;
  m.context_length = 131072;
  m.kv_capacity_bytes = 8 * kGiB;  // > 30 % of 24 GiB
  m.kv_peak_bytes = 2 * kGiB;      // 25 %
  in.models = {m};
  PolicyState st;
  auto d = decide(in, profile(), {}, st);
  const Action* a = find(d, ActionKind::kResizeContext, "long");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->context_length, 40960u);  // 131072 x 0.25 x 1.25
  EXPECT_NE(a->reason.find("kv_cache_limit_percent"), std::string::npos);
}

TEST(EngineTest, LatencyProfileCutsParallelSlotsThroughputKeepsThem) {
  auto in = base();
  in.gpus = {gpu(0, 21)};
  auto m = model("srv", 12, 0);
  m.busy = true;
  m.context_length = 16384;
  m.parallel_slots = 4;
  m.kv_capacity_bytes = 4 * kGiB;
  m.kv_peak_bytes = static_cast<uint64_t>(0.15 * 4 * kGiB);  // one busy slot of four: 15 %
  m.kv_used_bytes = m.kv_peak_bytes;
  in.models = {m};
  // ratio 0.15 < 0.5: right-size context; latency mode also sets 1 slot.
  PolicyState st;
  auto d = decide(in, profile("local_llm"), {}, st);
  const Action* a = find(d, ActionKind::kResizeContext, "srv");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->parallel_slots, 1u);
  // Throughput (batch_inference, compact at 90 %): 4 slots <= 32, unchanged.
  in.gpus = {gpu(0, 22)};  // 91.7 %
  PolicyState st2;
  d = decide(in, profile("batch_inference"), {}, st2);
  a = find(d, ActionKind::kResizeContext, "srv");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->parallel_slots, 0u);
  // Ratio 0.6 (too full to shrink context): latency mode halves nothing
  // unless one slot's share still fits with headroom -> no action.
  in.models[0].kv_peak_bytes = static_cast<uint64_t>(0.6 * 4 * kGiB);
  PolicyState st3;
  EXPECT_EQ(find(decide(in, profile("local_llm"), {}, st3), ActionKind::kResizeContext, "srv"),
            nullptr);
}

TEST(EngineTest, RestoresLayersWhenSpaceReturnsButNotOntoThrottlingGpu) {
  auto in = base(5000);
  in.gpus = {gpu(0, 10)};
  auto m = model("big", 10, 0);
  m.busy = true;
  m.gpu_layers = 20;
  m.gpu_layer_bytes = kGiB / 2;
  in.models = {m};
  PolicyState st;
  auto d = decide(in, profile(), {}, st);
  const Action* a = find(d, ActionKind::kRestoreLayers, "big");
  ASSERT_NE(a, nullptr);
  // Room to min(90 %, 80 - 5 = 75 %) = 18 GiB: 8 GiB / 0.5 GiB = 16 > 13 missing.
  EXPECT_EQ(a->gpu_layers, 33u);
  EXPECT_EQ(a->expected_bytes, 13 * (kGiB / 2));
  // Throttling: flagged, no restore.
  in.gpus[0].throttling = true;
  in.gpus[0].throttle_reason = "thermal";
  PolicyState st2;
  d = decide(in, profile(), {}, st2);
  EXPECT_EQ(find(d, ActionKind::kRestoreLayers, "big"), nullptr);
  ASSERT_EQ(d.thermal.size(), 1u);
  EXPECT_EQ(d.thermal[0].reason, "thermal");
}

TEST(EngineTest, RestoreWaitsAfterAnOffload) {
  auto in = base(100);
  in.gpus = {gpu(0, 23)};
  auto m = model("big", 16, 0);
  m.busy = true;
  in.models = {m};
  PolicyState st;
  auto d = decide(in, profile(), {}, st, threshold_only());
  const Action* r = find(d, ActionKind::kReloadFewerLayers, "big");
  ASSERT_NE(r, nullptr);
  // Usage drops right after; restore must wait restore_stable_seconds.
  in.models[0].gpu_layers = r->gpu_layers;
  in.gpus[0].used_bytes = 10 * kGiB;
  in.now_seconds = 130;
  EXPECT_EQ(
      find(decide(in, profile(), {}, st, threshold_only()), ActionKind::kRestoreLayers, "big"),
      nullptr);
  in.now_seconds = 170;
  EXPECT_NE(
      find(decide(in, profile(), {}, st, threshold_only()), ActionKind::kRestoreLayers, "big"),
      nullptr);
}

TEST(EngineTest, KeepsReserveRamFree) {
  auto in = base();
  in.host.available_bytes = 5 * kGiB;  // < 8 GiB
  in.gpus = {gpu(0, 4)};
  auto cpu = model("cpu-model", 0, 60, -1);
  cpu.size_bytes = 6 * kGiB;
  auto partial = model("partial", 2, 60);
  partial.size_bytes = 3 * kGiB;
  in.models = {partial, cpu};
  PolicyState st;
  auto d = decide(in, profile(), {}, st);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].model, "cpu-model");
  EXPECT_TRUE(d.actions[0].host_ram);
  EXPECT_EQ(d.actions[0].expected_bytes, 6 * kGiB);
  EXPECT_NE(d.actions[0].reason.find("swap prevention"), std::string::npos);
}

TEST(EngineTest, ImageGenerationFreesBetweenGenerationsAndLlmYields) {
  auto in = base();
  in.gpus = {gpu(0, 14)};
  ImageGenState comfy;
  comfy.runtime = "comfyui";
  comfy.endpoint = "http://127.0.0.1:8188";
  comfy.vram_bytes = 6 * kGiB;
  comfy.generating = true;
  in.image_gen = {comfy};
  in.models = {model("chat", 5, 45)};
  PolicyState st;
  auto d = decide(in, profile("image_generation"), {}, st);
  const Action* y = find(d, ActionKind::kUnload, "chat");
  ASSERT_NE(y, nullptr);
  EXPECT_NE(y->reason.find("is generating"), std::string::npos);
  // The render ends: its cache is freed.
  in.now_seconds += 1;
  in.image_gen[0].generating = false;
  d = decide(in, profile("image_generation"), {}, st);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].kind, ActionKind::kFreeImageCache);
  EXPECT_EQ(d.actions[0].expected_bytes, 6 * kGiB);
  // local_llm does not clear between generations.
  PolicyState st2;
  in.image_gen[0].generating = true;
  decide(in, profile("local_llm"), {}, st2);
  in.image_gen[0].generating = false;
  d = decide(in, profile("local_llm"), {}, st2);
  EXPECT_TRUE(d.actions.empty());
  // render_handoff = "off": caches still cleared, but the LLM keeps its VRAM.
  Profile no_handoff = profile("image_generation");
  no_handoff.render_handoff = "off";
  PolicyState st3;
  in.image_gen[0].generating = true;
  d = decide(in, no_handoff, {}, st3);
  EXPECT_EQ(find(d, ActionKind::kUnload, "chat"), nullptr);
  in.now_seconds += 1;
  in.image_gen[0].generating = false;
  d = decide(in, no_handoff, {}, st3);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].kind, ActionKind::kFreeImageCache);
}

}  // namespace
}  // namespace memopt::policy

#include "policy/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "runtimes/ollama.h"
#include "util/bytes.h"

namespace memopt::policy::sim {
namespace {

Profile local_llm() { return builtin_profiles()[0]; }

Simulation learned_world() {
  Simulation s;
  s.learned = learn_delays(s.world_delays, 20261130);
  return s;
}

// --- no oracle -----------------------------------------------------------

// Counts an aggregate's members (C++20: the most initialisers it takes), so
// a field added to the engine's input fails the build of this test until
// input_fields() names it, and with it the check below.
struct AnyField {
  template <typename T>
  operator T() const;  // NOLINT(google-explicit-constructor): never called
};
template <typename T, typename... A>
constexpr size_t field_count() {
  if constexpr (requires { T{A{}...}; }) {
    return field_count<T, A..., AnyField>();
  } else {
    return sizeof...(A) - 1;
  }
}
static_assert(field_count<ModelState>() == 18, "a ModelState field: name it in input_fields()");
static_assert(field_count<GpuState>() == 6, "a GpuState field: name it in input_fields()");
static_assert(field_count<HostState>() == 2, "a HostState field: name it in input_fields()");
static_assert(field_count<PolicyInput>() == 7, "a PolicyInput member: name it in input_fields()");

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(MEMOPT_FIXTURES_DIR) + "/runtimes/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The richest input the daemon can make: every collector answering, every
// runtime listing what its client parses from its documented payloads
// (Ollama's /api/ps fixture: no request count, so no busy flag), the
// assembler's tracked figures, and all the daemon's knowledge.
std::set<std::string> what_the_daemon_can_fill() {
  snapshot::Snapshot s;
  s.host.meminfo.total_bytes = 64 * kGiB;
  s.host.meminfo.available_bytes = 30 * kGiB;
  gpu::GpuDevice g;
  g.index = 0;
  g.name = "NVIDIA H200";
  g.memory_total_bytes = 141 * kGiB;
  g.memory_used_bytes = 40 * kGiB;
  g.throttle = gpu::ThrottleReasons{};
  g.throttle->thermal = true;
  s.gpus = {g};
  auto ps = runtimes::parse_ollama_ps(read_fixture("ollama-ps.json"), "fixture");
  EXPECT_TRUE(ps.ok());
  EXPECT_FALSE(ps->empty());
  for (auto m : *ps) {
    EXPECT_FALSE(m.requests_running.has_value()) << "Ollama's /api/ps grew a request count";
    m.endpoint = "http://127.0.0.1:11434";
    m.idle_seconds = 40;  // the assembler tracks these
    m.n_layers = 33;      // /api/show
    m.kv_peak_bytes = kGiB;
    s.loaded_models.push_back(m);
    m.name += "-loading";
    m.state = "loading";
    s.loaded_models.push_back(m);
  }
  runtimes::LoadedModel l;  // llama-server: /props, /slots, /metrics
  l.runtime = runtimes::RuntimeKind::kLlamaCpp;
  l.endpoint = "http://127.0.0.1:8080";
  l.name = "m.gguf";
  l.size_bytes = 8 * kGiB;
  l.vram_bytes = 8 * kGiB;
  l.context_tokens = 8192;
  l.parallel = 4;
  l.requests_running = 1;
  l.kv.capacity_bytes = runtimes::Figure<uint64_t>::estimated(kGiB);
  l.kv.used_bytes = runtimes::Figure<uint64_t>::estimated(kGiB / 2);
  l.n_layers = 33;
  l.idle_seconds = 3;
  l.kv_peak_bytes = kGiB;
  s.loaded_models.push_back(l);
  snapshot::Workload ollama;
  ollama.runtime = "ollama";
  ollama.command = "ollama";
  ollama.pid = 10;
  ollama.pids = {10};
  ollama.endpoint = "http://127.0.0.1:11434";
  ollama.vram = {{0, 20 * kGiB}};
  snapshot::Workload server = ollama;
  server.runtime = "llama.cpp";
  server.command = "llama-server";
  server.pid = server.pids[0] = 11;
  server.endpoint = "http://127.0.0.1:9090";  // started, not answering yet
  server.estimate = snapshot::WorkloadEstimate{8192, 0, 0, 9 * kGiB};
  snapshot::Workload game;
  game.runtime = "other";
  game.command = "bg3";
  game.pid = 12;
  game.pids = {12};
  game.vram = {{0, kGiB}};
  s.workloads = {ollama, server, game};
  DaemonKnowledge k;
  AnnouncedLoad gw;
  gw.model = "admitted";
  gw.endpoint = "http://127.0.0.1:11434";
  gw.bytes = 4 * kGiB;
  k.gateway = {gw};
  for (const auto& m : *ps) {
    AnnouncedLoad p;
    p.model = m.name + "-loading";
    p.endpoint = "http://127.0.0.1:11434";
    p.bytes = 5 * kGiB;
    k.planned.push_back(p);
  }
  k.delays = learn_delays({}, 1, 3);
  WorkloadRun run;
  run.signature = signature_of(game);
  run.samples = {{0, kGiB}, {10, 6 * kGiB}};
  learn(k.profiles, run);
  return input_fields(to_policy_input(s, 100, k));
}

std::set<std::string> beyond(const std::set<std::string>& given,
                             const std::set<std::string>& fillable) {
  std::set<std::string> out;
  std::set_difference(given.begin(), given.end(), fillable.begin(), fillable.end(),
                      std::inserter(out, out.end()));
  return out;
}

TEST(SimulatorTest, GivesTheEngineOnlyWhatTheDaemonFills) {
  const auto fillable = what_the_daemon_can_fill();
  // The richest input has the three sources of a load's size, and the busy
  // flag only where a runtime reports one.
  for (const char* f : {"announced@planner", "announced@gateway", "announced@profile", "delays",
                        "models.busy@llama.cpp", "models.idle_seconds@ollama", "gpus.throttling"}) {
    EXPECT_TRUE(fillable.count(f)) << f;
  }
  EXPECT_FALSE(fillable.count("models.busy@ollama"));
  EXPECT_FALSE(fillable.count("image_gen@comfyui"));  // to_policy_input fills none
  std::set<std::string> given;
  const Simulation s = learned_world();
  for (const auto& t : make_traces(4, kTuningSeed)) {
    const auto r = run_trace(t, Mode::kPredictive, local_llm(), s, {}, nullptr, true);
    given.insert(r.fields.begin(), r.fields.end());
  }
  EXPECT_TRUE(given.count("announced@planner"));
  EXPECT_TRUE(given.count("announced@profile"));
  EXPECT_TRUE(given.count("models.busy@llama.cpp"));
  EXPECT_EQ(beyond(given, fillable), std::set<std::string>{});
  // The replayed day (VRAM efficiency) feeds the engine the same way.
  std::set<std::string> day;
  DayReplay short_day;
  short_day.hours = 10;  // to mid-morning: sessions from 8 h
  replay_day(kTuningSeed, local_llm(), true, short_day, &day);
  EXPECT_TRUE(day.count("models.idle_seconds@ollama"));
  EXPECT_EQ(beyond(day, fillable), std::set<std::string>{});
  // A field the daemon never fills, given anyway, is caught: an exact busy
  // flag on an Ollama model (Ollama reports none).
  PolicyInput oracle;
  ModelState m;
  m.runtime = "ollama";
  m.busy = true;
  oracle.models = {m};
  auto with_oracle = given;
  const auto extra = input_fields(oracle);
  with_oracle.insert(extra.begin(), extra.end());
  EXPECT_EQ(beyond(with_oracle, fillable), std::set<std::string>{"models.busy@ollama"});
}

// --- the world -------------------------------------------------------------

TEST(SimulatorTest, TheGpuRunsOutBetweenSamples) {
  // +1.5 GiB/s into the last GiB of an 8 GiB GPU, policy sampled once a
  // second: OOM at 2/3 s, before the next sample.
  Trace t;
  t.kind = "second_user";
  t.gpu_total_bytes = 8 * kGiB;
  t.base_bytes = 7 * kGiB;
  SimProcess p;
  p.name = "x";
  p.runtime = "other";
  p.command = "python3";
  p.start_at = 0;
  p.curve = {{0, 0}, {1, kGiB + kGiB / 2}};
  t.procs = {p};
  t.duration_seconds = 5;
  auto r = run_trace(t, Mode::kNothing, local_llm());
  EXPECT_TRUE(r.oom);
  EXPECT_NEAR(r.oom_at_seconds, 2.0 / 3.0, 0.05);
  EXPECT_EQ(r.peak_demand_bytes, 8 * kGiB + kGiB / 2);
  t.procs[0].curve = {{0, 0}, {1, kGiB * 9 / 10}};
  r = run_trace(t, Mode::kNothing, local_llm());
  EXPECT_FALSE(r.oom);
}

// The planner's estimate of a llama.cpp load errs as the estimator was
// measured to (docs/estimate-accuracy.md): weights and KV to the byte, the
// compute buffer (the load's last step) up to 10 % over; under kTotal6 the
// whole figure up to 6 % over. The traces are otherwise the same.
TEST(SimulatorTest, ThePlannersErrorIsTheMeasuredOne) {
  const auto measured = make_traces(30, kHeldOutSeed);
  const auto total6 = make_traces(30, kHeldOutSeed, PlannerError::kTotal6);
  ASSERT_EQ(measured.size(), total6.size());
  int loads = 0;
  double worst_measured = 0, worst_total6 = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    ASSERT_EQ(measured[i].procs.size(), total6[i].procs.size());
    for (size_t k = 0; k < measured[i].procs.size(); ++k) {
      const SimProcess& a = measured[i].procs[k];
      const SimProcess& b = total6[i].procs[k];
      ASSERT_EQ(a.curve, b.curve) << "trace " << i;
      if (a.start_at < 0 || a.planner_bytes == 0 || a.curve.size() < 4) continue;
      if (measured[i].kind != "ollama_load" && measured[i].kind != "llama_server_start") continue;
      ++loads;
      const uint64_t total = a.curve.back().second;
      const uint64_t kv_end = a.curve[a.curve.size() - 2].second;  // before the compute step
      ASSERT_LT(kv_end, total);
      const uint64_t compute = total - kv_end;
      EXPECT_GE(a.planner_bytes, total);
      EXPECT_LE(a.planner_bytes, total + compute / 10 + 1);
      EXPECT_GE(b.planner_bytes, total);
      EXPECT_LE(b.planner_bytes, total + total * 6 / 100 + 1);
      worst_measured = std::max(worst_measured, double(a.planner_bytes - total) / double(total));
      worst_total6 = std::max(worst_total6, double(b.planner_bytes - total) / double(total));
    }
  }
  EXPECT_EQ(loads, 60);
  // The compute buffer is 1.5-11 % of a load here, so the measured error of
  // the whole stays near 1 %; the old model reaches 6 %.
  EXPECT_LT(worst_measured, 0.0115);
  EXPECT_GT(worst_total6, 0.05);
}

// The runs' spread scales each run of a program and nothing else: with none,
// every learned run peaks where the trace's run does; with 3 %, the learned
// peaks of one program lie within 0.97..1.03 of one curve.
TEST(SimulatorTest, RunSpreadScalesOnlyTheRuns) {
  const auto same = make_traces(40, kTuningSeed, PlannerError::kMeasured, 0.0);
  const auto usual = make_traces(40, kTuningSeed);
  ASSERT_EQ(same.size(), usual.size());
  int known = 0;
  double widest = 0;
  for (size_t i = 0; i < same.size(); ++i) {
    ASSERT_EQ(same[i].kind, usual[i].kind);
    ASSERT_EQ(same[i].gpu_total_bytes, usual[i].gpu_total_bytes) << "trace " << i;
    ASSERT_EQ(same[i].procs.size(), usual[i].procs.size());
    ASSERT_EQ(same[i].profiles.size(), usual[i].profiles.size());
    if (same[i].known_by != "profile") continue;
    ++known;
    ASSERT_EQ(same[i].profiles.size(), 1u);
    const SimProcess& p = same[i].procs.back();
    uint64_t peak = 0;
    for (const auto& [t, b] : p.curve) peak = std::max(peak, b);
    for (const uint64_t b : same[i].profiles[0].recent_peaks) EXPECT_EQ(b, peak) << "trace " << i;
    const auto& peaks = usual[i].profiles[0].recent_peaks;
    const auto [lo, hi] = std::minmax_element(peaks.begin(), peaks.end());
    widest = std::max(widest, static_cast<double>(*hi) / static_cast<double>(*lo));
  }
  EXPECT_GT(known, 30);
  EXPECT_GT(widest, 1.03);
  EXPECT_LE(widest, 1.03 / 0.97 + 1e-9);
}

TEST(SimulatorTest, TracesHaveTheShapesRealProgramsHave) {
  const auto traces = make_traces(20, kTuningSeed);
  ASSERT_EQ(traces.size(), 120u);
  int steps = 0, frees = 0, known = 0, gateway = 0, nothing_to_free = 0;
  for (const auto& t : traces) {
    EXPECT_FALSE(t.observes.empty()) << t.kind;
    known += t.known_by == "profile";
    gateway += t.known_by == "gateway";
    int freeable = 0;
    for (const auto& p : t.procs) freeable += p.actionable && p.start_at < 0;
    nothing_to_free += freeable == 0;
    const SimProcess& n = t.procs.back();  // the newcomer
    ASSERT_GE(n.start_at, 0) << t.kind;
    ASSERT_GE(n.curve.size(), 2u);
    for (size_t i = 1; i < n.curve.size(); ++i) {
      // Steps: a jump within one world step, as allocations come.
      const auto& [t0, b0] = n.curve[i - 1];
      const auto& [t1, b1] = n.curve[i];
      ASSERT_GE(t1, t0);
      if (t1 - t0 < 0.06 && b1 > b0 + 64 * (1ULL << 20)) ++steps;
      if (b1 < b0) ++frees;
    }
    if (t.kind == "ollama_load" || t.kind == "llama_server_start") {
      // llama.cpp: weights stream in, then KV (whole context) and the
      // compute buffer in one step each.
      ASSERT_EQ(n.curve.size(), 6u);
      EXPECT_GT(n.curve[1].first, 0.1);
      EXPECT_NEAR(n.curve[3].first - n.curve[2].first, 0.05, 1e-9);
      EXPECT_GT(n.curve[3].second, n.curve[2].second);
      EXPECT_GT(n.curve[5].second, n.curve[4].second);
    }
    // Ollama reports no busy flag; the runtime knows the planner's figure
    // is never under (src/estimate), within 6 %.
    if (n.planner_bytes) {
      EXPECT_GE(n.planner_bytes, n.curve.back().second);
      EXPECT_LE(n.planner_bytes, n.curve.back().second * 107 / 100);
    }
  }
  EXPECT_GT(steps, 200);
  EXPECT_GT(frees, 5);  // PyTorch's empty_cache, ComfyUI's freed activations
  EXPECT_GT(known, 10);
  EXPECT_GT(gateway, 1);
  EXPECT_GT(nothing_to_free, 2);  // not every trace holds an idle model to unload
}

TEST(SimulatorTest, WorldDelaysHaveAHeavyTailAndScaleWithTheMismatch) {
  DelayModel m;
  uint32_t st = 7;
  std::vector<double> v;
  for (int i = 0; i < 4000; ++i) v.push_back(draw_delay(m, ActionKind::kUnload, 8 * kGiB, st));
  std::sort(v.begin(), v.end());
  const double median = m.unload_base_seconds + 8 * m.unload_seconds_per_gib;
  EXPECT_NEAR(v[2000], median, 0.06 * median);
  // A lognormal with sigma 0.4 alone puts under 0.1 % beyond 3.4x the
  // median; the Pareto tail puts about 1.5 % there.
  const auto far = std::count_if(v.begin(), v.end(), [&](double x) { return x > 3.4 * median; });
  EXPECT_GT(far, 30);
  EXPECT_LT(far, 140);
  // The same draw, 1.5x slower.
  uint32_t a = 11, b = 11;
  const double at_1x = draw_delay(m, ActionKind::kReloadFewerLayers, 8 * kGiB, a);
  m.mismatch = 1.5;
  EXPECT_DOUBLE_EQ(draw_delay(m, ActionKind::kReloadFewerLayers, 8 * kGiB, b), 1.5 * at_1x);
  // What the daemon learns from its history is near the world's own figure
  // (30 draws a class), and the engine plans above the median.
  const auto learned = learn_delays(DelayModel{}, 20261130);
  ASSERT_EQ(learned.size(), 6u);
  for (const auto& d : learned) {
    EXPECT_EQ(d.count, 30u);
    EXPECT_GT(d.p90_seconds, d.p50_seconds);
    EXPECT_GT(d.p50_seconds, 0.2);
    EXPECT_LT(d.p50_seconds, 2.0);
  }
  EXPECT_GT(planned_delay_seconds(learned, ActionKind::kUnload, "ollama", 8 * kGiB, {}),
            learned[1].p50_seconds);
}

TEST(SimulatorTest, AKnownProgramIsActedOnAtItsStart) {
  // A game played before (its peak learned from 3 runs) starts on a 16 GiB
  // GPU next to an idle model; it will need more than is free. The engine
  // unloads the idle model while the game is still at its first step.
  Trace t;
  t.kind = "game_start";
  t.gpu_total_bytes = 16 * kGiB;
  t.base_bytes = kGiB;
  SimProcess idle;
  idle.name = "idle0";
  idle.runtime = "ollama";
  idle.command = "ollama";
  idle.api_model = true;
  idle.endpoint = "http://127.0.0.1:11434";
  idle.n_layers = 33;
  idle.curve = {{0, 5 * kGiB}};
  idle.idle_at_start = 300;
  idle.actionable = true;
  idle.pid = 20;
  SimProcess game;
  game.name = "game";
  game.runtime = "other";
  game.command = "bg3";
  game.pid = 21;
  game.start_at = 10;
  game.curve = {{0, 0}, {2, 0}, {2.05, 1 * kGiB}, {20, 1 * kGiB}, {20.05, 11 * kGiB}};
  t.procs = {idle, game};
  t.duration_seconds = 60;
  EXPECT_TRUE(run_trace(t, Mode::kNothing, local_llm()).oom);  // 1 + 5 + 11 > 16
  // Unknown: the jump from 1 to 11 GiB, ten times the step before it,
  // comes in one step no forecast sees.
  EXPECT_TRUE(run_trace(t, Mode::kPredictive, local_llm(), learned_world()).oom);
  WorkloadRun run;
  snapshot::Workload seen;
  seen.runtime = "other";
  seen.command = "bg3";
  run.signature = signature_of(seen);
  for (int i = 0; i < 3; ++i) {
    run.samples = {{0, 0}, {5, 1 * kGiB}, {25, 11 * kGiB + static_cast<uint64_t>(i) * kGiB / 10}};
    learn(t.profiles, run);
  }
  ASSERT_EQ(t.profiles.size(), 1u);
  std::vector<std::string> log;
  const auto r = run_trace(t, Mode::kPredictive, local_llm(), learned_world(), {}, &log);
  EXPECT_FALSE(r.oom);
  ASSERT_EQ(r.actions, 1);
  EXPECT_NE(log[0].find("unload idle0"), std::string::npos) << log[0];
  const double at = std::stod(log[0].substr(2));
  EXPECT_GE(at, 10);
  EXPECT_LT(at, 13);  // at its start, not at the jump (t = 30)
}

// A recorded trace: the daemon's own samples (NVML, an H200) while a
// PyTorch process filled the GPU at 10 GiB/s and stopped 3 GiB short
// (scripts/device-forecast.sh, docs/device-runs/). Replayed through the
// engine: it watches early enough, its time-to-full is right, and it lets go
// of the forecast once the growth has stopped.
TEST(SimulatorTest, ForecastOnARecordedFillOfAnH200) {
  std::ifstream in(std::string(MEMOPT_SOURCE_DIR) +
                   "/docs/device-runs/2026-11-27-h200-forecast.csv");
  ASSERT_TRUE(in.good());
  std::string line;
  std::getline(in, line);  // header: t,used,total,forecast,interval,samples
  struct Point {
    double t;
    uint64_t used, total;
  };
  std::vector<Point> pts;
  double last_count = -1;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
    ASSERT_EQ(f.size(), 6u) << line;
    // The CSV polled /metrics every 0.1 s; a new sample shows as a new count.
    if (f[1].empty() || std::stod(f[5]) == last_count) continue;
    last_count = std::stod(f[5]);
    pts.push_back({std::stod(f[0]), static_cast<uint64_t>(std::stod(f[1])),
                   static_cast<uint64_t>(std::stod(f[2]))});
  }
  ASSERT_GT(pts.size(), 50u);
  // The ramp, from the data: first rise to the top.
  size_t first = 0, top = 0;
  while (first + 1 < pts.size() && pts[first + 1].used <= pts[first].used) ++first;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (pts[i].used > pts[top].used) top = i;
  }
  ASSERT_LT(first, top);
  const double rate =
      static_cast<double>(pts[top].used - pts[first].used) / (pts[top].t - pts[first].t);
  EXPECT_NEAR(rate / static_cast<double>(kGiB), 10.0, 0.6);
  const double t_full = pts[top].t + static_cast<double>(pts[top].total - pts[top].used) / rate;

  PolicyState st;
  std::vector<PolicyInput> hist;
  std::vector<double> errs;
  double watch_from = -1, forecast_gone = -1;
  for (const auto& p : pts) {
    PolicyInput pi;
    pi.now_seconds = p.t;
    pi.host = {64 * kGiB, 40 * kGiB};
    GpuState g;
    g.total_bytes = p.total;
    g.used_bytes = p.used;
    pi.gpus = {g};
    Decision d = decide(pi, local_llm(), hist, st);
    const auto& fc = d.forecasts.at(0);
    const bool shown = std::isfinite(fc.seconds_to_oom) && fc.still_growing;
    if (p.t > pts[first].t + 2 && p.t <= pts[top].t && shown)
      errs.push_back(std::fabs(p.t + fc.seconds_to_oom - t_full));
    if (watch_from < 0 && d.next_sample_seconds > 0) watch_from = p.t;
    if (p.t > pts[top].t && !shown && forecast_gone < 0) forecast_gone = p.t;
    hist.push_back(pi);
    while (p.t - hist.front().now_seconds > 30) hist.erase(hist.begin());
  }
  ASSERT_GT(errs.size(), 20u);
  std::sort(errs.begin(), errs.end());
  EXPECT_LT(errs[errs.size() / 2], 0.5) << "median |predicted - actual| time of full";
  ASSERT_GE(watch_from, 0);
  EXPECT_GE(t_full - watch_from, 3.0);  // asked for 0.25 s samples well before
  ASSERT_GE(forecast_gone, 0);
  EXPECT_LE(forecast_gone - pts[top].t, 2.5);
  std::cout << "recorded H200 fill: " << errs.size() << " forecasts, median |error| "
            << errs[errs.size() / 2] << " s; watching from " << t_full - watch_from
            << " s before full; forecast gone " << forecast_gone - pts[top].t
            << " s after the growth stopped\n";
}

// The figures the issue asks for, on the held-out trace set (a seed no
// tuning looked at), with the daemon's inputs only and world delays drawn
// independently of the engine's learned figures. Printed for the report.
// At 60 traces per kind the held-out set prevents 96.9 % at 1x and 1.5x,
// 95.3 % at 2x (the bench's 100 per kind: 99.5 %, 99.5 %, 99.0 %). What it
// misses: a known program outgrowing every run it was learned from (two),
// and two games whose next level is one step much larger than their
// loading screens' steps. Guarded here at what is achieved.
TEST(SimulatorTest, PredictivePolicyOnTheHeldOutSet) {
  const auto rows =
      evaluate(make_traces(60, kHeldOutSeed), local_llm(), learned_world(), {}, {1.0, 1.5, 2.0});
  std::cout << format_table(rows);
  auto find = [&](const std::string& group, Mode mode, double mismatch = 1.0) -> const Row& {
    for (const auto& r : rows) {
      if (r.group == group && r.mode == mode && r.mismatch == mismatch) return r;
    }
    static const Row none;
    ADD_FAILURE() << "no row " << group;
    return none;
  };
  const Row& all = find("all", Mode::kPredictive);
  const Row& thr = find("all", Mode::kThresholdOnly);
  ASSERT_GT(all.oom_without_policy - all.unpreventable, 100);  // real OOMs to prevent
  EXPECT_GT(all.unpreventable, 0);  // and some no policy can (nothing to free)
  EXPECT_GE(all.prevented_percent(), 96.5);
  EXPECT_GE(find("all", Mode::kPredictive, 1.5).prevented_percent(), 96.5);
  EXPECT_GE(find("all", Mode::kPredictive, 2.0).prevented_percent(), 95.0);
  EXPECT_GT(all.prevented, 3 * thr.prevented);
  // Loads known before they land: the planner's and the gateway's all
  // prevented; a learned profile misses where this run outgrew every run
  // it was learned from.
  EXPECT_EQ(find("known by planner", Mode::kPredictive).prevented_percent(), 100.0);
  EXPECT_EQ(find("known by gateway", Mode::kPredictive).prevented_percent(), 100.0);
  EXPECT_GE(find("known by profile", Mode::kPredictive).prevented_percent(), 93.5);
  // Waste where the load was known: profiles 1.5 %, planner 6.5 % (the 5 %
  // target missed by 1 action in 93), gateway 2 of 11.
  EXPECT_LE(find("known by profile", Mode::kPredictive).wasted_percent(), 5.0);
  EXPECT_LE(find("known by planner", Mode::kPredictive).wasted_percent(), 7.0);
  EXPECT_LE(find("known by gateway", Mode::kPredictive).wasted_actions, 2);
  int by_kind = 0;
  for (const auto& [k, n] : all.wasted_by_kind) by_kind += n;
  EXPECT_EQ(by_kind, all.wasted_actions);
  // Wasted actions in traces that came inside the OOM margin are a part of
  // them, and never in the rows of a policy that takes no action.
  for (const auto& r : rows) {
    EXPECT_LE(r.wasted_near_full, r.wasted_actions) << r.group;
    if (r.mode == Mode::kNothing) {
      EXPECT_EQ(r.wasted_near_full, 0) << r.group;
    }
  }
}

// A run that ends just under the GPU's total did not run out: the actions
// taken for it are wasted, and counted as near full; one that ends well
// under is wasted but not near full.
TEST(SimulatorTest, CountsWasteNearFullApart) {
  const auto traces = make_traces(60, kTuningSeed);
  int near = 0, far = 0;
  for (const auto& t : traces) {
    const auto base = run_trace(t, Mode::kNothing, local_llm(), learned_world());
    if (base.oom) continue;
    const double share = static_cast<double>(base.peak_demand_bytes) /
                         static_cast<double>(t.gpu_total_bytes);
    const auto rows = evaluate({t}, local_llm(), learned_world());
    const Row* r = nullptr;
    for (const auto& row : rows) {
      if (row.group == "all" && row.mode == Mode::kPredictive) r = &row;
    }
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->wasted_actions, r->actions);
    if (share > 0.99) {
      EXPECT_EQ(r->wasted_near_full, r->actions) << t.kind;
      near += r->actions > 0;
    } else if (share < 0.98) {
      EXPECT_EQ(r->wasted_near_full, 0) << t.kind;
      far += r->actions > 0;
    }
  }
  EXPECT_GT(near, 0);  // the set has both
  EXPECT_GT(far, 0);
}

// The tables' 95 % intervals: Wilson's score interval, checked against
// values worked out by hand from its formula (z = 1.96).
TEST(SimulatorTest, IntervalsSayHowFarASetsSizeLetsAFigureBeRead) {
  auto near = [](Interval i, double low, double high) {
    EXPECT_NEAR(i.low, low, 0.01);
    EXPECT_NEAR(i.high, high, 0.01);
  };
  near(wilson95(9, 102), 4.71, 15.92);    // the held-out profile waste
  near(wilson95(192, 193), 97.12, 99.91);  // the held-out prevention
  near(wilson95(627, 635), 97.53, 99.36);
  near(wilson95(0, 59), 0.0, 6.11);  // none of n is not "exactly 0"
  near(wilson95(59, 59), 93.89, 100.0);
  near(wilson95(1, 2), 9.45, 90.55);
  near(wilson95(0, 0), 0, 100);  // nothing to read
  near(wilson95(3, 2), 0, 100);
  Row r;
  r.oom_without_policy = 12;
  r.unpreventable = 2;
  r.prevented = 10;
  r.actions = 20;
  r.wasted_actions = 1;
  near(r.prevented_interval(), 72.25, 100.0);
  near(r.wasted_interval(), 0.89, 23.61);
  EXPECT_NE(format_table({r}).find("10 (100.0%; 72.2-100.0)"), std::string::npos)
      << format_table({r});
}

}  // namespace
}  // namespace memopt::policy::sim

namespace memopt::policy::sim {
namespace {

// VRAM efficiency over a replayed day: idle models held for Ollama's
// keep_alive are memory nobody is served from; the engine's idle unload
// (local_llm: 300 s) gives it back, at the price of more cold loads.
TEST(SimulatorTest, AReplayedDayMeasuresVramEfficiency) {
  const DayResult without = replay_day(kTuningSeed, local_llm(), false);
  const DayResult with = replay_day(kTuningSeed, local_llm(), true);
  EXPECT_EQ(with.requests, without.requests);  // the same day
  EXPECT_GT(with.requests, 50);
  EXPECT_GT(without.held_byte_seconds, 0);
  EXPECT_LE(without.serving_byte_seconds, without.held_byte_seconds);
  EXPECT_EQ(without.policy_unloads, 0);
  EXPECT_GT(with.policy_unloads, 0);
  EXPECT_GT(with.efficiency_percent(), without.efficiency_percent() + 10);
  EXPECT_LT(with.efficiency_percent(), 100);
  EXPECT_GE(with.loads, without.loads);
  // With Ollama's keep_alive already at the profile's 300 s, the engine has
  // little left to give back.
  DayReplay short_keep;
  short_keep.keep_alive_seconds = 300;
  const double a = replay_day(kTuningSeed, local_llm(), false, short_keep).efficiency_percent();
  const double b = replay_day(kTuningSeed, local_llm(), true, short_keep).efficiency_percent();
  EXPECT_NEAR(a, b, 3.0);
  EXPECT_GT(a, without.efficiency_percent());
}

}  // namespace
}  // namespace memopt::policy::sim

// Trace-driven judgement of the policy engine (src/policy/simulator.h):
// prints the OOM-prevention table on the tuning and the held-out trace sets
// (nothing / threshold-only / predictive, the predictive policy at 1x, 1.5x
// and 2x delay mismatch), and times one simulated trace set.
// Run: build/policy_sim_bench --benchmark_filter=NONE   (tables only)
//      build/policy_sim_bench --json                    (held-out figures)
//      build/policy_sim_bench --second-held-out         (seed 20261212, 300 a kind)
//      build/policy_sim_bench --third-held-out          (seed 20261219, 2000 a kind)
//      build/policy_sim_bench --fourth-held-out         (seed 20261226, 2000 a kind)
// Every share comes with its 95 % interval (sim::wilson95).
// The planner's error on llama.cpp loads is the one measured against
// llama.cpp (sim::PlannerError::kMeasured); --planner-error=total6 runs every
// part with the whole estimate up to 6 % over instead, and the tables and
// --json also report the held-out set under it beside the measured one.
// --run-spread=S (with the tuning set's --summary, --misses, --explain=N):
// runs of one program differ by up to +/- S instead of the simulator's 3 %
// (sim::kRunSpread), for what learned profiles are worth under another.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <iostream>
#include <nlohmann/json.hpp>

#include "policy/simulator.h"

namespace {

using namespace memopt::policy;

// The later held-out sets, each chosen by its flag: one place for a set's
// seed, its size (traces per kind, unless --traces-per-kind says) and its
// name in --json.
struct ReportSet {
  const char* flag;
  uint32_t seed;
  int per_kind;
  const char* name;
};
constexpr ReportSet kReportSets[] = {
    {"--second-held-out", sim::kSecondHeldOutSeed, 300, "second held-out"},
    {"--third-held-out", sim::kThirdHeldOutSeed, sim::kThirdHeldOutPerKind, "third held-out"},
    {"--fourth-held-out", sim::kFourthHeldOutSeed, sim::kFourthHeldOutPerKind, "fourth held-out"},
};

// The daemon's history of action delays, drawn from the world's own
// distributions at 1x (a seed of its own): what the engine plans with.
sim::Simulation simulation() {
  sim::Simulation s;
  s.learned = sim::learn_delays(s.world_delays, 20261130);
  return s;
}

void BM_SimulateTraces(benchmark::State& state) {
  auto traces = sim::make_traces(5, 7);
  const Profile p = builtin_profiles()[0];
  const sim::Simulation s = simulation();
  for (auto _ : state) {
    for (const auto& t : traces) {
      benchmark::DoNotOptimize(sim::run_trace(t, sim::Mode::kPredictive, p, s));
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(traces.size()));
}
BENCHMARK(BM_SimulateTraces)->Unit(benchmark::kMillisecond);

const sim::Row& find(const std::vector<sim::Row>& rows, const std::string& group, sim::Mode mode,
                     double mismatch = 1) {
  for (const auto& r : rows) {
    if (r.group == group && r.mode == mode && r.mismatch == mismatch) return r;
  }
  static const sim::Row none;
  return none;
}

// [low, high], rounded to 0.1 (a set's size limits what a figure says:
// sim::wilson95).
nlohmann::json interval_json(const sim::Interval& i) {
  return {std::round(i.low * 10) / 10, std::round(i.high * 10) / 10};
}

nlohmann::json row_json(const sim::Row& r) {
  return {{"traces", r.traces},
          {"oom_without_policy", r.oom_without_policy},
          {"unpreventable", r.unpreventable},
          {"ooms", r.ooms},
          {"prevented", r.prevented},
          {"oom_prevented_percent", r.prevented_percent()},
          {"actions", r.actions},
          {"wasted_actions", r.wasted_actions},
          {"wasted_actions_percent", r.wasted_percent()},
          {"wasted_near_full", r.wasted_near_full},
          {"oom_prevented_ci95_percent", interval_json(r.prevented_interval())},
          {"wasted_actions_ci95_percent", interval_json(r.wasted_interval())}};
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int per_kind = 100;
  int explain = -1;
  bool misses = false;
  bool verbose = false;
  // A later held-out set (kReportSets), one line per group; null: none.
  const ReportSet* report = nullptr;
  bool per_kind_given = false;
  double explain_mismatch = 1;
  bool summary = false;
  uint32_t diagnose_seed = sim::kTuningSeed;
  sim::PlannerError planner_error = sim::PlannerError::kMeasured;
  PolicyTuning tuning;
  // Knobs a tuning session may try (--knob=NAME=VALUE): only the tuning
  // set is printed while one is set (its summary, or with --misses /
  // --explain=N its failures under the knob).
  const std::map<std::string, double*> knobs = {
      {"delay_spread_factor", &tuning.delay_spread_factor},
      {"step_margin_factor", &tuning.step_margin_factor},
      {"step_window_seconds", &tuning.step_window_seconds},
      {"step_confirm_seconds", &tuning.step_confirm_seconds},
      {"cover_seconds", &tuning.cover_seconds},
      {"watch_seconds", &tuning.watch_seconds},
      {"settle_seconds", &tuning.settle_seconds},
      {"oom_margin_percent", &tuning.oom_margin_percent},
      {"loading_margin_fraction", &tuning.loading_margin_fraction},
      {"prior_p90_ratio", &tuning.prior_p90_ratio},
      {"forecast_window_seconds", &tuning.forecast_window_seconds},
      {"stream_tail_fraction", &tuning.stream_tail_fraction},
      {"unload_seconds", &tuning.unload_seconds},
      {"reload_seconds", &tuning.reload_seconds},
  };
  bool knob_set = false;
  // How much runs of one program differ in the tuning set (simulator.h).
  double run_spread = sim::kRunSpread;
  bool spread_given = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--summary") == 0) summary = true;
    for (const ReportSet& r : kReportSets) {
      if (std::strcmp(argv[i], r.flag) == 0) {
        report = &r;
        diagnose_seed = r.seed;
      }
    }
    // --misses and --explain look at the tuning set; --held-out shows why
    // the reported figures miss (to read, never to tune on).
    if (std::strcmp(argv[i], "--held-out") == 0) diagnose_seed = sim::kHeldOutSeed;
    if (std::strncmp(argv[i], "--knob=", 7) == 0) {
      const std::string kv = argv[i] + 7;
      const auto eq = kv.find('=');
      const auto it = knobs.find(kv.substr(0, eq));
      if (eq == std::string::npos || it == knobs.end()) {
        std::cerr << "policy_sim_bench: --knob=NAME=VALUE, NAME one of:";
        for (const auto& [k, v] : knobs) std::cerr << " " << k;
        std::cerr << "\n";
        return 2;
      }
      *it->second = std::atof(kv.c_str() + eq + 1);
      knob_set = true;
    }
    if (std::strcmp(argv[i], "--json") == 0) json = true;
    if (std::strncmp(argv[i], "--planner-error=", 16) == 0) {
      const std::string v = argv[i] + 16;
      if (v != "measured" && v != "total6") {
        std::cerr << "policy_sim_bench: --planner-error is measured or total6\n";
        return 2;
      }
      planner_error = v == "total6" ? sim::PlannerError::kTotal6 : sim::PlannerError::kMeasured;
    }
    if (std::strncmp(argv[i], "--run-spread=", 13) == 0) {
      run_spread = std::atof(argv[i] + 13);
      if (!(run_spread >= 0 && run_spread <= 0.5)) {
        std::cerr << "policy_sim_bench: --run-spread must be 0..0.5\n";
        return 2;
      }
      spread_given = true;
    }
    if (std::strcmp(argv[i], "--misses") == 0) misses = true;
    if (std::strcmp(argv[i], "--verbose") == 0) verbose = true;
    if (std::strncmp(argv[i], "--mismatch=", 11) == 0) explain_mismatch = std::atof(argv[i] + 11);
    if (std::strncmp(argv[i], "--explain=", 10) == 0) explain = std::atoi(argv[i] + 10);
    if (std::strncmp(argv[i], "--traces-per-kind=", 18) == 0) {
      per_kind_given = true;
      per_kind = std::atoi(argv[i] + 18);
      if (per_kind < 1 || per_kind > 10000) {
        std::cerr << "policy_sim_bench: --traces-per-kind must be 1..10000\n";
        return 2;
      }
    }
  }
  const Profile p = builtin_profiles()[0];
  const sim::Simulation s = simulation();
  const std::vector<double> mismatches = {1.0, 1.5, 2.0};
  if (report && !per_kind_given) per_kind = report->per_kind;
  const uint32_t report_seed = report ? report->seed : 0;
  const bool report_set = report != nullptr;
  if (spread_given && report_set) {
    std::cerr << "policy_sim_bench: --run-spread reads the tuning set only\n";
    return 2;
  }
  if (summary || ((knob_set || spread_given || (report_set && !json)) && !misses && explain < 0)) {
    // The tuning set only, one line per group: for trying knobs. Or the
    // second, third or fourth held-out set, with the engine's own tuning: to
    // report, never to tune on (with --misses / --explain=N: to read why).
    const auto rows =
        report_set && !knob_set
            ? sim::evaluate(sim::make_traces(per_kind, report_seed, planner_error), p, s, {},
                            mismatches)
            : sim::evaluate(sim::make_traces(per_kind, sim::kTuningSeed, planner_error, run_spread),
                            p, s, tuning, mismatches);
    for (const auto& r : rows) {
      if (r.mode != sim::Mode::kPredictive) continue;
      const auto pi = r.prevented_interval(), wi = r.wasted_interval();
      std::printf(
          "%-22s %.1fx prevented %3d/%3d %5.1f%% (%.1f-%.1f)  wasted %3d/%3d %5.1f%% (%.1f-%.1f)"
          " (near full %d)\n",
          r.group.c_str(), r.mismatch, r.prevented, r.oom_without_policy - r.unpreventable,
          r.prevented_percent(), pi.low, pi.high, r.wasted_actions, r.actions, r.wasted_percent(),
          wi.low, wi.high, r.wasted_near_full);
    }
    return 0;
  }
  if (misses) {
    // The tuning set's failures, one line each (for --explain=N): a
    // preventable OOM the engine let happen, or actions in a trace that
    // would not have run out. Never the held-out set: it is for reporting.
    const auto traces = sim::make_traces(per_kind, diagnose_seed, planner_error, run_spread);
    for (size_t i = 0; i < traces.size(); ++i) {
      const auto& t = traces[i];
      const auto base = sim::run_trace(t, sim::Mode::kNothing, p, s);
      const bool unpreventable =
          base.oom && base.peak_demand_bytes > t.gpu_total_bytes + base.freeable_bytes;
      for (double m : mismatches) {
        sim::Simulation sm = s;
        sm.world_delays.mismatch = m;
        const auto r = sim::run_trace(t, sim::Mode::kPredictive, p, sm, tuning);
        const bool missed = base.oom && !unpreventable && r.oom;
        const bool wasted = !base.oom && r.actions > 0;
        if (!missed && !(wasted && m == 1.0)) continue;
        std::cout << i << " " << t.kind << " known by " << t.known_by << " at " << m << "x: "
                  << (missed ? "OOM not prevented" : "wasted " + std::to_string(r.actions))
                  << "\n";
      }
    }
    return 0;
  }
  if (explain >= 0) {
    // One tuning-set trace, step by step: what the engine did and why (and
    // whether the GPU would have run out without it).
    const auto traces = sim::make_traces(per_kind, diagnose_seed, planner_error, run_spread);
    if (explain >= static_cast<int>(traces.size())) {
      std::cerr << "policy_sim_bench: --explain=N: N must be below " << traces.size() << "\n";
      return 2;
    }
    const auto& t = traces[static_cast<size_t>(explain)];
    const auto base = sim::run_trace(t, sim::Mode::kNothing, p, s);
    std::vector<std::string> log;
    sim::Simulation sv = s;
    sv.log_samples = verbose;
    sv.world_delays.mismatch = explain_mismatch;
    const auto r = sim::run_trace(t, sim::Mode::kPredictive, p, sv, tuning, &log);
    std::cout << t.kind << " (known by " << t.known_by << "), GPU " << (t.gpu_total_bytes >> 20)
              << " MiB, peak demand " << (base.peak_demand_bytes >> 20) << " MiB, freeable "
              << (base.freeable_bytes >> 20) << " MiB; without policy "
              << (base.oom ? "OOM at " + std::to_string(base.oom_at_seconds) + " s" : "no OOM")
              << "; predictive " << (r.oom ? "OOM at " + std::to_string(r.oom_at_seconds) + " s" : "no OOM") << ", " << r.actions << " actions\n";
    for (const auto& wp : t.profiles) {
      std::cout << "  profile " << wp.signature.text() << ": " << wp.runs << " runs, peaks";
      for (const auto b : wp.recent_peaks) std::cout << " " << (b >> 20);
      std::cout << " MiB\n";
    }
    for (const auto& l : log) std::cout << "  " << l << "\n";
    return 0;
  }
  if (json) {
    // The held-out set, or with --second-held-out, --third-held-out or
    // --fourth-held-out that one (its rows only: the planner's other error
    // and the replayed week go with the first set).
    const uint32_t seed = report_seed ? report_seed : sim::kHeldOutSeed;
    const auto rows =
        sim::evaluate(sim::make_traces(per_kind, seed, planner_error), p, s, {}, mismatches);
    const auto& all1 = find(rows, "all", sim::Mode::kPredictive, 1.0);
    nlohmann::json j = {{"set", report ? report->name : "held-out"},
                        {"seed", seed},
                        {"traces_per_kind", per_kind},
                        {"planner_error", planner_error == sim::PlannerError::kMeasured
                                              ? "measured"
                                              : "total6"},
                        {"traces", all1.traces},
                        {"oom_prevented_percent", all1.prevented_percent()},
                        {"oom_prevented_ci95_percent", interval_json(all1.prevented_interval())},
                        {"wasted_actions_percent", all1.wasted_percent()},
                        {"oom_prevented_percent_at_1_5x_delay",
                         find(rows, "all", sim::Mode::kPredictive, 1.5).prevented_percent()},
                        {"oom_prevented_at_1_5x_delay_ci95_percent",
                         interval_json(
                             find(rows, "all", sim::Mode::kPredictive, 1.5).prevented_interval())},
                        {"oom_prevented_percent_at_2x_delay",
                         find(rows, "all", sim::Mode::kPredictive, 2.0).prevented_percent()}};
    nlohmann::json groups = nlohmann::json::object();
    for (const auto& r : rows) {
      if (r.mode != sim::Mode::kPredictive || r.mismatch != 1.0) continue;
      groups[r.group] = row_json(r);
    }
    j["predictive_by_group"] = groups;
    if (report_seed) {
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    if (planner_error == sim::PlannerError::kMeasured) {
      // The same held-out traces with the planner's whole figure up to 6 %
      // over (a GPU backend whose buffers were not checked against llama.cpp).
      const auto alt = sim::evaluate(
          sim::make_traces(per_kind, sim::kHeldOutSeed, sim::PlannerError::kTotal6), p, s, {},
          mismatches);
      nlohmann::json by = nlohmann::json::object();
      for (const auto& r : alt) {
        if (r.mode != sim::Mode::kPredictive || r.mismatch != 1.0) continue;
        by[r.group] = row_json(r);
      }
      j["planner_error_total6"] = {
          {"oom_prevented_percent", find(alt, "all", sim::Mode::kPredictive).prevented_percent()},
          {"wasted_actions_percent", find(alt, "all", sim::Mode::kPredictive).wasted_percent()},
          {"oom_prevented_percent_at_1_5x_delay",
           find(alt, "all", sim::Mode::kPredictive, 1.5).prevented_percent()},
          {"predictive_by_group", by}};
    }
    // VRAM efficiency over replayed days (a week: seven seeds), with the
    // daemon's engine (profile local_llm) and without it (Ollama's
    // keep_alive alone).
    sim::DayResult with, without;
    for (uint32_t day = 0; day < 7; ++day) {
      for (bool policy : {true, false}) {
        const auto r = sim::replay_day(sim::kHeldOutSeed + day, p, policy);
        auto& acc = policy ? with : without;
        acc.held_byte_seconds += r.held_byte_seconds;
        acc.serving_byte_seconds += r.serving_byte_seconds;
        acc.requests += r.requests;
        acc.loads += r.loads;
        acc.policy_unloads += r.policy_unloads;
      }
    }
    const sim::DayReplay world;
    j["vram_efficiency_percent"] = with.efficiency_percent();
    j["vram_efficiency_percent_without_policy"] = without.efficiency_percent();
    j["vram_efficiency_replay"] = {{"days", 7},
                                   {"requests", with.requests},
                                   {"cold_loads_with_policy", with.loads},
                                   {"cold_loads_without_policy", without.loads},
                                   {"policy_unloads", with.policy_unloads},
                                   {"keep_alive_seconds", world.keep_alive_seconds},
                                   {"serving_window_seconds", world.serving_window_seconds},
                                   {"profile", p.name}};
    j["threshold_only"] = row_json(find(rows, "all", sim::Mode::kThresholdOnly));
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  const struct {
    const char* name;
    uint32_t seed;
    sim::PlannerError error;
  } sets[] = {{"tuning set", sim::kTuningSeed, planner_error},
              {"held-out set", sim::kHeldOutSeed, planner_error},
              {"held-out set, planner +0..6 % of the whole", sim::kHeldOutSeed,
               sim::PlannerError::kTotal6}};
  for (const auto& set : sets) {
    if (set.error != planner_error && planner_error != sim::PlannerError::kMeasured) continue;
    auto traces = sim::make_traces(per_kind, set.seed, set.error);
    std::cout << "Policy simulator, " << set.name << ": " << traces.size() << " traces (seed "
              << set.seed << "), profile local_llm, delays learned from the world at 1x, planner "
              << (set.error == sim::PlannerError::kMeasured ? "error as measured" : "+0..6 %")
              << "\n"
              << sim::format_table(sim::evaluate(traces, p, s, {}, mismatches)) << "\n";
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

// The preload predictor on replayed request logs (src/serve/preload_sim.h):
// warm-hit rate of the first request of a session, preloading vs plain LRU
// and the gateway's admission without preloading, same budget, same models;
// on the tuning seeds and on the held-out seeds (never tuned on).
// Run: build/preload_sim_bench                  (tables, then the timing)
//      build/preload_sim_bench --json           (held-out figures, JSON)
//      build/preload_sim_bench --tune           (the knob search, tuning seeds only)
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "serve/preload_sim.h"

namespace {

using namespace memopt::serve::preload_sim;

const Policy kPolicies[] = {Policy::kLru, Policy::kAdmission, Policy::kPredictor};

Outcome run_set(const std::vector<Trace> &traces, Policy p, const Knobs &k) {
  Outcome sum;
  for (const auto &t : traces) sum += replay(t, p, k);
  return sum;
}

std::vector<Trace> traces_of(const std::vector<uint64_t> &seeds) {
  std::vector<Trace> out;
  for (uint64_t s : seeds) out.push_back(make_trace(s));
  return out;
}

nlohmann::json outcome_json(const Outcome &o) {
  return {{"sessions", o.sessions},
          {"warm_first", o.warm_first},
          {"warm_first_percent", o.warm_first_percent()},
          {"requests", o.requests},
          {"warm_requests", o.warm},
          {"cold_loads", o.loads},
          {"preloads", o.preloads},
          {"preloads_used", o.preloads_used}};
}

void print_table(const char *title, const std::vector<Trace> &traces, const Knobs &k) {
  std::cout << fmt::format("{} ({} traces x 6 weeks, first week not counted)\n", title,
                           traces.size());
  std::cout << fmt::format("  {:<22} {:>8} {:>11} {:>9} {:>9} {:>9}\n", "policy", "sessions",
                           "warm first", "cold", "preloads", "used");
  for (Policy p : kPolicies) {
    const Outcome o = run_set(traces, p, k);
    std::cout << fmt::format("  {:<22} {:>8} {:>10.1f}% {:>9} {:>9} {:>9}\n", policy_name(p),
                             o.sessions, o.warm_first_percent(), o.loads, o.preloads,
                             o.preloads_used);
  }
}

// The knob search, on the tuning seeds only: every combination is run;
// among those within 0.5 points of the best warm-first rate, the one with
// the fewest preloads wins (a preload costs a load; a tenth of a point is
// not worth a thousand of them).
Knobs tune(bool print) {
  const auto traces = traces_of(tuning_seeds());
  struct Tried {
    Knobs k;
    double rate;
    uint64_t preloads;
  };
  std::vector<Tried> tried;
  for (double p : {0.15, 0.2, 0.3, 0.4}) {
    for (int64_t idle : {30, 60, 120, 240}) {
      for (int64_t evict : {0, 60, 120, 300, 900}) {
        for (double hl : {7.0, 14.0, 28.0}) {
          Knobs k;
          k.min_probability = p;
          k.idle_seconds = idle;
          k.evict_idle_seconds = evict;
          k.half_life_days = hl;
          const Outcome o = run_set(traces, Policy::kPredictor, k);
          tried.push_back({k, o.warm_first_percent(), o.preloads});
          if (print) {
            std::cout << fmt::format(
                "  p>={:.2f} idle {:>3}s evict-idle {:>3}s half-life {:>2}d:"
                " {:.1f}% warm first, {} preloads\n",
                p, idle, evict, hl, o.warm_first_percent(), o.preloads);
          }
        }
      }
    }
  }
  double best_rate = 0;
  for (const auto &t : tried) best_rate = std::max(best_rate, t.rate);
  const Tried *pick = nullptr;
  for (const auto &t : tried) {
    if (t.rate >= best_rate - 0.5 && (!pick || t.preloads < pick->preloads)) pick = &t;
  }
  return pick ? pick->k : Knobs{};
}

void BM_ReplayHeldOut(benchmark::State &state) {
  const auto traces = traces_of({held_out_seeds()[0]});
  for (auto _ : state) {
    benchmark::DoNotOptimize(replay(traces[0], Policy::kPredictor, Knobs{}));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(traces[0].requests.size()));
}
BENCHMARK(BM_ReplayHeldOut)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char **argv) {
  const Knobs knobs;  // the gateway's defaults, chosen with --tune on the tuning seeds
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tune") == 0) {
      const Knobs k = tune(true);
      std::cout << fmt::format(
          "best on the tuning seeds: p>={:.2f} idle {}s evict-idle {}s "
          "half-life {}d\n",
          k.min_probability, k.idle_seconds, k.evict_idle_seconds, k.half_life_days);
      return 0;
    }
    if (std::strcmp(argv[i], "--json") == 0) {
      const auto traces = traces_of(held_out_seeds());
      nlohmann::json j = {{"schema", "ruvector-memopt.preload-sim/1"},
                          {"set", "held-out"},
                          {"seeds", held_out_seeds()},
                          {"weeks", 6},
                          {"knobs",
                           {{"min_probability", knobs.min_probability},
                            {"idle_seconds", knobs.idle_seconds},
                            {"evict_idle_seconds", knobs.evict_idle_seconds},
                            {"recheck_seconds", knobs.recheck_seconds},
                            {"half_life_days", knobs.half_life_days}}},
                          {"budget_bytes", traces[0].budget_bytes}};
      for (Policy p : kPolicies) {
        const char *key = p == Policy::kLru         ? "lru"
                          : p == Policy::kAdmission ? "admission"
                                                    : "predictor";
        j["policies"][key] = outcome_json(run_set(traces, p, knobs));
      }
      std::cout << j.dump(2) << "\n";
      return 0;
    }
  }
  std::cout << fmt::format(
      "Preload predictor, replayed request logs: 6 models (1-10 GiB), budget 16 GiB;\n"
      "knobs p>={:.2f}, idle {}s, evict models idle {}s+, half-life {}d\n\n",
      knobs.min_probability, knobs.idle_seconds, knobs.evict_idle_seconds, knobs.half_life_days);
  print_table("Tuning seeds", traces_of(tuning_seeds()), knobs);
  std::cout << "\n";
  print_table("HELD-OUT seeds", traces_of(held_out_seeds()), knobs);
  std::cout << "\n";
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

#include "serve/preload_sim.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "policy/preload_predictor.h"
#include "serve/admission.h"

namespace memopt::serve::preload_sim {
namespace {

constexpr int64_t kStart = 1767571200;  // 2026-01-05 00:00 UTC, a Monday
constexpr int64_t kDay = 86400;
constexpr uint64_t kGiB = 1ull << 30;

// The models of every trace; the budget (16 GiB) holds two or three.
enum M { kChatSmall, kChatLarge, kCode, kEmbed, kVision, kTranscribe, kModels };
const std::array<SimModel, kModels> kCatalog = {{{"chat-small", 4 * kGiB},
                                                 {"chat-large", 10 * kGiB},
                                                 {"code", 8 * kGiB},
                                                 {"embed", 1 * kGiB},
                                                 {"vision", 6 * kGiB},
                                                 {"transcribe", 2 * kGiB}}};

// "After A, B within minutes": the share of A's sessions followed by a
// session for B, by the same user, 20 s to 4 min later.
struct Succession {
  int from, to;
  double share;
};
constexpr Succession kSuccessions[] = {{kEmbed, kChatLarge, 0.6},
                                       {kTranscribe, kChatSmall, 0.5},
                                       {kCode, kChatSmall, 0.25},
                                       {kVision, kChatLarge, 0.3}};

struct Rng {
  std::mt19937_64 g;
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(g() >> 11) * (1.0 / 9007199254740992.0);
  }
  bool chance(double p) { return uniform(0, 1) < p; }
  int pick(int n) { return static_cast<int>(g() % static_cast<uint64_t>(n)); }
  // Exponential with the given mean.
  double exponential(double mean) { return -mean * std::log(1 - uniform(0, 1)); }
};

struct User {
  double work_start_h, work_end_h;  // UTC hours, weekdays
  int morning, afternoon, evening;  // the model each part of the day asks for
  int secondary;
  double session_gap_minutes;  // mean time between sessions while active
  double evening_share;        // days with an evening session block
  double weekend_share;        // weekend days with a session block
};

struct Session {
  int64_t t;
  int model;
};

// One session: 1 + geometric(mean 3) requests 5-120 s apart; then maybe a
// session for a successor model.
void emit_session(Rng &r, int64_t t, int model, std::vector<SimRequest> &out) {
  int n = 1;
  while (n < 30 && r.chance(0.75)) n++;
  for (int i = 0; i < n; ++i) {
    out.push_back({t, model, i == 0});
    t += static_cast<int64_t>(r.uniform(5, 120));
  }
  for (const auto &s : kSuccessions) {
    if (s.from == model && r.chance(s.share)) {
      emit_session(r, t + static_cast<int64_t>(r.uniform(20, 240)), s.to, out);
      return;
    }
  }
}

int choose(Rng &r, const User &u, int block_model) {
  const double x = r.uniform(0, 1);
  if (x < 0.7) return block_model;
  if (x < 0.9) return u.secondary;
  return r.pick(kModels);  // noise
}

}  // namespace

Outcome &Outcome::operator+=(const Outcome &o) {
  sessions += o.sessions;
  warm_first += o.warm_first;
  requests += o.requests;
  warm += o.warm;
  loads += o.loads;
  preloads += o.preloads;
  preloads_used += o.preloads_used;
  return *this;
}

const char *policy_name(Policy p) {
  switch (p) {
    case Policy::kLru:
      return "LRU";
    case Policy::kAdmission:
      return "admission (LRU ties)";
    case Policy::kPredictor:
      return "admission + preload";
  }
  return "?";
}

std::vector<uint64_t> tuning_seeds() { return {1, 2, 3, 4, 5, 6, 7, 8}; }
std::vector<uint64_t> held_out_seeds() {
  return {1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012};
}

Trace make_trace(uint64_t seed, int weeks) {
  Rng r{std::mt19937_64(seed * 0x9E3779B97F4A7C15ull + 12345)};
  Trace tr;
  tr.seed = seed;
  tr.models.assign(kCatalog.begin(), kCatalog.end());
  tr.budget_bytes = 16 * kGiB;
  tr.measure_from = kStart + 7 * kDay;
  const int n_users = 3 + r.pick(4);
  std::vector<User> users;
  for (int i = 0; i < n_users; ++i) {
    User u{};
    u.work_start_h = r.uniform(6, 10);
    u.work_end_h = r.uniform(15, 19);
    const int day_models[] = {kCode, kChatSmall, kChatLarge, kTranscribe, kVision};
    u.morning = day_models[r.pick(5)];
    u.afternoon = day_models[r.pick(5)];
    u.evening = r.chance(0.5) ? kChatLarge : kVision;
    u.secondary = r.pick(kModels);
    u.session_gap_minutes = r.uniform(40, 150);
    u.evening_share = r.uniform(0.1, 0.5);
    u.weekend_share = r.uniform(0.1, 0.4);
    users.push_back(u);
  }
  const bool nightly_job = r.chance(0.6);
  const double job_hour = r.uniform(0.5, 3.5);
  std::vector<SimRequest> reqs;
  for (int day = 0; day < weeks * 7; ++day) {
    const int64_t d0 = kStart + day * kDay;
    const bool weekend = day % 7 >= 5;
    for (const User &u : users) {
      // Working hours (weekdays, or now and then at the weekend).
      if (!weekend || r.chance(u.weekend_share)) {
        const double start = u.work_start_h + r.uniform(-0.5, 0.5);
        const double end = u.work_end_h + r.uniform(-0.5, 0.5);
        const double mid = (start + end) / 2;
        double h = start + r.exponential(u.session_gap_minutes) / 60;
        while (h < end) {
          const int model = choose(r, u, h < mid ? u.morning : u.afternoon);
          emit_session(r, d0 + static_cast<int64_t>(h * 3600), model, reqs);
          h += r.exponential(u.session_gap_minutes) / 60 + 0.1;
        }
      }
      if (r.chance(u.evening_share)) {
        double h = r.uniform(19, 22);
        const double end = h + r.uniform(0.5, 2);
        while (h < end) {
          emit_session(r, d0 + static_cast<int64_t>(h * 3600), choose(r, u, u.evening), reqs);
          h += r.exponential(30) / 60 + 0.1;
        }
      }
    }
    // The nightly batch job: a long embedding run, then its summary.
    if (nightly_job && !weekend) {
      const auto t = d0 + static_cast<int64_t>((job_hour + r.uniform(-0.25, 0.25)) * 3600);
      for (int i = 0; i < 20; ++i) reqs.push_back({t + i * 30, kEmbed, i == 0});
      emit_session(r, t + 20 * 30 + static_cast<int64_t>(r.uniform(20, 120)), kChatLarge, reqs);
    }
    // Noise: a few sessions at any time for any model.
    const int noise = r.pick(3);
    for (int i = 0; i < noise; ++i) {
      emit_session(r, d0 + static_cast<int64_t>(r.uniform(0, kDay)), r.pick(kModels), reqs);
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const SimRequest &a, const SimRequest &b) { return a.t < b.t; });
  tr.requests = std::move(reqs);
  return tr;
}

namespace {

// The loaded models and when each was last used (a preload counts as a use,
// as in the gateway).
struct Memory {
  const Trace &tr;
  std::map<int, int64_t> loaded;  // model -> last use
  std::map<int, bool> preloaded;  // model -> preloaded and not yet requested

  std::vector<BudgetDevice> devices() const { return {{"RAM", tr.budget_bytes}}; }
  std::vector<Resident> residents(const std::function<bool(int, int64_t)> &evictable) const {
    std::vector<Resident> out;
    for (const auto &[m, used] : loaded) {
      out.push_back({tr.models[static_cast<size_t>(m)].name,
                     {tr.models[static_cast<size_t>(m)].bytes},
                     evictable(m, used),
                     0,
                     static_cast<uint64_t>(used - kStart)});
    }
    return out;
  }
  int index(const std::string &name) const {
    for (size_t i = 0; i < tr.models.size(); ++i) {
      if (tr.models[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  void stop(int m) {
    loaded.erase(m);
    preloaded.erase(m);
  }
  // Makes room for `m` with the gateway's admit() over `evictable` models;
  // false when it cannot.
  bool make_room(int m, const std::function<bool(int, int64_t)> &evictable) {
    Admission a = admit(devices(), residents(evictable), tr.models[static_cast<size_t>(m)].name,
                        {tr.models[static_cast<size_t>(m)].bytes});
    if (a.verdict == Admission::Verdict::kNever || a.verdict == Admission::Verdict::kWait) {
      return false;
    }
    for (const auto &n : a.evict) stop(index(n));
    return true;
  }
  // Plain LRU: stop the least recently used model until `m` fits.
  void make_room_lru(int m) {
    auto used = [&] {
      uint64_t s = 0;
      for (const auto &e : loaded) s += tr.models[static_cast<size_t>(e.first)].bytes;
      return s;
    };
    while (!loaded.empty() && used() + tr.models[static_cast<size_t>(m)].bytes > tr.budget_bytes) {
      auto oldest =
          std::min_element(loaded.begin(), loaded.end(),
                           [](const auto &a, const auto &b) { return a.second < b.second; });
      stop(oldest->first);
    }
  }
};

}  // namespace

Outcome replay(const Trace &tr, Policy policy, const Knobs &knobs) {
  Outcome out;
  Memory mem{tr, {}, {}};
  policy::PreloadPredictorOptions po;
  po.half_life_days = knobs.half_life_days;
  policy::PreloadPredictor predictor(po);
  auto everyone = [](int, int64_t) { return true; };

  // One idle moment: preload the likeliest model that is not loaded, if it
  // is likely enough and fits by evicting only models idle for
  // evict_idle_seconds that are less likely than it.
  auto preload_check = [&](int64_t now) {
    const auto guesses = predictor.predict(now);
    for (const auto &g : guesses) {
      if (g.probability < knobs.min_probability) return;
      const int m = mem.index(g.model);
      if (m < 0 || mem.loaded.count(m)) continue;
      auto victim = [&](int v, int64_t used) {
        return knobs.evict_idle_seconds > 0 && now - used >= knobs.evict_idle_seconds &&
               predictor.probability(tr.models[static_cast<size_t>(v)].name, now) < g.probability;
      };
      if (mem.make_room(m, victim)) {
        mem.loaded[m] = now;
        mem.preloaded[m] = true;
        if (now >= tr.measure_from) out.preloads++;
      }
      return;
    }
  };

  for (size_t i = 0; i < tr.requests.size(); ++i) {
    const SimRequest &q = tr.requests[i];
    const bool counted = q.t >= tr.measure_from;
    const bool warm = mem.loaded.count(q.model) > 0;
    if (counted) {
      out.requests++;
      out.warm += warm ? 1 : 0;
      if (q.first_of_session) {
        out.sessions++;
        out.warm_first += warm ? 1 : 0;
      }
    }
    if (!warm) {
      if (policy == Policy::kLru) {
        mem.make_room_lru(q.model);
      } else {
        mem.make_room(q.model, everyone);
      }
      if (counted) out.loads++;
    } else if (mem.preloaded.count(q.model)) {
      if (counted) out.preloads_used++;
      mem.preloaded.erase(q.model);
    }
    mem.loaded[q.model] = q.t;
    if (policy != Policy::kPredictor) continue;
    predictor.observe(tr.models[static_cast<size_t>(q.model)].name, q.t);
    // The idle moments before the next request.
    const int64_t next = i + 1 < tr.requests.size() ? tr.requests[i + 1].t : q.t;
    for (int64_t t = q.t + knobs.idle_seconds; t < next; t += knobs.recheck_seconds) {
      preload_check(t);
    }
  }
  return out;
}

}  // namespace memopt::serve::preload_sim

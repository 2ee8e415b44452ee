#include "serve/admission.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "util/bytes.h"

namespace memopt::serve {

Admission admit(const std::vector<BudgetDevice> &devices, const std::vector<Resident> &residents,
                const std::string &name, const std::vector<uint64_t> &need_bytes) {
  Admission out;
  const size_t nd = devices.size();
  auto need = [&](const std::vector<uint64_t> &v, size_t d) { return d < v.size() ? v[d] : 0; };
  for (size_t d = 0; d < nd; ++d) {
    if (need(need_bytes, d) > devices[d].budget_bytes) {
      out.verdict = Admission::Verdict::kNever;
      out.message = "model \"" + name + "\" needs " + format_bytes(need(need_bytes, d)) + " on " +
                    devices[d].label + ", budget " + format_bytes(devices[d].budget_bytes) +
                    ": it can never fit (lower its -c or -ngl, or raise memory_budget)";
      return out;
    }
  }
  // Bytes each device is over once the model is added.
  std::vector<uint64_t> over(nd, 0);
  bool any_over = false;
  for (size_t d = 0; d < nd; ++d) {
    uint64_t used = 0;
    for (const auto &r : residents) used += need(r.need_bytes, d);
    const uint64_t total = used + need(need_bytes, d);
    if (total > devices[d].budget_bytes) {
      over[d] = total - devices[d].budget_bytes;
      any_over = true;
    }
  }
  if (!any_over) return out;

  std::vector<const Resident *> cand;
  for (const auto &r : residents) {
    if (r.evictable) cand.push_back(&r);
  }
  constexpr size_t kMaxCandidates = 16;
  if (cand.size() > kMaxCandidates) {
    std::sort(cand.begin(), cand.end(),
              [](const Resident *a, const Resident *b) { return a->last_used < b->last_used; });
    cand.resize(kMaxCandidates);
  }
  // (excess bytes, highest priority, most recent use, models): smaller is
  // better.
  using Cost = std::tuple<uint64_t, int64_t, uint64_t, int>;
  bool found = false;
  Cost best{};
  uint32_t best_mask = 0;
  for (uint32_t mask = 1; mask < (1u << cand.size()); ++mask) {
    std::vector<uint64_t> freed(nd, 0);
    int64_t prio = std::numeric_limits<int64_t>::min();
    uint64_t recent = 0;
    int count = 0;
    for (size_t i = 0; i < cand.size(); ++i) {
      if (!(mask & (1u << i))) continue;
      for (size_t d = 0; d < nd; ++d) freed[d] += need(cand[i]->need_bytes, d);
      prio = std::max(prio, cand[i]->priority);
      recent = std::max(recent, cand[i]->last_used);
      ++count;
    }
    uint64_t excess = 0;
    bool enough = true;
    for (size_t d = 0; d < nd; ++d) {
      if (freed[d] < over[d]) {
        enough = false;
        break;
      }
      excess += freed[d] - over[d];
    }
    if (!enough) continue;
    Cost c{excess, prio, recent, count};
    if (!found || c < best) {
      best = c;
      best_mask = mask;
      found = true;
    }
  }
  if (!found) {
    out.verdict = Admission::Verdict::kWait;
    for (size_t d = 0; d < nd; ++d) {
      if (!over[d]) continue;
      out.message = "model \"" + name + "\" needs " + format_bytes(need(need_bytes, d)) + " on " +
                    devices[d].label + "; busy or pinned models hold the rest of " +
                    format_bytes(devices[d].budget_bytes);
      break;
    }
    return out;
  }
  out.verdict = Admission::Verdict::kEvict;
  for (size_t i = 0; i < cand.size(); ++i) {
    if (best_mask & (1u << i)) out.evict.push_back(cand[i]->name);
  }
  return out;
}

}  // namespace memopt::serve

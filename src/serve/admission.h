#pragma once
// Admission by plan and eviction by memory (issue 15), as pure values: the
// budget per device, what each resident model's plan holds, and the need of
// the model asked for, in; whether it fits, must wait, can never fit, or which
// idle models to evict, out. No clock: "least recently used" is an order the
// caller gives.
#include <cstdint>
#include <string>
#include <vector>

namespace memopt::serve {

// The devices a budget applies to: every GPU (VRAM per GPU), or the host
// alone when there is none (RAM when CPU-only).
struct BudgetDevice {
  std::string label;  // "GPU 0", "RAM"
  uint64_t budget_bytes = 0;
};

struct Resident {
  std::string name;
  std::vector<uint64_t> need_bytes;  // per BudgetDevice
  bool evictable = false;            // idle, ready, not pinned
  int64_t priority = 0;              // higher evicts last
  uint64_t last_used = 0;            // larger = used more recently
};

struct Admission {
  enum class Verdict { kFits, kEvict, kWait, kNever } verdict = Verdict::kFits;
  std::vector<std::string> evict;  // kEvict: the models to stop first
  std::string message;             // kNever / kWait: why, with the numbers
};

// The cheapest set of evictable residents that makes `need` fit: fewest bytes
// freed beyond what is needed, then the lowest highest priority in the set,
// then the least recently used, then the fewest models. Sets are searched
// exhaustively up to 16 candidates (65 536 subsets); beyond that the 16 least
// recently used are the candidates.
Admission admit(const std::vector<BudgetDevice> &devices, const std::vector<Resident> &residents,
                const std::string &name, const std::vector<uint64_t> &need_bytes);

}  // namespace memopt::serve

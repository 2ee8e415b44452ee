// The policy pass (engine_pass.h): unloading models idle past the
// profile's idle_unload_seconds.
#include <algorithm>

#include "policy/engine_pass.h"
#include "util/bytes.h"

namespace memopt::policy::engine_detail {

void Pass::idle_unload_rule() {
  if (p_.idle_unload_seconds <= 0) return;
  for (const auto& m : in_.models) {
    if (!unloadable(m, static_cast<double>(p_.idle_unload_seconds))) continue;
    Action a = model_action(ActionKind::kUnload, m);
    a.expected_bytes = m.vram_bytes > 0 ? m.vram_bytes : m.size_bytes;
    a.host_ram = m.vram_bytes == 0;
    a.reason = m.name + " idle for " + secs(m.idle_seconds) + "; profile " + p_.name +
               " unloads after " + std::to_string(p_.idle_unload_seconds) + " s";
    emit(std::move(a));
  }
}

}  // namespace memopt::policy::engine_detail

// The policy pass (engine_pass.h): image-generation caches freed between
// generations, and idle LLMs yielding a GPU to a render.
#include <algorithm>

#include "policy/engine_pass.h"
#include "util/bytes.h"

namespace memopt::policy::engine_detail {

void Pass::image_generation_rule() {
  for (const auto& ig : in_.image_gen) {
    bool& was = st_.image_was_generating[ig.key()];
    const bool finished = was && !ig.generating;
    was = ig.generating;
    if (p_.clear_cache_between_generations && finished && ig.vram_bytes > 0) {
      Action a = image_cache_action(ig);
      a.reason = ig.runtime + " finished a generation; profile " + p_.name +
                 " clears caches between generations";
      emit(std::move(a));
    }
    if (ig.generating && p_.render_handoff != "off") {
      // A render and an LLM fighting over one GPU is the users' top
      // complaint here (research pain point 7): idle LLMs yield.
      for (const auto& m : in_.models) {
        if (m.gpu != ig.gpu || m.vram_bytes == 0 || !unloadable(m, t_.idle_for_offload_seconds))
          continue;
        Action a = model_action(ActionKind::kUnload, m);
        a.expected_bytes = m.vram_bytes;
        a.reason = ig.runtime + " is generating on GPU " + std::to_string(ig.gpu) + "; idle " +
                   m.name + " yields its VRAM (profile " + p_.name + ", render_handoff = " +
                   p_.render_handoff + ")";
        emit(std::move(a));
      }
    }
  }
}

}  // namespace memopt::policy::engine_detail

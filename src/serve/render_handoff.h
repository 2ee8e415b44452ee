#pragma once
// The image-generation handoff (issue 15) as pure values: each poll of the
// watched image servers says whether any has a render queued or running;
// the handoff says when the gateway's LLMs must yield (a render began) and
// when they may come back (every queue stayed empty for resume_after
// seconds). No clock: the caller passes the time of each poll.
#include <optional>
#include <string>
#include <string_view>

namespace memopt::serve {

// The active profile's render_handoff (policy/profile.h), as the gateway
// acts on it.
enum class HandoffMode { kOff, kQueue, kReject };
std::optional<HandoffMode> handoff_mode(std::string_view profile_value);
const char *handoff_mode_name(HandoffMode m);

class RenderHandoff {
 public:
  enum class Phase {
    kIdle,       // no render: LLMs serve
    kRendering,  // a render is queued or running: LLMs yield, requests are held
    kSettling,   // the queues are empty, for less than resume_after seconds
  };
  struct Step {
    bool began = false;  // the render just began: yield now
    bool ended = false;  // the render is over: bring the LLMs back now
  };

  explicit RenderHandoff(double resume_after_seconds) : resume_after_(resume_after_seconds) {}

  // One poll at `now_seconds`. `busy`: some server has a job (a server that
  // did not answer counts as idle, so a vanished server never holds the
  // LLMs). `enabled` false (the profile says "off") ends a handoff at once.
  Step observe(bool busy, bool enabled, double now_seconds);

  Phase phase() const { return phase_; }
  bool holding() const { return phase_ != Phase::kIdle; }
  // When the current handoff began (valid while holding).
  double began_at() const { return began_at_; }

 private:
  double resume_after_;
  Phase phase_ = Phase::kIdle;
  double began_at_ = 0;
  double quiet_since_ = 0;
};

const char *phase_name(RenderHandoff::Phase p);

}  // namespace memopt::serve

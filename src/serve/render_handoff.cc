#include "serve/render_handoff.h"

namespace memopt::serve {

std::optional<HandoffMode> handoff_mode(std::string_view v) {
  if (v == "off") return HandoffMode::kOff;
  if (v == "queue") return HandoffMode::kQueue;
  if (v == "reject") return HandoffMode::kReject;
  return std::nullopt;
}

const char *handoff_mode_name(HandoffMode m) {
  switch (m) {
    case HandoffMode::kOff:
      return "off";
    case HandoffMode::kQueue:
      return "queue";
    case HandoffMode::kReject:
      return "reject";
  }
  return "?";
}

const char *phase_name(RenderHandoff::Phase p) {
  switch (p) {
    case RenderHandoff::Phase::kIdle:
      return "idle";
    case RenderHandoff::Phase::kRendering:
      return "rendering";
    case RenderHandoff::Phase::kSettling:
      return "settling";
  }
  return "?";
}

RenderHandoff::Step RenderHandoff::observe(bool busy, bool enabled, double now) {
  Step s;
  if (!enabled) {
    s.ended = phase_ != Phase::kIdle;
    phase_ = Phase::kIdle;
    return s;
  }
  switch (phase_) {
    case Phase::kIdle:
      if (busy) {
        phase_ = Phase::kRendering;
        began_at_ = now;
        s.began = true;
      }
      break;
    case Phase::kRendering:
      if (!busy) {
        phase_ = Phase::kSettling;
        quiet_since_ = now;
      }
      break;
    case Phase::kSettling:
      if (busy) {
        // A workflow queued in pieces: one render, not two handoffs.
        phase_ = Phase::kRendering;
      } else if (now - quiet_since_ >= resume_after_) {
        phase_ = Phase::kIdle;
        s.ended = true;
      }
      break;
  }
  // A zero debounce ends at the first quiet poll.
  if (phase_ == Phase::kSettling && now - quiet_since_ >= resume_after_) {
    phase_ = Phase::kIdle;
    s.ended = true;
  }
  return s;
}

}  // namespace memopt::serve

#pragma once
// The one actuator (the daemon, `ai optimize`, the watch screen and the tray's
// actions go through it; `ai unload` / `vram clear` add the check that memory
// came back, unload_verify.h): carries out a policy action through the
// runtime's own API (Ollama keep_alive 0 / num_gpu / num_ctx, ComfyUI
// /free, A1111 unload-checkpoint). Where a runtime offers no way, it says so.
#include <map>
#include <memory>
#include <string>

#include "policy/engine.h"
#include "util/result.h"

namespace memopt::actuator {

class Actuator {
 public:
  virtual ~Actuator() = default;
  virtual Status apply(const policy::Action& action) = 0;
  // Loads `model` ahead of use (POST /api/v1/preload).
  virtual Status preload(const std::string& runtime, const std::string& endpoint,
                         const std::string& model, const std::string& keep_alive) = 0;
  // The active profile: its runtime keys (numa_aware, ...) go with every
  // reload (policy/profile_effects.h). Safe to call while actions run.
  virtual void set_profile(const policy::Profile&) {}
  // The keys servers started with --api-key ask for, by endpoint base URL
  // (detect::sendable_keys of the latest Snapshot): sent with every action
  // on that endpoint. Safe to call while actions run.
  virtual void set_keys(std::map<std::string, std::string>) {}
};

std::unique_ptr<Actuator> make_runtime_actuator();

}  // namespace memopt::actuator

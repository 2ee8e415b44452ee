#pragma once
// What each profile key changes, and where (issue 14: no key may be silently
// inert). Most keys are thresholds the policy engine reads; six change how a
// runtime runs, which only matters where a runtime is started or reloaded by
// us: the gateway (`serve`) starting llama.cpp or vLLM, the daemon reloading
// an Ollama model. Where a runtime offers no way to apply a key, it is
// labelled "advice only" with what the user can do instead.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policy/profile.h"

namespace memopt::policy {

struct ProfileKeyEffect {
  std::string_view key;
  // What reads the key, or "" when nothing here can apply it.
  std::string_view acts_on;
  // Non-empty: the key is advice only (nothing here applies it); what to do.
  std::string_view advice;
  bool advice_only() const { return acts_on.empty(); }
};

// One row per key of the profile parser's table (profile_key_names()).
const std::vector<ProfileKeyEffect>& profile_key_effects();
const ProfileKeyEffect* find_key_effect(std::string_view key);

// Where the machine's NUMA layout is known, the GPU's node and whether
// numactl can be run; unknown, llama.cpp spreads its threads itself.
struct LaunchPlace {
  int gpu_numa_node = -1;
  bool numactl_available = false;
};

// Settings a profile asks of a runtime process we start or reload.
struct RuntimeSettings {
  std::vector<std::string> prefix;  // run the program under this (numactl ...)
  std::vector<std::string> args;    // command-line arguments to add
  nlohmann::json api_options = nlohmann::json::object();  // reload options (Ollama)
  std::vector<std::string> advice;  // "key: what to do" for keys this runtime cannot take
};

// `runtime` is a registry id: "llamacpp", "vllm", "ollama", "a1111",
// "comfyui"; any other gets advice only.
RuntimeSettings runtime_settings(const Profile& p, std::string_view runtime,
                                 const LaunchPlace& place = {});

// `argv` (program first) with the settings added: an argument the user gave
// already (same flag, any value) is left as the user set it; the prefix goes
// in front.
std::vector<std::string> with_runtime_settings(const std::vector<std::string>& argv,
                                               const RuntimeSettings& s);

}  // namespace memopt::policy

#pragma once
// The gateway's configuration: the [serve] table of config.toml (issue 15's
// shape exactly), read into values and checked before anything starts, so a
// typo is an error naming the file, the line and the key.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace memopt::serve {

// One model the gateway routes to: either a `command` it starts on demand, or
// an existing server (`runtime` + `endpoint` + `model`).
struct ModelConfig {
  std::string name;                    // what clients put in "model"
  std::vector<std::string> command;    // argv, run without a shell; "${PORT}" replaced
  std::string gguf;                    // what the planner reads ("" = the command's -m)
  int64_t ttl_seconds = 0;             // idle time before unload (0 = only when memory is needed)
  bool pinned = false;                 // never evicted
  int64_t priority = 0;                // higher evicts last
  std::string runtime;                 // "ollama", "llamacpp", "vllm", "sglang" (endpoint models)
  std::string endpoint;                // their base URL
  std::string model;                   // the runtime's own name for it
  // The key that server asks for (vLLM's, SGLang's or llama-server's
  // --api-key), sent to it as a bearer token; "" none. A server the gateway
  // starts gets the key from its command instead.
  std::string api_key;
  int64_t load_timeout_seconds = 300;  // a command that is not answering by then failed
  // true: the command is started with the active profile's runtime settings
  // (policy::runtime_settings for llama.cpp: --parallel, --cont-batching,
  // --numa, numactl on the GPU's node); a flag the command gives wins.
  bool profile_settings = false;
  bool started_by_gateway() const { return !command.empty(); }
};

// An image server whose queue the gateway watches.
struct RenderEndpoint {
  std::string runtime;  // "comfyui" or "a1111" (the registry's ids)
  std::string url;      // its base URL, http://
};

// [serve.image_generation]: while one of these servers has a render queued
// or running, the gateway hands it the memory as the active profile's
// render_handoff says (serve/render_handoff.h). No endpoint: no handoff.
struct RenderWatchConfig {
  std::vector<RenderEndpoint> endpoints;
  double poll_seconds = 1.0;          // how often each server's queue is read
  double resume_after_seconds = 5.0;  // queues empty this long: the render is over
};

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  // nullopt: "auto" (free memory minus the active profile's reserve, per
  // device).
  std::optional<uint64_t> memory_budget_bytes;
  int64_t queue_timeout_seconds = 120;
  int64_t max_queue = 64;
  std::string api_key;  // "": no key asked (loopback only)
  // The preload predictor: when every backend has been idle for
  // preload_idle_seconds, start the model most likely to be asked for next
  // if its probability is at least preload_min_probability and it fits the
  // budget, evicting only idle models unused for preload_evict_idle_seconds
  // (0: only free budget) that are less likely than it. Defaults: the best
  // knobs of bench/preload_sim_bench on its tuning seeds.
  bool preload = false;
  double preload_min_probability = 0.2;
  int64_t preload_idle_seconds = 60;
  int64_t preload_evict_idle_seconds = 120;
  std::vector<ModelConfig> models;
  RenderWatchConfig image_generation;
  std::string source;  // the file read

  const ModelConfig *find(std::string_view name) const;
};

// 1-128 characters of letters, digits and . _ - : / (Ollama's "qwen3:8b",
// "library/name"); no "..", no leading '/', nothing a log path or a header
// could be steered with.
bool valid_model_name(std::string_view name);

// Parses the [serve] table of a whole config.toml; other tables are ignored
// (policy/profile.cc reads them). `path` names the file in errors.
Result<ServeConfig> parse_serve_config(std::string_view toml_text, const std::string &path);
Result<ServeConfig> load_serve_config(const std::string &path);

}  // namespace memopt::serve

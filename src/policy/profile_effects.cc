#include "policy/profile_effects.h"

#include <algorithm>

namespace memopt::policy {
namespace {

// The engine rows name the rule that reads the key (src/policy/engine_*.cc);
// the runtime rows name the flag or API option and where we apply it.
const std::vector<ProfileKeyEffect> kEffects = {
    {"reserve_vram_percent", "policy engine: VRAM kept free when moving layers back (restore)", ""},
    {"reserve_ram_gb", "policy engine: host RAM kept free (unloads when MemAvailable is below)",
     ""},
    {"kv_cache_limit_percent", "policy engine: a model's KV cache above it is right-sized", ""},
    {"auto_offload_threshold", "policy engine: VRAM share that starts freeing memory", ""},
    {"auto_compact_threshold", "policy engine: VRAM share that starts right-sizing contexts", ""},
    {"prefer_throughput", "policy engine: slots kept when right-sizing (latency keeps one)", ""},
    {"dynamic_batching",
     "serve: models with profile_settings = true start llama.cpp with --parallel "
     "<max_batch_size> (1 when off); the planner sizes that many sequences. vLLM and Ollama "
     "are not started by us: vLLM --max-num-seqs, Ollama OLLAMA_NUM_PARALLEL",
     ""},
    {"continuous_batching",
     "serve: models with profile_settings = true start llama.cpp with --cont-batching, or "
     "--no-cont-batching when off (vLLM always batches continuously)",
     ""},
    {"max_batch_size",
     "policy engine: slots kept when right-sizing for throughput; the slot count of "
     "dynamic_batching",
     ""},
    {"numa_aware",
     "Ollama reloads by the daemon: the numa option; serve (profile_settings = true): "
     "llama.cpp --numa distribute, or under numactl on the GPUs' NUMA node when they share "
     "one and numactl is installed (--numa numactl)",
     ""},
    {"clear_cache_between_generations",
     "policy engine: ComfyUI /free and A1111 unload after each finished render", ""},
    {"enable_attention_slicing", "",
     "advice only: start ComfyUI with --use-split-cross-attention, A1111 with "
     "--opt-split-attention (neither changes it through its API while running)"},
    {"enable_vae_tiling", "",
     "advice only: in ComfyUI use the VAE Decode (Tiled) node in the workflow; A1111 "
     "has no VAE tiling setting of its own (the Tiled VAE extension adds one)"},
    {"idle_unload_seconds", "policy engine: models idle this long are unloaded", ""},
    {"render_handoff",
     "policy engine: idle LLMs on a rendering GPU are unloaded (not \"off\"); serve with "
     "[serve.image_generation]: idle models unloaded or slept, new requests queued or 503",
     ""},
};

// Spellings of one flag; a user's own value for any of them wins.
const std::vector<std::vector<std::string>> kFlagAliases = {
    {"--numa"},
    {"-cb", "--cont-batching", "-nocb", "--no-cont-batching"},
    {"-np", "--parallel"},
    {"--max-num-seqs"},
};

bool same_flag(const std::string& a, const std::string& b) {
  if (a == b) return true;
  for (const auto& group : kFlagAliases) {
    if (std::find(group.begin(), group.end(), a) != group.end() &&
        std::find(group.begin(), group.end(), b) != group.end()) {
      return true;
    }
  }
  return false;
}

// "--flag=value" -> "--flag".
std::string flag_name(const std::string& arg) {
  const auto eq = arg.find('=');
  return arg.rfind("-", 0) == 0 && eq != std::string::npos ? arg.substr(0, eq) : arg;
}

std::string advice_line(std::string_view key) {
  const ProfileKeyEffect* e = find_key_effect(key);
  return std::string(key) + ": " + (e ? std::string(e->advice) : std::string("advice only"));
}

}  // namespace

const std::vector<ProfileKeyEffect>& profile_key_effects() { return kEffects; }

const ProfileKeyEffect* find_key_effect(std::string_view key) {
  for (const auto& e : kEffects) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

RuntimeSettings runtime_settings(const Profile& p, std::string_view runtime,
                                 const LaunchPlace& place) {
  RuntimeSettings s;
  const std::string slots = std::to_string(p.dynamic_batching ? p.max_batch_size : 1);
  const bool numa_bind = p.numa_aware && place.gpu_numa_node >= 0 && place.numactl_available;
  if (numa_bind) {
    // Threads and the host copy of the weights next to the GPU's PCIe root:
    // llama.cpp's own "numactl" mode takes the CPU set it is given.
    const std::string node = std::to_string(place.gpu_numa_node);
    s.prefix = {"numactl", "--cpunodebind=" + node, "--membind=" + node};
  }
  if (runtime == "llamacpp") {
    if (p.numa_aware) s.args.insert(s.args.end(), {"--numa", numa_bind ? "numactl" : "distribute"});
    s.args.push_back(p.continuous_batching ? "--cont-batching" : "--no-cont-batching");
    s.args.insert(s.args.end(), {"--parallel", slots});
  } else if (runtime == "vllm") {
    s.args.insert(s.args.end(), {"--max-num-seqs", slots});
    if (p.numa_aware && !numa_bind) {
      s.advice.push_back(
          "numa_aware: vLLM has no NUMA flag; the GPU's NUMA node is unknown here, so it is "
          "not bound (numactl --cpunodebind=N --membind=N vllm serve ...)");
    }
  } else if (runtime == "ollama") {
    s.prefix.clear();  // the daemon does not start Ollama; a reload goes through its API
    if (p.numa_aware) s.api_options["numa"] = true;
    s.advice.push_back(
        "dynamic_batching, continuous_batching: Ollama's API takes no batching option; set "
        "OLLAMA_NUM_PARALLEL=" +
        slots + " in the Ollama server's environment");
  } else {
    s.prefix.clear();
  }
  if (runtime == "a1111" || runtime == "comfyui") {
    if (p.enable_attention_slicing) s.advice.push_back(advice_line("enable_attention_slicing"));
    if (p.enable_vae_tiling) s.advice.push_back(advice_line("enable_vae_tiling"));
  }
  return s;
}

std::vector<std::string> with_runtime_settings(const std::vector<std::string>& argv,
                                               const RuntimeSettings& s) {
  if (argv.empty()) return argv;
  std::vector<std::string> out = s.prefix;
  out.insert(out.end(), argv.begin(), argv.end());
  // Settings arrive as flag [value]: a flag is followed by its value unless
  // the next item is itself a flag.
  for (size_t i = 0; i < s.args.size();) {
    const std::string& flag = s.args[i];
    size_t n = 1;
    if (i + 1 < s.args.size() && s.args[i + 1].rfind("-", 0) != 0) n = 2;
    const bool given = std::any_of(argv.begin() + 1, argv.end(), [&](const std::string& a) {
      return same_flag(flag_name(a), flag);
    });
    if (!given)
      out.insert(out.end(), s.args.begin() + static_cast<long>(i),
                 s.args.begin() + static_cast<long>(i + n));
    i += n;
  }
  return out;
}

}  // namespace memopt::policy

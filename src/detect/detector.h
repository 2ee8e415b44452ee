#pragma once
// AIWorkloadDetector, pure part: from one process scan (+ per-process VRAM and
// the answers of HTTP probes) to the list of AI workloads. No I/O here: the
// probes it wants are planned by plan_probes(), run by the caller (probe.h),
// and handed back.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detect/signatures.h"
#include "runtimes/registry.h"
#include "snapshot/snapshot.h"
#include "proc/process_scanner.h"

namespace memopt::detect {

// The detector's output types are the Snapshot's (snapshot/snapshot.h).
using snapshot::Evidence;
using snapshot::GpuShare;
using snapshot::ModelSummary;
using snapshot::ScanStats;
using snapshot::Workload;
using snapshot::WorkloadEstimate;

// VRAM one process holds on one GPU (from the GPU backends): the detector's
// input for joining processes to GPUs.
struct ProcessGpuMemory {
  int pid = 0;
  uint32_t gpu_index = 0;
  uint64_t used_bytes = 0;
};

// What a process's command line says, with the interpreter peeled off
// ("python3 -u -m vllm.entrypoints.openai.api_server --model x").
struct CommandView {
  std::vector<std::string> programs;  // basenames: exe, argv[0], the python script
  bool python = false;
  std::string module;                 // python -m <module>
  std::string script;                 // python <script path>
  std::vector<std::string> args;      // arguments after the program / module / script
};
CommandView command_view(const proc::ProcessInfo& p);

struct Classification {
  const runtimes::RuntimeDescriptor* signature = nullptr;
  double score = 0;  // noisy-or of the matched rules' confidences, at most 0.99
  std::string flavor;
  std::vector<Evidence> evidence;
  std::vector<std::string> also;  // other runtimes at or above kMinimumScore
  bool any_signal = false;        // some rule matched, even below kMinimumScore
};

// An HTTP answer about (pid, port): did GET path answer like `runtime`?
struct ProbeResult {
  int pid = 0;
  uint16_t port = 0;
  std::string runtime;  // signature id that was probed
  std::string path;
  bool matched = false;
};

// Classifies one process by the signature table plus probe answers about it.
// Returns a classification with signature == nullptr when nothing reached
// kMinimumScore.
Classification classify_process(const proc::ProcessInfo& p, std::span<const ProbeResult> probes = {});

// Resident memory at or above which a process's maps are read even without
// any other sign of AI work. Why 64 MiB: a process running a model holds its
// weights in RAM (heap, or the touched pages of the mmapped file) unless
// they sit on a GPU, and then it holds a GPU device file or appears in the
// GPU backend's process list. The smallest models people serve (quantized
// MiniLM/SmolLM-135M GGUF and ONNX, whisper-tiny) are 20-150 MB of weights
// plus the engine's own resident code, while the idle daemons, shells and
// sleepers that make up most of a process table stay far below it.
inline constexpr uint64_t kMapsRssFloorBytes = 64ull << 20;

// The selective scan's rule (`ai status`): true when `p` can be AI work, so
// its maps (mapped libraries: libllama, libonnxruntime, libtorch...) are
// worth reading. `p` carries the cheap reads (status, cmdline, exe, cwd,
// fds). True when any of: the signature table's name/command rules match;
// it runs under an interpreter that loads engines as libraries (python,
// node, java, bun, deno, dotnet: node-llama-cpp, onnxruntime-node, DJL...);
// it holds a model file, a GPU device file or a listening socket; its pid is
// in `gpu_pids` (sorted) from the GPU backends; its RSS is at least
// kMapsRssFloorBytes. A full scan (`ai detect`) reads every maps anyway.
bool may_be_ai_work(const proc::ProcessInfo& p, std::span<const int> gpu_pids);

struct ProbeRequest {
  int pid = 0;
  std::string host;  // "127.0.0.1" or "::1": probes stay on loopback
  uint16_t port = 0;
  std::string runtime;
  std::string path;
  std::string expect;  // body must contain this
};

// Probes worth making: processes with some AI evidence that is not confident
// enough, listening on loopback or any-address; at most `max_probes`.
std::vector<ProbeRequest> plan_probes(const proc::ScanResult& scan, size_t max_probes = 8);

// Groups classified processes into workloads (children join the nearest
// classified ancestor that is a server or the same runtime; VRAM-holding
// children join their ancestor's workload), attaches VRAM, RSS, endpoint,
// model files and model name, and lists non-AI VRAM holders as "other".
std::vector<Workload> detect_workloads(const proc::ScanResult& scan,
                                       std::span<const ProcessGpuMemory> vram,
                                       std::span<const ProbeResult> probes = {});

// The model a command line names (--model X, -m X, --model-path X, `serve X`),
// or "" when none.
std::string model_from_args(const CommandView& view);
// The value the last of `flags` gives on a command line ("-c 8192",
// "--ctx-size=8192"; the "=" form for "--" flags only), as llama-server and
// Python's argparse take a repeated option; nullopt when none is given.
std::optional<std::string> flag_value(std::span<const std::string> args,
                                      std::span<const std::string_view> flags);
std::optional<std::string> flag_value(std::span<const std::string> args,
                                      std::initializer_list<std::string_view> flags);
// The context the command line asks for (-c N, --ctx-size N, --max-model-len
// N, --context-length N), 0 when none.
uint64_t context_from_args(const CommandView& view);
// Parallel sequences the command line asks for (-np, --parallel), 0 when none.
uint64_t parallel_from_args(const CommandView& view);
// The key a server's --api-key gives (llama-server, vLLM, SGLang): the first
// of the comma-separated keys of the last --api-key ("--api-key K" or
// "--api-key=K"); "" when none. Key files are not read. A key a header
// cannot carry (a space, a control character) is not used: "" and
// *unusable set. The gateway sends it to a server it starts; the assembler
// to a runtime it reads (assembler.cc).
std::string api_key_from_args(std::span<const std::string> args, bool* unusable = nullptr);
// The key a server process answers to: its --api-key (api_key_from_args),
// else its runtime's api_key_env from `env` (the scan's ProcessInfo::env;
// llama-server's first comma-separated key, vLLM's whole value): the flag
// wins in both. "" when none is usable; *unusable set when one was given
// but none is usable.
std::string api_key_for(std::span<const std::string> args,
                        std::span<const std::pair<std::string, std::string>> env,
                        const runtimes::RuntimeDescriptor* runtime, bool* unusable = nullptr);
// The key a server this process starts with `args` takes (api_key_for:
// its --api-key, else its runtime's api_key_env as it inherits it from this
// process's environment). With no `args`: the key this process's own
// environment holds for `runtime`, what a user exports (LLAMA_API_KEY,
// VLLM_API_KEY) to reach a server named by an endpoint option.
std::string inherited_api_key(std::span<const std::string> args,
                              const runtimes::RuntimeDescriptor* runtime,
                              bool* unusable = nullptr);
// The file a llama-server --api-key-file names (the last such flag, "FILE"
// or "=FILE"); "" when none. Read by the scan (proc::read_process_key_file)
// for a server whose command line and environment give no key.
std::string api_key_file_from_args(std::span<const std::string> args);
// Whether a reader running as `reader_uid` sends a server the key its
// owner's command line gives: only as that owner or as root, who read that
// line as the owner does.
bool may_send_key(uint32_t reader_uid, uint32_t owner_uid);
// The workload's key (Workload::api_key) where this process may send it
// (may_send_key as itself); "" otherwise.
std::string sendable_key(const snapshot::Workload& w);
// Those keys for every workload of `s`, by its endpoint's base URL: what
// the actuator sends with its actions (Actuator::set_keys), as the
// assembler sends them when it reads.
std::map<std::string, std::string> sendable_keys(const snapshot::Snapshot& s);

// Sets each workload's VRAM (per GPU and total) from a reading of the
// per-process memory, keeping the grouping of the scan it came from.
void refresh_vram(std::span<Workload> workloads, std::span<const ProcessGpuMemory> vram);

}  // namespace memopt::detect

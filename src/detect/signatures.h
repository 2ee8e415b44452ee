#pragma once
// The runtime signature table: one entry per AI runtime, each a list of
// signals (program name, python module, mapped library, path fragment, comm
// prefix...) with the confidence each one carries. Detection is the table
// read by one generic matcher (detector.cc); adding a runtime is adding an
// entry here. Facts: the runtimes' own sources, listed in signatures.cc.
#include <cstdint>
#include <span>
#include <string_view>

namespace memopt::detect {

enum class Signal {
  kProgram,         // basename of exe / argv[0] / the script python runs == pattern (exact)
  kProgramSuffix,   // that basename ends with pattern (".llamafile")
  kCommand,         // "prog sub": program == prog and the next argument == sub
  kPythonModule,    // python -m <module> where module == pattern or starts with pattern + "."
  kScriptPath,      // a python script's path contains pattern ("/ComfyUI/")
  kPythonCwd,       // a python process whose working directory contains pattern
  kCommPrefix,      // comm or the process title starts with pattern ("VLLM::")
  kLibraryPrefix,   // a mapped shared object's basename starts with pattern
  kLibraryPath,     // a mapped shared object's path contains pattern ("/.lmstudio/")
  kExePath,         // the executable's path contains pattern ("/lib/ollama/")
};

struct SignalRule {
  Signal signal;
  std::string_view pattern;
  double confidence;         // 0..1: how sure this signal alone makes us
  std::string_view flavor{};  // names a variant of the runtime ("LM Studio"), or ""
};

// Mapped libraries that say which accelerator a workload uses.
struct AcceleratorRule {
  std::string_view library_prefix;
  std::string_view accelerator;  // "CUDA", "ROCm", "Vulkan", "ONNX Runtime CUDA EP", ...
};
std::span<const AcceleratorRule> accelerator_rules();

struct HttpProbe {
  std::string_view path;    // GET this on the candidate port
  std::string_view expect;  // the body must contain this
};

enum class RuntimeKind {
  kServer,     // serves an API and owns its model children (Ollama, vLLM...)
  kEngine,     // an inference engine embedded in some process (llama.cpp library)
  kFramework,  // a general framework (PyTorch, ONNX Runtime): weakest claim
};

struct RuntimeSignature {
  std::string_view id;    // stable id used in JSON: "ollama", "llama.cpp", ...
  std::string_view name;  // display name
  RuntimeKind kind;
  std::span<const SignalRule> rules;
  std::span<const uint16_t> default_ports;
  std::span<const HttpProbe> probes;
  std::string_view platform_note;  // non-empty: what this runtime cannot show here
};

// Every runtime, most specific first (ties in score go to the earlier entry).
std::span<const RuntimeSignature> runtime_signatures();
const RuntimeSignature* find_signature(std::string_view id);

// Confidence at or above which process evidence alone identifies a runtime;
// below it a listening port is probed over HTTP to confirm.
inline constexpr double kConfidentScore = 0.75;
// Below this, evidence is ignored (a lone weak signal).
inline constexpr double kMinimumScore = 0.5;

}  // namespace memopt::detect

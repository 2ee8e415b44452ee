#pragma once
// The runtime signature table: one entry per AI runtime, each a list of
// signals (program name, python module, mapped library, path fragment, comm
// prefix...) with the confidence each one carries. Detection is the table
// read by one generic matcher (detector.cc); adding a runtime is adding an
// entry here. Facts: the runtimes' own sources, listed in signatures.cc.
#include <span>
#include <string_view>

namespace memopt::detect {

// Mapped libraries that say which accelerator a workload uses.
struct AcceleratorRule {
  std::string_view library_prefix;
  std::string_view accelerator;  // "CUDA", "ROCm", "Vulkan", "ONNX Runtime CUDA EP", ...
};
std::span<const AcceleratorRule> accelerator_rules();

// Confidence at or above which process evidence alone identifies a runtime;
// below it a listening port is probed over HTTP to confirm.
inline constexpr double kConfidentScore = 0.75;
// Below this, evidence is ignored (a lone weak signal).
inline constexpr double kMinimumScore = 0.5;

}  // namespace memopt::detect

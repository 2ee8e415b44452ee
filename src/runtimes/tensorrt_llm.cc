// The registry's entry for TensorRT-LLM. NVIDIA TensorRT-LLM: trtllm-serve and the libraries it
// maps. Detection only: no HTTP API this tool speaks.
#include "runtimes/registry.h"

namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kProgram, "trtllm-serve", 0.95},
    {S::kLibraryPrefix, "libtensorrt_llm", 0.9},
};
constexpr uint16_t kPorts[] = {8000};

}  // namespace

extern const RuntimeDescriptor kTensorRtLlmRuntime{
    .kind = RuntimeKind{"tensorrt-llm"},
    .name = "TensorRT-LLM",
    .role = RuntimeRole::kServer,
    .rules = kRules,
    .default_ports = kPorts,
};

}  // namespace memopt::runtimes

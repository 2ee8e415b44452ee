// The registry's entry for MLC-LLM. MLC-LLM: `mlc_llm serve`, its python module and library.
// Detection only: no HTTP API this tool speaks.
#include "runtimes/registry.h"

namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kCommand, "mlc_llm serve", 0.95},
    {S::kPythonModule, "mlc_llm", 0.9},
    {S::kLibraryPrefix, "libmlc_llm", 0.9},
};
constexpr uint16_t kPorts[] = {8000};

}  // namespace

extern const RuntimeDescriptor kMlcLlmRuntime{
    .kind = RuntimeKind{"mlc-llm"},
    .name = "MLC-LLM",
    .role = RuntimeRole::kServer,
    .rules = kRules,
    .default_ports = kPorts,
};

}  // namespace memopt::runtimes

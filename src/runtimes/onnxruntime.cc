// The registry's entry for ONNX Runtime. ONNX Runtime, seen by its core library (the execution
// providers name the accelerator). Detection only: no HTTP API this tool speaks.
#include "runtimes/registry.h"

namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kLibraryPrefix, "libonnxruntime", 0.75},
    {S::kLibraryPrefix, "onnxruntime_pybind11_state", 0.75},
    {S::kLibraryPrefix, "onnxruntime.dll", 0.75},  // Windows (and its EPs below)
    {S::kLibraryPrefix, "onnxruntime_providers_", 0.75},
};

}  // namespace

extern const RuntimeDescriptor kOnnxRuntimeRuntime{
    .kind = RuntimeKind{"onnxruntime"},
    .name = "ONNX Runtime",
    .role = RuntimeRole::kFramework,
    .rules = kRules,
};

}  // namespace memopt::runtimes

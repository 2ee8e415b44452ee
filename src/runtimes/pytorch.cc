// The registry's entry for PyTorch. PyTorch, seen by the libraries of its GPU builds.
// Detection only: no HTTP API this tool speaks.
#include "runtimes/registry.h"

namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kLibraryPrefix, "libtorch_cuda", 0.7}, {S::kLibraryPrefix, "libc10_cuda", 0.7},
    {S::kLibraryPrefix, "libtorch_hip", 0.7},  {S::kLibraryPrefix, "libc10_hip", 0.7},
    {S::kLibraryPrefix, "libtorch_cpu", 0.6},
    // Windows: the same libraries without "lib".
    {S::kLibraryPrefix, "torch_cuda.dll", 0.7}, {S::kLibraryPrefix, "c10_cuda.dll", 0.7},
    {S::kLibraryPrefix, "torch_cpu.dll", 0.6},
};

}  // namespace

extern const RuntimeDescriptor kPyTorchRuntime{
    .kind = RuntimeKind{"pytorch"},
    .name = "PyTorch",
    .role = RuntimeRole::kFramework,
    .rules = kRules,
};

}  // namespace memopt::runtimes

// The registry's entry for DirectML. DirectML (Windows): a process that loaded DirectML.dll.
// Detection only: no HTTP API this tool speaks.
#include "runtimes/registry.h"

namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kLibraryPrefix, "libdirectml", 0.8},
    {S::kLibraryPrefix, "DirectML", 0.8},
};

}  // namespace

extern const RuntimeDescriptor kDirectMlRuntime{
    .kind = RuntimeKind{"directml"},
    .name = "DirectML",
    .role = RuntimeRole::kFramework,
    .rules = kRules,
    .linux_note =
        "Windows only (a DirectX 12 API); on Linux only WSL's libdirectml.so is visible and its "
        "VRAM cannot be attributed per process",
};

}  // namespace memopt::runtimes

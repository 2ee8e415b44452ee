// The registry's entry for Stable Diffusion web UIs and sd.cpp, as the
// detector sees them. AUTOMATIC1111 and Forge speak the a1111 API
// (image_gen.cc); sd.cpp's server has none this tool speaks.
#include "runtimes/registry.h"

namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kScriptPath, "stable-diffusion-webui-forge", 0.9, "Forge"},
    {S::kPythonCwd, "stable-diffusion-webui-forge", 0.85, "Forge"},
    {S::kScriptPath, "stable-diffusion-webui", 0.9, "AUTOMATIC1111"},
    {S::kPythonCwd, "stable-diffusion-webui", 0.85, "AUTOMATIC1111"},
    {S::kProgram, "sd-server", 0.9, "sd.cpp"},
    {S::kProgram, "sd-cli", 0.9, "sd.cpp"},
    {S::kLibraryPrefix, "libstable-diffusion", 0.9, "sd.cpp"},
};
constexpr uint16_t kPorts[] = {7860};
constexpr HttpProbe kProbes[] = {{"/sdapi/v1/options", "\"sd_model_checkpoint\""}};
constexpr FlavorApi kFlavorApi[] = {{"AUTOMATIC1111", "a1111"}, {"Forge", "a1111"}};

}  // namespace

extern const RuntimeDescriptor kStableDiffusionRuntime{
    .kind = RuntimeKind{"stable-diffusion"},
    .name = "Stable Diffusion",
    .role = RuntimeRole::kServer,
    .rules = kRules,
    .default_ports = kPorts,
    .probes = kProbes,
    .flavor_api = kFlavorApi,
};

}  // namespace memopt::runtimes

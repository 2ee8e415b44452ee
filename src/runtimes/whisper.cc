// The registry's entry for Whisper. Whisper in its three common forms: whisper.cpp, faster-whisper,
// openai-whisper. Detection only: no HTTP API this tool speaks.
#include "runtimes/registry.h"

namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kProgram, "whisper-server", 0.95, "whisper.cpp"},
    {S::kProgram, "whisper-cli", 0.95, "whisper.cpp"},
    {S::kProgram, "whisper-stream", 0.95, "whisper.cpp"},
    {S::kLibraryPrefix, "libwhisper", 0.9, "whisper.cpp"},
    {S::kPythonModule, "faster_whisper", 0.9, "faster-whisper"},
    {S::kLibraryPrefix, "libctranslate2", 0.8, "faster-whisper (CTranslate2)"},
    {S::kProgram, "whisper", 0.85, "openai-whisper"},  // the console script run by python
    {S::kPythonModule, "whisper", 0.85, "openai-whisper"},
};
constexpr uint16_t kPorts[] = {8080};

}  // namespace

extern const RuntimeDescriptor kWhisperRuntime{
    .kind = RuntimeKind{"whisper"},
    .name = "Whisper",
    .role = RuntimeRole::kEngine,
    .rules = kRules,
    .default_ports = kPorts,
};

}  // namespace memopt::runtimes

// The signature table. Each confidence is a judgement of how specific the
// signal is. The signals come from the runtimes' own code and docs: ollama/ollama
// llm/llama_server.go and envconfig/config.go, llama.cpp tools/server/README.md,
// the process titles vLLM and SGLang set (VLLM::EngineCore, sglang::scheduler),
// TGI launcher/src/main.rs, LostRuins/koboldcpp koboldcpp.py, whisper.cpp
// examples/server/README.md, the lmstudio.ai CLI docs. Confidences:
//  0.95  the runtime's own program/subcommand or process title (no one else uses it)
//  0.9   the runtime's own library or install path
//  0.8   a library the runtime ships that forks/embedders also use (libllama)
//  0.7   a general framework's library (torch, onnxruntime)
// Never a bare "server" or "main": program names are matched whole.
#include "detect/signatures.h"

namespace memopt::detect {
namespace {

using S = Signal;

constexpr SignalRule kOllama[] = {
    {S::kCommand, "ollama serve", 0.95},
    {S::kCommand, "ollama runner", 0.95},
    {S::kProgram, "ollama_llama_server", 0.95},  // ≈ v0.3 and older
    {S::kExePath, "/lib/ollama/", 0.9},          // v0.30+: bundled llama-server child
    {S::kLibraryPath, "/lib/ollama/", 0.85},
};
constexpr uint16_t kOllamaPorts[] = {11434};
constexpr HttpProbe kOllamaProbes[] = {{"/api/version", "\"version\""}};

constexpr SignalRule kVllm[] = {
    {S::kCommPrefix, "VLLM::", 0.95},  // VLLM::EngineCore, VLLM::Worker_TP0
    {S::kCommand, "vllm serve", 0.95},
    {S::kPythonModule, "vllm.entrypoints", 0.95},
    {S::kLibraryPath, "/vllm/_C", 0.9},
    {S::kLibraryPath, "/vllm/_moe_C", 0.9},
};
constexpr uint16_t kVllmPorts[] = {8000};
constexpr HttpProbe kVllmProbes[] = {{"/metrics", "vllm:"}};

constexpr SignalRule kSglang[] = {
    {S::kCommPrefix, "sglang::", 0.95},  // sglang::scheduler_TP0, sglang::detokenizer
    {S::kPythonModule, "sglang.launch_server", 0.95},
    {S::kCommand, "sglang serve", 0.95},
    {S::kLibraryPath, "/sgl_kernel/", 0.85},
};
constexpr uint16_t kSglangPorts[] = {30000};
constexpr HttpProbe kSglangProbes[] = {{"/get_model_info", "\"model_path\""}};

constexpr SignalRule kTgi[] = {
    {S::kProgram, "text-generation-launcher", 0.95},
    {S::kProgram, "text-generation-router", 0.95},
    {S::kCommand, "text-generation-server serve", 0.95},  // the Python shards
};
constexpr uint16_t kTgiPorts[] = {3000, 80};
constexpr HttpProbe kTgiProbes[] = {{"/info", "\"model_id\""}};

constexpr SignalRule kTrtllm[] = {
    {S::kProgram, "trtllm-serve", 0.95},
    {S::kLibraryPrefix, "libtensorrt_llm", 0.9},
};
constexpr uint16_t kTrtllmPorts[] = {8000};

constexpr SignalRule kMlc[] = {
    {S::kCommand, "mlc_llm serve", 0.95},
    {S::kPythonModule, "mlc_llm", 0.9},
    {S::kLibraryPrefix, "libmlc_llm", 0.9},
};
constexpr uint16_t kMlcPorts[] = {8000};

constexpr SignalRule kComfy[] = {
    {S::kScriptPath, "comfyui/main.py", 0.9},  // case-insensitive
    {S::kPythonCwd, "comfyui", 0.85},
    {S::kProgram, "comfy", 0.85, "comfy-cli"},
};
constexpr uint16_t kComfyPorts[] = {8188};
constexpr HttpProbe kComfyProbes[] = {{"/system_stats", "\"devices\""}};

constexpr SignalRule kStableDiffusion[] = {
    {S::kScriptPath, "stable-diffusion-webui-forge", 0.9, "Forge"},
    {S::kPythonCwd, "stable-diffusion-webui-forge", 0.85, "Forge"},
    {S::kScriptPath, "stable-diffusion-webui", 0.9, "AUTOMATIC1111"},
    {S::kPythonCwd, "stable-diffusion-webui", 0.85, "AUTOMATIC1111"},
    {S::kProgram, "sd-server", 0.9, "sd.cpp"},
    {S::kProgram, "sd-cli", 0.9, "sd.cpp"},
    {S::kLibraryPrefix, "libstable-diffusion", 0.9, "sd.cpp"},
};
constexpr uint16_t kStableDiffusionPorts[] = {7860};
constexpr HttpProbe kStableDiffusionProbes[] = {{"/sdapi/v1/options", "\"sd_model_checkpoint\""}};

constexpr SignalRule kWhisper[] = {
    {S::kProgram, "whisper-server", 0.95, "whisper.cpp"},
    {S::kProgram, "whisper-cli", 0.95, "whisper.cpp"},
    {S::kProgram, "whisper-stream", 0.95, "whisper.cpp"},
    {S::kLibraryPrefix, "libwhisper", 0.9, "whisper.cpp"},
    {S::kPythonModule, "faster_whisper", 0.9, "faster-whisper"},
    {S::kLibraryPrefix, "libctranslate2", 0.8, "faster-whisper (CTranslate2)"},
    {S::kProgram, "whisper", 0.85, "openai-whisper"},  // the console script run by python
    {S::kPythonModule, "whisper", 0.85, "openai-whisper"},
};
constexpr uint16_t kWhisperPorts[] = {8080};

constexpr SignalRule kLlamaCpp[] = {
    {S::kProgram, "llama-server", 0.9},
    {S::kProgram, "llama-cli", 0.9},
    {S::kProgram, "llama-run", 0.9},
    {S::kProgram, "llama-mtmd-cli", 0.9},
    {S::kProgram, "llamafile", 0.9, "llamafile"},
    {S::kProgramSuffix, ".llamafile", 0.9, "llamafile"},
    {S::kLibraryPath, "/.llamafile/", 0.85, "llamafile"},
    {S::kProgram, "koboldcpp", 0.9, "koboldcpp"},
    {S::kScriptPath, "koboldcpp.py", 0.9, "koboldcpp"},
    {S::kLibraryPrefix, "koboldcpp_", 0.85, "koboldcpp"},
    {S::kProgram, "llmster", 0.85, "LM Studio"},
    {S::kLibraryPath, "/.lmstudio/", 0.85, "LM Studio"},
    {S::kLibraryPath, "/@node-llama-cpp/", 0.85, "node-llama-cpp"},
    {S::kPythonModule, "llama_cpp.server", 0.9, "llama-cpp-python"},
    {S::kLibraryPath, "/llama_cpp/lib/", 0.85, "llama-cpp-python"},
    {S::kLibraryPrefix, "libllama", 0.8},
    {S::kLibraryPrefix, "libggml", 0.75},
};
constexpr uint16_t kLlamaCppPorts[] = {8080, 5001, 1234};
constexpr HttpProbe kLlamaCppProbes[] = {{"/props", "\"default_generation_settings\""}};

constexpr SignalRule kOnnx[] = {
    {S::kLibraryPrefix, "libonnxruntime", 0.75},
    {S::kLibraryPrefix, "onnxruntime_pybind11_state", 0.75},
};

constexpr SignalRule kTorch[] = {
    {S::kLibraryPrefix, "libtorch_cuda", 0.7},
    {S::kLibraryPrefix, "libc10_cuda", 0.7},
    {S::kLibraryPrefix, "libtorch_hip", 0.7},
    {S::kLibraryPrefix, "libc10_hip", 0.7},
    {S::kLibraryPrefix, "libtorch_cpu", 0.6},
};

constexpr SignalRule kDirectMl[] = {
    {S::kLibraryPrefix, "libdirectml", 0.8},
    {S::kLibraryPrefix, "DirectML", 0.8},
};

constexpr RuntimeSignature kSignatures[] = {
    {"ollama", "Ollama", RuntimeKind::kServer, kOllama, kOllamaPorts, kOllamaProbes, ""},
    {"vllm", "vLLM", RuntimeKind::kServer, kVllm, kVllmPorts, kVllmProbes, ""},
    {"sglang", "SGLang", RuntimeKind::kServer, kSglang, kSglangPorts, kSglangProbes, ""},
    {"tgi", "TGI", RuntimeKind::kServer, kTgi, kTgiPorts, kTgiProbes, ""},
    {"tensorrt-llm", "TensorRT-LLM", RuntimeKind::kServer, kTrtllm, kTrtllmPorts, {}, ""},
    {"mlc-llm", "MLC-LLM", RuntimeKind::kServer, kMlc, kMlcPorts, {}, ""},
    {"comfyui", "ComfyUI", RuntimeKind::kServer, kComfy, kComfyPorts, kComfyProbes, ""},
    {"stable-diffusion", "Stable Diffusion", RuntimeKind::kServer, kStableDiffusion,
     kStableDiffusionPorts, kStableDiffusionProbes, ""},
    {"whisper", "Whisper", RuntimeKind::kEngine, kWhisper, kWhisperPorts, {}, ""},
    {"llama.cpp", "llama.cpp", RuntimeKind::kEngine, kLlamaCpp, kLlamaCppPorts, kLlamaCppProbes, ""},
    {"onnxruntime", "ONNX Runtime", RuntimeKind::kFramework, kOnnx, {}, {}, ""},
    {"pytorch", "PyTorch", RuntimeKind::kFramework, kTorch, {}, {}, ""},
    {"directml", "DirectML", RuntimeKind::kFramework, kDirectMl, {}, {},
     "Windows only (a DirectX 12 API); on Linux only WSL's libdirectml.so is visible and its "
     "VRAM cannot be attributed per process"},
};

constexpr AcceleratorRule kAccelerators[] = {
    {"libonnxruntime_providers_cuda", "ONNX Runtime CUDA EP"},
    {"libonnxruntime_providers_tensorrt", "ONNX Runtime TensorRT EP"},
    {"libonnxruntime_providers_rocm", "ONNX Runtime ROCm EP"},
    {"libonnxruntime_providers_migraphx", "ONNX Runtime MIGraphX EP"},
    {"libonnxruntime_providers_openvino", "ONNX Runtime OpenVINO EP"},
    {"libcuda.so", "CUDA"},
    {"libcudart", "CUDA"},
    {"libggml-cuda", "CUDA"},
    {"libtorch_cuda", "CUDA"},
    {"koboldcpp_cublas", "CUDA"},
    {"ggml-cuda", "CUDA"},
    {"libamdhip64", "ROCm"},
    {"libhsa-runtime64", "ROCm"},
    {"libggml-hip", "ROCm"},
    {"libtorch_hip", "ROCm"},
    {"koboldcpp_hipblas", "ROCm"},
    {"libggml-vulkan", "Vulkan"},
    {"koboldcpp_vulkan", "Vulkan"},
    {"libggml-sycl", "SYCL"},
    {"libze_loader", "SYCL"},
    {"libnvinfer", "TensorRT"},
    {"libopenvino", "OpenVINO"},
};

}  // namespace

std::span<const RuntimeSignature> runtime_signatures() { return kSignatures; }
std::span<const AcceleratorRule> accelerator_rules() { return kAccelerators; }

const RuntimeSignature* find_signature(std::string_view id) {
  for (const auto& s : kSignatures)
    if (s.id == id) return &s;
  return nullptr;
}

}  // namespace memopt::detect

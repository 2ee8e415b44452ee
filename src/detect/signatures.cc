// Libraries that name the accelerator a workload uses. The confidences of the
// runtimes' own signals are in their descriptors (src/runtimes/*.cc); their
// scale: 0.95 the runtime's own program, subcommand or process title; 0.9 its
// own library or install path; 0.8 a library forks and embedders share
// (libllama); 0.7 a general framework's library (torch, onnxruntime). Program
// names are matched whole, never a bare "server" or "main".
#include "detect/signatures.h"

namespace memopt::detect {
namespace {

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
    // Windows names (no "lib"; ggml-cuda is above).
    {"onnxruntime_providers_cuda", "ONNX Runtime CUDA EP"},
    {"onnxruntime_providers_tensorrt", "ONNX Runtime TensorRT EP"},
    {"onnxruntime_providers_dml", "DirectML"},
    {"DirectML", "DirectML"},
    {"cudart64_", "CUDA"},
    {"nvcuda.dll", "CUDA"},
    {"torch_cuda.dll", "CUDA"},
    {"ggml-hip", "ROCm"},
    {"ggml-vulkan", "Vulkan"},
};

}  // namespace

std::span<const AcceleratorRule> accelerator_rules() { return kAccelerators; }

}  // namespace memopt::detect

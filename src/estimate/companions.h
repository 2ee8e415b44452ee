#pragma once
// Companions llama-server loads beside a model, in the same process and on
// the same devices: LoRA adapters (--lora) and a vision/audio projector
// (--mmproj). The third companion, a speculative draft model (-md), is a
// model like any other and is estimated by estimate_memory_requirements
// (placement.h places it). Pure: values in, values out.
#include <cstdint>
#include <string>
#include <vector>

#include "estimate/memory_estimate.h"
#include "gguf/model_info.h"
#include "gguf/reader.h"
#include "util/result.h"

namespace memopt::estimate {

// A LoRA adapter's weights where llama.cpp puts them
// (src/llama-adapter.cpp llama_adapter_lora_init_impl): each lora_a/lora_b
// pair is allocated in the buffer type of the base tensor it modifies, so
// blk.N pairs live with layer N, and the CPU's repack buffers are replaced by
// the plain CPU buffer (same bytes on the host).
struct AdapterWeights {
  std::string path;
  double alpha = 0;           // adapter.lora.alpha (0: absent, llama.cpp then scales by 1)
  uint64_t tensor_count = 0;  // lora_a + lora_b tensors
  uint64_t bytes = 0;         // their data, unpadded (the file's payload)
  std::vector<uint64_t> layer_host,
      layer_gpu;                             // per base layer, padded per backend
  uint64_t token_embd_host = 0;              // the input layer is always on the host
  uint64_t output_host = 0, output_gpu = 0;  // with the output layer
  uint64_t host_bytes() const;               // every pair on the host (ngl 0)
};

// Checks the adapter the way llama.cpp does before it loads one
// (general.type "adapter", adapter.type "lora", the base model's
// architecture, every pair complete, every base tensor present, shapes
// that multiply) and sizes it. `adapter` is the adapter file's header.
Result<AdapterWeights> adapter_weights(const gguf::GgufFile &adapter, const gguf::ModelInfo &base,
                                       const GpuTraits &gpu);

// Adds the adapter's tensors to the layers they attach to, so that every
// placement the planner tries carries them with their layer.
void attach_adapter(ModelCosts &costs, const AdapterWeights &adapter);

// A vision or audio projector (mmproj; clip.* metadata) as llama-server's
// mtmd loads it: every tensor in one buffer on the main GPU (or on the host
// with --no-mmproj-offload), plus the encoder's compute buffer for one input.
struct ProjectorCosts {
  std::string path;
  std::string projector_type;  // clip.projector_type
  uint64_t weights_host = 0, weights_gpu = 0;
  uint64_t compute_bytes = 0;
  // Whether compute_bytes was checked against llama.cpp. It is not:
  // node-llama-cpp 3.21.1 cannot load a projector, so the figure is an upper
  // bound of ours alone (see projector_costs).
  bool compute_checked = false;
  uint32_t image_size = 0,
           patch_size = 0;  // vision input the compute is sized for
  uint64_t positions = 0;   // encoder positions (patches + class token)
  bool audio = false;       // audio encoder (whisper-style, 1500 positions)
};

// How the projector's compute figure is labelled in text and JSON.
inline constexpr const char *kProjectorComputeLabel =
    "unchecked: node-llama-cpp 3.21.1 cannot load a projector, so this upper "
    "bound was "
    "not compared with llama.cpp";

// Sizes a projector from its header. The weights are exact (the tensor table);
// the compute buffer is an upper bound of a ViT forward pass at
// clip.vision.image_size (attention scores and softmax for every head at
// once, four activations of the widest projection, the f32 input image),
// or of a 30 s whisper window for an audio encoder.
Result<ProjectorCosts> projector_costs(const gguf::GgufFile &mmproj, const GpuTraits &gpu);

}  // namespace memopt::estimate

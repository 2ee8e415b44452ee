#include "estimate/companions.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>

namespace memopt::estimate {
namespace {

uint64_t pad(uint64_t x, uint64_t n) { return (x + n - 1) / n * n; }

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

std::string shape_text(const std::vector<uint64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// A metadata number, bounded so that the products below cannot overflow.
Result<uint64_t> bounded(const gguf::GgufFile &f, std::string_view key, uint64_t lo, uint64_t hi) {
  auto v = f.get_uint(key);
  if (!v) return make_error(fmt::format("{}: {} is missing or not a whole number", f.path, key));
  if (*v < lo || *v > hi) {
    return make_error(fmt::format("{}: {} is {}, outside {}..{}", f.path, key, *v, lo, hi));
  }
  return *v;
}

}  // namespace

uint64_t AdapterWeights::host_bytes() const {
  uint64_t sum = token_embd_host + output_host;
  for (uint64_t b : layer_host) sum += b;
  return sum;
}

Result<AdapterWeights> adapter_weights(const gguf::GgufFile &adapter, const gguf::ModelInfo &base,
                                       const GpuTraits &gpu) {
  const std::string &where = adapter.path;
  const auto general_type = adapter.get_string("general.type");
  if (!general_type || *general_type != "adapter") {
    return make_error(
        fmt::format("{} is not an adapter (general.type is '{}', llama.cpp wants "
                    "'adapter')",
                    where, general_type.value_or("")));
  }
  const auto adapter_type = adapter.get_string("adapter.type");
  if (!adapter_type || *adapter_type != "lora") {
    return make_error(fmt::format("{} is not a LoRA adapter (adapter.type is '{}')", where,
                                  adapter_type.value_or("")));
  }
  const auto arch = adapter.get_string("general.architecture").value_or("");
  if (arch != base.architecture) {
    return make_error(
        fmt::format("{} is a LoRA for '{}' but the model is '{}'; llama.cpp "
                    "refuses it",
                    where, arch, base.architecture));
  }
  AdapterWeights a;
  a.path = where;
  if (const gguf::Value *v = adapter.find("adapter.lora.alpha"))
    a.alpha = v->as_double().value_or(0);
  a.layer_host.assign(base.block_count, 0);
  a.layer_gpu.assign(base.block_count, 0);

  std::map<std::string_view, const gguf::TensorInfo *> base_tensors;
  for (const auto &t : base.tensors) base_tensors[t.name] = &t;
  // lora_a / lora_b by the base tensor they modify.
  std::map<std::string, std::pair<const gguf::TensorInfo *, const gguf::TensorInfo *>> pairs;
  for (const auto &t : adapter.tensors) {
    const bool is_a = ends_with(t.name, ".lora_a"), is_b = ends_with(t.name, ".lora_b");
    if (!is_a && !is_b) {
      return make_error(
          fmt::format("{}: tensor '{}' is neither a lora_a nor a lora_b", where, t.name));
    }
    auto &p = pairs[t.name.substr(0, t.name.size() - 7)];
    (is_a ? p.first : p.second) = &t;
  }
  for (const auto &[name, p] : pairs) {
    if (!p.first || !p.second) {
      return make_error(fmt::format("{}: '{}' has a lora_{} but no lora_{}", where, name,
                                    p.first ? "a" : "b", p.first ? "b" : "a"));
    }
    auto it = base_tensors.find(name);
    if (it == base_tensors.end()) {
      return make_error(
          fmt::format("{}: the model has no tensor '{}' for this adapter (another "
                      "base model?)",
                      where, name));
    }
    const gguf::TensorInfo &w = *it->second;
    const auto &A = p.first->shape;
    const auto &B = p.second->shape;
    // llama-adapter.cpp: token_embd's pair is stored flipped
    // (llm_build_inp_embd).
    const bool embd = name == "token_embd.weight";
    const bool shapes_ok = A.size() >= 2 && B.size() >= 2 && w.shape.size() >= 2 &&
                           (embd ? w.shape[0] == B[1] && w.shape[1] == A[1]
                                 : w.shape[0] == A[0] && w.shape[1] == B[1] && A[1] == B[0]);
    if (!shapes_ok) {
      return make_error(
          fmt::format("{}: '{}' has lora_a {} and lora_b {}, which do not fit the "
                      "model's {} (another base model?)",
                      where, name, shape_text(A), shape_text(B), shape_text(w.shape)));
    }
    for (const gguf::TensorInfo *t : {p.first, p.second}) {
      a.tensor_count += 1;
      a.bytes += t->size_bytes;
      const uint64_t host = pad(t->size_bytes, kCpuAlignment);
      const uint64_t dev = gpu_tensor_bytes(*t, gpu);
      if (w.layer >= 0 && static_cast<uint32_t>(w.layer) < base.block_count) {
        a.layer_host[w.layer] += host;
        a.layer_gpu[w.layer] += dev;
      } else if (name.rfind("output", 0) == 0) {
        a.output_host += host;
        a.output_gpu += dev;
      } else {
        a.token_embd_host += host;  // the input layer and anything else outside the layers
      }
    }
  }
  if (a.tensor_count == 0)
    return make_error(fmt::format("{}: the adapter holds no tensors", where));
  return a;
}

void attach_adapter(ModelCosts &costs, const AdapterWeights &adapter) {
  const size_t n = std::min(costs.layers.size(), adapter.layer_host.size());
  for (size_t il = 0; il < n; ++il) {
    costs.layers[il].weights_host += adapter.layer_host[il];
    costs.layers[il].weights_gpu += adapter.layer_gpu[il];
  }
  costs.token_embd_host += adapter.token_embd_host;
  costs.output_host += adapter.output_host;
  costs.output_gpu += adapter.output_gpu;
}

Result<ProjectorCosts> projector_costs(const gguf::GgufFile &mmproj, const GpuTraits &gpu) {
  ProjectorCosts p;
  p.path = mmproj.path;
  p.projector_type = std::string(mmproj.get_string("clip.projector_type").value_or(""));
  for (const auto &t : mmproj.tensors) {
    p.weights_host += pad(t.size_bytes, kCpuAlignment);
    p.weights_gpu += gpu_tensor_bytes(t, gpu);
  }
  // The widest activations of one encoder pass, f32 (clip.cpp build_vit /
  // whisper encoder): attention scores and their softmax for every head at
  // once (no flash attention assumed), four tensors of the widest projection
  // (residual, norm, FFN up and its activation), and the input itself.
  uint64_t n_head = 0, width = 0, input_floats = 0;
  if (mmproj.find("clip.vision.image_size")) {
    auto image = bounded(mmproj, "clip.vision.image_size", 1, 16384);
    if (!image) return image.error();
    auto patch = bounded(mmproj, "clip.vision.patch_size", 1, *image);
    if (!patch) return patch.error();
    auto head = bounded(mmproj, "clip.vision.attention.head_count", 1, 4096);
    if (!head) return head.error();
    auto embd = bounded(mmproj, "clip.vision.embedding_length", 1, 1 << 20);
    if (!embd) return embd.error();
    auto ff = bounded(mmproj, "clip.vision.feed_forward_length", 1, 1 << 22);
    if (!ff) return ff.error();
    p.image_size = static_cast<uint32_t>(*image);
    p.patch_size = static_cast<uint32_t>(*patch);
    const uint64_t side = *image / *patch;
    p.positions = side * side + 1;
    n_head = *head;
    width = std::max(*embd, *ff);
    input_floats = 3 * *image * *image;
  } else if (mmproj.find("clip.audio.embedding_length")) {
    // Whisper-style encoders see a 30 s window: 3000 mel frames, halved by
    // the convolution stem to 1500 positions.
    auto head = bounded(mmproj, "clip.audio.attention.head_count", 1, 4096);
    if (!head) return head.error();
    auto embd = bounded(mmproj, "clip.audio.embedding_length", 1, 1 << 20);
    if (!embd) return embd.error();
    auto ff = bounded(mmproj, "clip.audio.feed_forward_length", 1, 1 << 22);
    if (!ff) return ff.error();
    const uint64_t mels = mmproj.get_uint("clip.audio.num_mel_bins").value_or(128);
    p.audio = true;
    p.positions = 1500;
    n_head = *head;
    width = std::max(*embd, *ff);
    input_floats = std::min<uint64_t>(mels, 1024) * 3000;
  } else {
    return make_error(
        fmt::format("{} has neither clip.vision.image_size nor "
                    "clip.audio.embedding_length: not a projector llama.cpp loads",
                    mmproj.path));
  }
  p.compute_bytes =
      4 * (2 * n_head * p.positions * p.positions + 4 * p.positions * width + input_floats);
  return p;
}

}  // namespace memopt::estimate

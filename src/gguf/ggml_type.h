#pragma once
// The ggml tensor type table (ggml.h / ggml-common.h, Aug 2026: GGML_TYPE_COUNT
// = 43): block size in elements and bytes per block, so a tensor's exact byte
// size follows from its shape. Removed ids (4, 5, 31-33, 36-38) are unknown.
#include <cstdint>
#include <optional>
#include <string_view>

namespace memopt::gguf {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21,
  IQ2_S = 22, IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28,
  IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40,
  Q1_0 = 41, Q2_0 = 42,
};

inline constexpr uint32_t kGgmlTypeCount = 43;

struct GgmlTypeTraits {
  std::string_view name;  // as ggml names it: "q4_K", "f16", "bf16"...
  uint32_t block_elements;
  uint32_t block_bytes;
  bool quantized;
};

// Traits of a known type id; nullopt for removed or unknown ids.
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t type_id);

// Bytes of one row of `n_elements` (ggml_row_size); nullopt when the type is
// unknown or n_elements is not a multiple of the block size.
std::optional<uint64_t> ggml_row_bytes(uint32_t type_id, uint64_t n_elements);

// Parses a cache-type name as llama.cpp's -ctk/-ctv accept it ("f16", "q8_0").
std::optional<GgmlType> ggml_type_from_name(std::string_view name);

}  // namespace memopt::gguf

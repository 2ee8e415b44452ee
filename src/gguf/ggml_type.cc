#include "gguf/ggml_type.h"

#include <array>

namespace memopt::gguf {
namespace {

// Indexed by type id; block_elements == 0 marks a removed id.
constexpr std::array<GgmlTypeTraits, kGgmlTypeCount> kTraits = {{
    {"f32", 1, 4, false},       // 0
    {"f16", 1, 2, false},       // 1
    {"q4_0", 32, 18, true},     // 2
    {"q4_1", 32, 20, true},     // 3
    {"", 0, 0, false},          // 4 (Q4_2, removed)
    {"", 0, 0, false},          // 5 (Q4_3, removed)
    {"q5_0", 32, 22, true},     // 6
    {"q5_1", 32, 24, true},     // 7
    {"q8_0", 32, 34, true},     // 8
    {"q8_1", 32, 36, true},     // 9
    {"q2_K", 256, 84, true},    // 10
    {"q3_K", 256, 110, true},   // 11
    {"q4_K", 256, 144, true},   // 12
    {"q5_K", 256, 176, true},   // 13
    {"q6_K", 256, 210, true},   // 14
    {"q8_K", 256, 292, true},   // 15
    {"iq2_xxs", 256, 66, true}, // 16
    {"iq2_xs", 256, 74, true},  // 17
    {"iq3_xxs", 256, 98, true}, // 18
    {"iq1_s", 256, 50, true},   // 19
    {"iq4_nl", 32, 18, true},   // 20
    {"iq3_s", 256, 110, true},  // 21
    {"iq2_s", 256, 82, true},   // 22
    {"iq4_xs", 256, 136, true}, // 23
    {"i8", 1, 1, false},        // 24
    {"i16", 1, 2, false},       // 25
    {"i32", 1, 4, false},       // 26
    {"i64", 1, 8, false},       // 27
    {"f64", 1, 8, false},       // 28
    {"iq1_m", 256, 56, true},   // 29
    {"bf16", 1, 2, false},      // 30
    {"", 0, 0, false},          // 31 (Q4_0_4_4, removed: runtime repack)
    {"", 0, 0, false},          // 32 (Q4_0_4_8, removed)
    {"", 0, 0, false},          // 33 (Q4_0_8_8, removed)
    {"tq1_0", 256, 54, true},   // 34
    {"tq2_0", 256, 66, true},   // 35
    {"", 0, 0, false},          // 36 (IQ4_NL_4_4, removed)
    {"", 0, 0, false},          // 37 (IQ4_NL_4_8, removed)
    {"", 0, 0, false},          // 38 (IQ4_NL_8_8, removed)
    {"mxfp4", 32, 17, true},    // 39
    {"nvfp4", 64, 36, true},    // 40
    {"q1_0", 128, 18, true},    // 41
    {"q2_0", 64, 18, true},     // 42
}};

}  // namespace

std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t type_id) {
  if (type_id >= kGgmlTypeCount || kTraits[type_id].block_elements == 0) return std::nullopt;
  return kTraits[type_id];
}

std::optional<uint64_t> ggml_row_bytes(uint32_t type_id, uint64_t n_elements) {
  auto t = ggml_type_traits(type_id);
  if (!t || n_elements % t->block_elements != 0) return std::nullopt;
  return n_elements / t->block_elements * t->block_bytes;
}

std::optional<GgmlType> ggml_type_from_name(std::string_view name) {
  for (uint32_t id = 0; id < kGgmlTypeCount; ++id) {
    const auto& t = kTraits[id];
    if (t.block_elements == 0) continue;
    if (t.name.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size(); ++i) {
      char a = t.name[i], b = name[i];
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
      if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
      if (a != b) { eq = false; break; }
    }
    if (eq) return static_cast<GgmlType>(id);
  }
  return std::nullopt;
}

}  // namespace memopt::gguf

// libFuzzer target for the GGUF reader: any byte string must parse or give an
// Error, never crash, hang or allocate more than the input; what parses must
// also survive get_model_info's derivation and every accessor.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/model_info.h"
#include "gguf/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memopt::gguf;
  auto f = parse_gguf(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.gguf");
  if (!f) return 0;
  uint64_t sink = 0;
  for (const auto& e : f->metadata) {
    const Value& v = e.value;
    if (!v.is_array()) {
      sink += v.as_uint().value_or(0) + v.as_string().value_or("").size();
      continue;
    }
    for (uint64_t i = 0; i < v.size() && i < 64; ++i) {
      if (v.elem_type() == ValueType::STRING)
        sink += v.string_at(i).size();
      else if (v.elem_type() == ValueType::ARRAY)
        sink += v.item(i).size();
      else
        sink += static_cast<uint64_t>(v.double_at(i).value_or(0) != 0);
    }
  }
  for (const auto& t : f->tensors) {
    // The reader promised every tensor lies inside the input.
    if (t.offset > size || t.size_bytes > size - t.offset) __builtin_trap();
  }
  std::vector<GgufFile> parts;
  parts.push_back(std::move(*f));
  auto info = model_info_from_files(parts);
  if (info) sink += info->parameter_count + info->layer_weight_bytes.size();
  return sink == 42 ? 0 : 0;
}

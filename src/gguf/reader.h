#pragma once
// GgufFile: the header of one GGUF file (v2/v3, little-endian): metadata,
// tensor table, alignment and data offset. Only the header region is read
// (pread, grown on demand), never the weights, and every count, length and
// offset is checked against the file size and sane limits before it is used,
// so a hostile file yields an Error naming the file, the byte offset and what
// was wrong. Format: ggml/docs/gguf.md, ggml/src/gguf.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/model_info.h"
#include "util/result.h"

namespace memopt::gguf {

// gguf_type: metadata value type ids.
enum class ValueType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
std::string_view value_type_name(ValueType t);  // "u32", "string", "array"...

// One metadata value. Arrays of scalars and of strings keep their payload as
// one byte block (one copy, no allocation per item) so a 150k-token vocabulary
// costs two allocations; nested arrays hold their items as Values.
class Value {
 public:
  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::ARRAY; }

  // Scalars (for a non-array value). Integer accessors convert between
  // integer types when the value fits; bool counts as an integer 0/1.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_double() const;  // any number
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_string() const;

  // Arrays.
  ValueType elem_type() const { return elem_; }
  uint64_t size() const { return count_; }
  std::optional<uint64_t> uint_at(uint64_t i) const;
  std::optional<int64_t> int_at(uint64_t i) const;
  std::optional<double> double_at(uint64_t i) const;
  std::string_view string_at(uint64_t i) const;                 // elem_type STRING
  const Value& item(uint64_t i) const { return items_.at(i); }  // elem_type ARRAY

 private:
  friend class Parser;
  static std::optional<uint64_t> scalar_uint(ValueType t, const char* p);
  static std::optional<int64_t> scalar_int(ValueType t, const char* p);
  static std::optional<double> scalar_double(ValueType t, const char* p);

  ValueType type_ = ValueType::U8;
  ValueType elem_ = ValueType::U8;
  uint64_t count_ = 0;
  char scalar_[8] = {};                // raw little-endian scalar
  std::string bytes_;                  // string value, or an array's payload
  std::vector<uint64_t> str_offsets_;  // string arrays: offset of each item's length prefix
  std::vector<Value> items_;           // arrays of arrays
};

struct MetadataEntry {
  std::string key;
  Value value;
  uint64_t offset = 0;  // byte offset of the key in the file
};

// Limits beyond the file size; defaults follow ggml (GGML_MAX_DIMS,
// GGML_MAX_NAME) and the GGUF spec (keys up to 65535 bytes).
struct ReadLimits {
  uint32_t max_array_nesting = 8;
  uint64_t max_key_bytes = 65535;
  uint64_t max_tensor_name_bytes = 63;
  uint32_t max_dims = 4;
  // Far beyond real models (hundreds of keys, a few thousand tensors); keeps
  // memory bounded when a large file claims absurd counts.
  uint64_t max_kv_count = 1u << 20;
  uint64_t max_tensor_count = 1u << 20;
};

class GgufFile {
 public:
  std::string path;
  uint32_t version = 0;
  uint64_t file_bytes = 0;
  uint64_t tensor_info_end = 0;  // end of the header (before padding)
  uint32_t alignment = 32;
  uint64_t data_offset = 0;             // absolute start of the data section
  std::vector<MetadataEntry> metadata;  // file order
  std::vector<TensorInfo> tensors;      // file order; offset is absolute

  const Value* find(std::string_view key) const;
  // Typed getters: nullopt when absent or of another kind.
  std::optional<uint64_t> get_uint(std::string_view key) const;
  std::optional<std::string_view> get_string(std::string_view key) const;

 private:
  friend class Parser;
  std::unordered_map<std::string, size_t> index_;  // key -> position in metadata
};

// Reads the header of the GGUF file at `path`.
Result<GgufFile> read_gguf(const std::string& path, const ReadLimits& limits = {});
// Parses a GGUF image held in memory (`name` is used in messages).
Result<GgufFile> parse_gguf(std::string_view bytes, const std::string& name,
                            const ReadLimits& limits = {});

// "blk.N.*" -> N, otherwise -1.
int layer_of_tensor(std::string_view name);

}  // namespace memopt::gguf

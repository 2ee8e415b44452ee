#pragma once
// GgufWriter: builds GGUF files for tests only. It writes well-formed v2/v3
// files (every metadata value type, tensors with exact ggml sizes at aligned
// offsets, real f32/f16 data that llama.cpp can load) and, through explicit
// override hooks, every kind of malformed file the reader must reject.
// Layout follows ggml/docs/gguf.md: header, key/value pairs, tensor infos,
// padding to general.alignment, then the data section.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace memopt::testing {

// gguf_type: the value type ids stored in the file.
enum class GgufValueType : uint32_t {
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

// One metadata value (scalar, string or array, arrays may nest).
struct GgufValue {
  GgufValueType type = GgufValueType::U32;
  uint64_t u = 0;                                // unsigned scalars and bool
  int64_t i = 0;                                 // signed scalars
  double f = 0;                                  // f32 / f64
  std::string s;                                 // string
  GgufValueType elem_type = GgufValueType::U32;  // arrays
  std::vector<GgufValue> items;                  // arrays

  // Malformed-file hooks: written instead of the true values.
  std::optional<uint32_t> raw_type;       // value type id
  std::optional<uint32_t> raw_elem_type;  // array element type id
  std::optional<uint64_t> raw_length;     // string length or array count

  static GgufValue u8(uint8_t v);
  static GgufValue i8(int8_t v);
  static GgufValue u16(uint16_t v);
  static GgufValue i16(int16_t v);
  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue i64(int64_t v);
  static GgufValue f32(float v);
  static GgufValue f64(double v);
  static GgufValue boolean(bool v);
  static GgufValue str(std::string v);
  // An array whose items all have type `elem` (items must match it).
  static GgufValue array(GgufValueType elem, std::vector<GgufValue> items);
  static GgufValue array_u32(const std::vector<uint32_t>& v);
  static GgufValue array_i32(const std::vector<int32_t>& v);
  static GgufValue array_f32(const std::vector<float>& v);
  static GgufValue array_bool(const std::vector<bool>& v);
  static GgufValue array_str(const std::vector<std::string>& v);
};

// How a tensor's data is produced.
enum class TensorFill {
  kPattern,  // deterministic small values (floats in [-0.05, 0.05], ints 0..7, quants zero)
  kZero,     // zeros (write_file leaves a hole, so big files stay sparse)
  kBytes,    // the bytes given
};

struct GgufTensorSpec {
  std::string name;
  std::vector<uint64_t> shape;  // ne[0..n)
  uint32_t type = 0;            // ggml type id
  TensorFill fill = TensorFill::kPattern;
  std::string bytes;  // kBytes: exactly the tensor's size

  // Malformed-file hooks.
  std::optional<uint64_t> raw_name_length;
  std::optional<uint32_t> raw_n_dims;
  std::optional<std::vector<uint64_t>> raw_shape;  // dims written instead of `shape`
  std::optional<uint64_t> raw_offset;              // relative to the data section
  std::optional<uint32_t> raw_type;                // written instead of `type`
};

struct GgufKv {
  std::string key;
  GgufValue value;
  std::optional<uint64_t> raw_key_length;
};

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3) : version_(version) {}

  GgufWriter& set_version(uint32_t v) {
    version_ = v;
    return *this;
  }
  // Sets general.alignment (u32) and pads offsets to it. Default 32.
  GgufWriter& set_alignment(uint32_t alignment);
  // Writes every integer big-endian (what a big-endian GGUF looks like).
  GgufWriter& set_big_endian(bool be) {
    big_endian_ = be;
    return *this;
  }

  GgufWriter& kv(std::string key, GgufValue value);
  GgufWriter& kv_u32(std::string key, uint32_t v) { return kv(std::move(key), GgufValue::u32(v)); }
  GgufWriter& kv_u64(std::string key, uint64_t v) { return kv(std::move(key), GgufValue::u64(v)); }
  GgufWriter& kv_f32(std::string key, float v) { return kv(std::move(key), GgufValue::f32(v)); }
  GgufWriter& kv_bool(std::string key, bool v) { return kv(std::move(key), GgufValue::boolean(v)); }
  GgufWriter& kv_str(std::string key, std::string v) {
    return kv(std::move(key), GgufValue::str(std::move(v)));
  }
  // The last added key/value, for malformed-file hooks.
  GgufKv& last_kv() { return kvs_.back(); }

  GgufWriter& tensor(std::string name, std::vector<uint64_t> shape, uint32_t type,
                     TensorFill fill = TensorFill::kPattern);
  GgufWriter& tensor_bytes(std::string name, std::vector<uint64_t> shape, uint32_t type,
                           std::string bytes);
  // Real values: f32 (type 0) or converted to f16 (type 1) / bf16 (type 30).
  GgufWriter& tensor_values(std::string name, std::vector<uint64_t> shape, uint32_t type,
                            const std::vector<float>& values);
  // Adds a tensor described by a spec (e.g. copied from another writer).
  GgufWriter& tensor_spec(GgufTensorSpec spec);
  GgufTensorSpec& last_tensor() { return tensors_.back(); }

  // Malformed-file hooks for the header.
  std::optional<std::string> raw_magic;  // 4 bytes instead of "GGUF"
  std::optional<uint64_t> raw_tensor_count;
  std::optional<uint64_t> raw_kv_count;
  std::optional<uint64_t> extra_data_bytes;  // bytes appended after the data section

  // Exact layout, computed from the specs (independent of raw_* overrides).
  uint32_t alignment() const { return alignment_; }
  uint64_t tensor_size_bytes(size_t i) const;  // throws std::invalid_argument on bad shape/type
  uint64_t tensor_offset(size_t i) const;      // relative to the data section
  uint64_t header_bytes() const;               // bytes before padding to the data section
  uint64_t data_offset() const;                // absolute start of the data section
  uint64_t file_bytes() const;

  // The whole file in memory (small files).
  std::string build() const;
  // Writes the file; zero-filled tensors become holes, so huge files are cheap.
  Status write_file(const std::string& path) const;

  const std::vector<GgufKv>& kvs() const { return kvs_; }
  const std::vector<GgufTensorSpec>& tensors() const { return tensors_; }

 private:
  std::string header() const;
  std::string tensor_data(size_t i) const;

  uint32_t version_;
  uint32_t alignment_ = 32;
  bool big_endian_ = false;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorSpec> tensors_;
};

// IEEE half conversion (round to nearest even), used for f16 tensors.
uint16_t float_to_half(float f);
// bf16 by rounding to nearest even.
uint16_t float_to_bf16(float f);

// Writes `bytes` to `path`, replacing it.
Status write_bytes(const std::string& path, const std::string& bytes);

}  // namespace memopt::testing

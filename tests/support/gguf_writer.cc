#include "support/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "gguf/ggml_type.h"

namespace memopt::testing {

// ---- values ----------------------------------------------------------------

namespace {
GgufValue unsigned_value(GgufValueType t, uint64_t v) {
  GgufValue r;
  r.type = t;
  r.u = v;
  return r;
}
GgufValue signed_value(GgufValueType t, int64_t v) {
  GgufValue r;
  r.type = t;
  r.i = v;
  return r;
}
GgufValue float_value(GgufValueType t, double v) {
  GgufValue r;
  r.type = t;
  r.f = v;
  return r;
}
}  // namespace

GgufValue GgufValue::u8(uint8_t v) { return unsigned_value(GgufValueType::U8, v); }
GgufValue GgufValue::u16(uint16_t v) { return unsigned_value(GgufValueType::U16, v); }
GgufValue GgufValue::u32(uint32_t v) { return unsigned_value(GgufValueType::U32, v); }
GgufValue GgufValue::u64(uint64_t v) { return unsigned_value(GgufValueType::U64, v); }
GgufValue GgufValue::boolean(bool v) { return unsigned_value(GgufValueType::BOOL, v ? 1 : 0); }
GgufValue GgufValue::i8(int8_t v) { return signed_value(GgufValueType::I8, v); }
GgufValue GgufValue::i16(int16_t v) { return signed_value(GgufValueType::I16, v); }
GgufValue GgufValue::i32(int32_t v) { return signed_value(GgufValueType::I32, v); }
GgufValue GgufValue::i64(int64_t v) { return signed_value(GgufValueType::I64, v); }
GgufValue GgufValue::f32(float v) { return float_value(GgufValueType::F32, v); }
GgufValue GgufValue::f64(double v) { return float_value(GgufValueType::F64, v); }

GgufValue GgufValue::str(std::string v) {
  GgufValue r;
  r.type = GgufValueType::STRING;
  r.s = std::move(v);
  return r;
}

GgufValue GgufValue::array(GgufValueType elem, std::vector<GgufValue> items) {
  GgufValue r;
  r.type = GgufValueType::ARRAY;
  r.elem_type = elem;
  r.items = std::move(items);
  return r;
}

GgufValue GgufValue::array_u32(const std::vector<uint32_t>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (uint32_t x : v) items.push_back(u32(x));
  return array(GgufValueType::U32, std::move(items));
}
GgufValue GgufValue::array_i32(const std::vector<int32_t>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (int32_t x : v) items.push_back(i32(x));
  return array(GgufValueType::I32, std::move(items));
}
GgufValue GgufValue::array_f32(const std::vector<float>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (float x : v) items.push_back(f32(x));
  return array(GgufValueType::F32, std::move(items));
}
GgufValue GgufValue::array_bool(const std::vector<bool>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (bool x : v) items.push_back(boolean(x));
  return array(GgufValueType::BOOL, std::move(items));
}
GgufValue GgufValue::array_str(const std::vector<std::string>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (const auto& x : v) items.push_back(str(x));
  return array(GgufValueType::STRING, std::move(items));
}

// ---- half precision ----------------------------------------------------------

uint16_t float_to_half(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));  // inf/nan
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);  // underflow -> signed zero
    mant |= 0x800000u;
    const uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;  // may carry into exponent: fine
  return static_cast<uint16_t>(sign | half);
}

uint16_t float_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // nan
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

// ---- serialisation -------------------------------------------------------------

namespace {

class Out {
 public:
  explicit Out(bool big_endian) : be_(big_endian) {}
  void uint(uint64_t v, int bytes) {
    for (int k = 0; k < bytes; ++k) {
      const int shift = be_ ? 8 * (bytes - 1 - k) : 8 * k;
      s_.push_back(static_cast<char>((v >> shift) & 0xffu));
    }
  }
  void raw(const std::string& b) { s_ += b; }
  void str(const std::string& v, std::optional<uint64_t> raw_len) {
    uint(raw_len.value_or(v.size()), 8);
    raw(v);
  }
  std::string& bytes() { return s_; }

 private:
  bool be_;
  std::string s_;
};

void put_value(Out& o, const GgufValue& v, bool with_type) {
  if (with_type) o.uint(v.raw_type.value_or(static_cast<uint32_t>(v.type)), 4);
  switch (v.type) {
    case GgufValueType::U8:
    case GgufValueType::BOOL:
      o.uint(v.u, 1);
      break;
    case GgufValueType::U16:
      o.uint(v.u, 2);
      break;
    case GgufValueType::U32:
      o.uint(v.u, 4);
      break;
    case GgufValueType::U64:
      o.uint(v.u, 8);
      break;
    case GgufValueType::I8:
      o.uint(static_cast<uint64_t>(v.i), 1);
      break;
    case GgufValueType::I16:
      o.uint(static_cast<uint64_t>(v.i), 2);
      break;
    case GgufValueType::I32:
      o.uint(static_cast<uint64_t>(v.i), 4);
      break;
    case GgufValueType::I64:
      o.uint(static_cast<uint64_t>(v.i), 8);
      break;
    case GgufValueType::F32:
      o.uint(std::bit_cast<uint32_t>(static_cast<float>(v.f)), 4);
      break;
    case GgufValueType::F64:
      o.uint(std::bit_cast<uint64_t>(v.f), 8);
      break;
    case GgufValueType::STRING:
      o.str(v.s, v.raw_length);
      break;
    case GgufValueType::ARRAY:
      o.uint(v.raw_elem_type.value_or(static_cast<uint32_t>(v.elem_type)), 4);
      o.uint(v.raw_length.value_or(v.items.size()), 8);
      // Items carry no type of their own; nested arrays carry elem type + count.
      for (const auto& item : v.items) put_value(o, item, false);
      break;
  }
}

uint64_t pad_to(uint64_t n, uint64_t alignment) {
  return alignment <= 1 ? n : (n + alignment - 1) / alignment * alignment;
}

// Deterministic values from a 64-bit LCG (Knuth's MMIX constants).
struct Lcg {
  uint64_t state;
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  }
};

}  // namespace

GgufWriter& GgufWriter::set_alignment(uint32_t alignment) {
  return kv("general.alignment", GgufValue::u32(alignment));
}

GgufWriter& GgufWriter::kv(std::string key, GgufValue value) {
  // As ggml does: a valid general.alignment (u32, power of two) sets the padding.
  if (key == "general.alignment" && value.type == GgufValueType::U32 && value.u != 0 &&
      (value.u & (value.u - 1)) == 0 && !value.raw_type) {
    alignment_ = static_cast<uint32_t>(value.u);
  }
  kvs_.push_back({std::move(key), std::move(value), std::nullopt});
  return *this;
}

GgufWriter& GgufWriter::tensor(std::string name, std::vector<uint64_t> shape, uint32_t type,
                               TensorFill fill) {
  GgufTensorSpec t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.type = type;
  t.fill = fill == TensorFill::kBytes ? TensorFill::kPattern : fill;
  tensors_.push_back(std::move(t));
  try {
    (void)tensor_size_bytes(tensors_.size() - 1);  // rejects bad shapes now, not at build()
  } catch (...) {
    tensors_.pop_back();
    throw;
  }
  return *this;
}

GgufWriter& GgufWriter::tensor_spec(GgufTensorSpec spec) {
  tensors_.push_back(std::move(spec));
  try {
    (void)tensor_size_bytes(tensors_.size() - 1);
  } catch (...) {
    tensors_.pop_back();
    throw;
  }
  return *this;
}

GgufWriter& GgufWriter::tensor_bytes(std::string name, std::vector<uint64_t> shape, uint32_t type,
                                     std::string bytes) {
  GgufTensorSpec t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.type = type;
  t.fill = TensorFill::kBytes;
  t.bytes = std::move(bytes);
  tensors_.push_back(std::move(t));
  uint64_t want = 0;
  try {
    want = tensor_size_bytes(tensors_.size() - 1);
  } catch (...) {
    tensors_.pop_back();
    throw;
  }
  if (want != tensors_.back().bytes.size()) {
    std::string name = tensors_.back().name;
    tensors_.pop_back();
    throw std::invalid_argument("tensor_bytes: " + name +
                                ": byte count does not match shape and type");
  }
  return *this;
}

GgufWriter& GgufWriter::tensor_values(std::string name, std::vector<uint64_t> shape, uint32_t type,
                                      const std::vector<float>& values) {
  std::string bytes;
  Out o(big_endian_);
  for (float v : values) {
    if (type == 0) {
      o.uint(std::bit_cast<uint32_t>(v), 4);
    } else if (type == 1) {
      o.uint(float_to_half(v), 2);
    } else if (type == 30) {
      o.uint(float_to_bf16(v), 2);
    } else {
      throw std::invalid_argument("tensor_values: only f32, f16 and bf16 tensors take values");
    }
  }
  return tensor_bytes(std::move(name), std::move(shape), type, std::move(o.bytes()));
}

uint64_t GgufWriter::tensor_size_bytes(size_t i) const {
  const auto& t = tensors_.at(i);
  if (t.shape.empty()) throw std::invalid_argument("tensor " + t.name + ": empty shape");
  auto row = gguf::ggml_row_bytes(t.type, t.shape[0]);
  if (!row) throw std::invalid_argument("tensor " + t.name + ": bad type or row length");
  uint64_t size = *row;
  for (size_t d = 1; d < t.shape.size(); ++d) size *= t.shape[d];
  return size;
}

uint64_t GgufWriter::tensor_offset(size_t i) const {
  uint64_t off = 0;
  for (size_t j = 0; j < i; ++j) off += pad_to(tensor_size_bytes(j), alignment_);
  return off;
}

std::string GgufWriter::header() const {
  Out o(big_endian_);
  if (raw_magic) {
    o.raw(*raw_magic);
  } else {
    o.raw("GGUF");  // magic bytes; a big-endian file keeps them in this order too
  }
  o.uint(version_, 4);
  o.uint(raw_tensor_count.value_or(tensors_.size()), 8);
  o.uint(raw_kv_count.value_or(kvs_.size()), 8);
  for (const auto& kv : kvs_) {
    o.str(kv.key, kv.raw_key_length);
    put_value(o, kv.value, true);
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    o.str(t.name, t.raw_name_length);
    const std::vector<uint64_t>& dims = t.raw_shape ? *t.raw_shape : t.shape;
    o.uint(t.raw_n_dims.value_or(static_cast<uint32_t>(dims.size())), 4);
    for (uint64_t d : dims) o.uint(d, 8);
    o.uint(t.raw_type.value_or(t.type), 4);
    o.uint(t.raw_offset ? *t.raw_offset : tensor_offset(i), 8);
  }
  return std::move(o.bytes());
}

uint64_t GgufWriter::header_bytes() const { return header().size(); }

uint64_t GgufWriter::data_offset() const { return pad_to(header_bytes(), alignment_); }

uint64_t GgufWriter::file_bytes() const {
  uint64_t total = data_offset();
  if (!tensors_.empty()) {
    const size_t last = tensors_.size() - 1;
    total += tensor_offset(last) + pad_to(tensor_size_bytes(last), alignment_);
  }
  return total + extra_data_bytes.value_or(0);
}

std::string GgufWriter::tensor_data(size_t i) const {
  const auto& t = tensors_[i];
  const uint64_t size = tensor_size_bytes(i);
  if (t.fill == TensorFill::kBytes) return t.bytes;
  std::string out(size, '\0');
  if (t.fill == TensorFill::kZero) return out;
  Lcg rng{0x9e3779b97f4a7c15ull ^ (i + 1)};
  Out o(big_endian_);
  auto small = [&] { return (static_cast<float>(rng.next() % 1001) / 1000.0f - 0.5f) * 0.1f; };
  switch (t.type) {
    case 0:
      for (uint64_t k = 0; k < size / 4; ++k) o.uint(std::bit_cast<uint32_t>(small()), 4);
      break;
    case 1:
      for (uint64_t k = 0; k < size / 2; ++k) o.uint(float_to_half(small()), 2);
      break;
    case 30:
      for (uint64_t k = 0; k < size / 2; ++k) o.uint(float_to_bf16(small()), 2);
      break;
    case 28:
      for (uint64_t k = 0; k < size / 8; ++k)
        o.uint(std::bit_cast<uint64_t>(static_cast<double>(small())), 8);
      break;
    case 24:
    case 25:
    case 26:
    case 27: {
      const auto w = gguf::ggml_type_traits(t.type)->block_bytes;
      for (uint64_t k = 0; k < size / w; ++k) o.uint(rng.next() % 8, static_cast<int>(w));
      break;
    }
    default:
      return out;  // quantized blocks: zeros are valid blocks (scale 0)
  }
  return std::move(o.bytes());
}

std::string GgufWriter::build() const {
  std::string out = header();
  out.resize(pad_to(out.size(), alignment_), '\0');
  for (size_t i = 0; i < tensors_.size(); ++i) {
    out += tensor_data(i);
    out.resize(pad_to(out.size(), alignment_), '\0');
  }
  out.resize(out.size() + extra_data_bytes.value_or(0), '\0');
  return out;
}

namespace {
Status write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return make_error("write " + path + ": " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Ok{};
}
}  // namespace

Status GgufWriter::write_file(const std::string& path) const {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("open " + path + ": " + std::strerror(errno));
  std::string h = header();
  Status st = write_all(fd, h.data(), h.size(), path);
  const uint64_t base = data_offset();
  for (size_t i = 0; st.ok() && i < tensors_.size(); ++i) {
    if (tensors_[i].fill == TensorFill::kZero) continue;  // left as a hole
    std::string d = tensor_data(i);
    if (::lseek(fd, static_cast<off_t>(base + tensor_offset(i)), SEEK_SET) < 0) {
      st = make_error("seek " + path + ": " + std::strerror(errno));
      break;
    }
    st = write_all(fd, d.data(), d.size(), path);
  }
  if (st.ok() && ::ftruncate(fd, static_cast<off_t>(file_bytes())) != 0) {
    st = make_error("truncate " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  return st;
}

Status write_bytes(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("open " + path + ": " + std::strerror(errno));
  Status st = write_all(fd, bytes.data(), bytes.size(), path);
  ::close(fd);
  return st;
}

}  // namespace memopt::testing

#include "gguf/reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>

#include "gguf/ggml_type.h"

namespace memopt::gguf {

// Values are decoded with memcpy; GGUF here is little-endian only.
static_assert(std::endian::native == std::endian::little,
              "the GGUF reader assumes a little-endian host");

namespace {

constexpr uint32_t kValueTypeCount = 13;

// Bytes of one scalar of type t (0 for string/array).
constexpr uint32_t scalar_bytes(ValueType t) {
  switch (t) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::BOOL:
      return 1;
    case ValueType::U16:
    case ValueType::I16:
      return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32:
      return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64:
      return 8;
    default:
      return 0;
  }
}

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// The parser's failure; thrown only inside this file and turned into an
// Error by parse(), so the public API stays Result-based.
struct ParseFailure {
  std::string message;
};

// The file's bytes [0, filled) read so far; pread grows it on demand so only
// the header region is ever read. Memory images are used in place.
class HeaderSource {
 public:
  explicit HeaderSource(std::string_view mem) : mem_(mem), size_(mem.size()) {}
  HeaderSource(int fd, uint64_t size) : fd_(fd), size_(size) {}

  uint64_t size() const { return size_; }
  const char* data() const { return fd_ < 0 ? mem_.data() : buf_.get(); }

  // Makes bytes [0, end) readable; end <= size(). Returns an error text on failure.
  std::string fill(uint64_t end) {
    if (fd_ < 0 || end <= filled_) return {};
    if (end > capacity_) {
      // Reserve address space generously (untouched pages cost nothing, and
      // never more than the file) so the header is read without copies.
      constexpr uint64_t kReserve = 8ull << 20;
      uint64_t cap = std::max<uint64_t>({end, capacity_ * 2, std::min<uint64_t>(size_, kReserve)});
      cap = std::min(cap, size_);
      std::unique_ptr<char[]> bigger(new char[cap]);  // default-initialised: no zeroing
      if (filled_) std::memcpy(bigger.get(), buf_.get(), filled_);
      buf_ = std::move(bigger);
      capacity_ = cap;
    }
    // Read ahead in 1 MiB steps: a header is read in a few syscalls.
    constexpr uint64_t kChunk = 1ull << 20;
    const uint64_t want = std::min(capacity_, std::max(end, filled_ + kChunk));
    while (filled_ < want) {
      ssize_t n = ::pread(fd_, buf_.get() + filled_, want - filled_, static_cast<off_t>(filled_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::string("read failed: ") + std::strerror(errno);
      if (n == 0) {
        if (filled_ >= end) break;
        return fmt::format(
            "the file ended at byte {} while being read (it was {} bytes: did it shrink?)", filled_,
            size_);
      }
      filled_ += static_cast<uint64_t>(n);
    }
    return {};
  }

 private:
  std::string_view mem_;
  int fd_ = -1;
  uint64_t size_;
  std::unique_ptr<char[]> buf_;
  uint64_t capacity_ = 0;
  uint64_t filled_ = 0;
};

}  // namespace

class Parser {
 public:
  Parser(HeaderSource& src, const std::string& name, const ReadLimits& limits)
      : src_(src), name_(name), limits_(limits) {}

  GgufFile run();

 private:
  [[noreturn]] void fail(uint64_t at, const std::string& what) const {
    if (context_.empty()) throw ParseFailure{fmt::format("{}: byte {}: {}", name_, at, what)};
    throw ParseFailure{fmt::format("{}: byte {}: {}: {}", name_, at, context_, what)};
  }

  uint64_t remaining() const { return src_.size() - pos_; }

  // Returns a pointer to the next n bytes and advances; valid until the next take.
  const char* take(uint64_t n, const char* what) {
    if (n > remaining()) {
      fail(pos_, fmt::format("truncated: {} needs {} bytes but the file ends at byte {}", what, n,
                             src_.size()));
    }
    if (std::string err = src_.fill(pos_ + n); !err.empty()) fail(pos_, err);
    const char* p = src_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint32_t u32(const char* what) { return load<uint32_t>(take(4, what)); }
  uint64_t u64(const char* what) { return load<uint64_t>(take(8, what)); }

  // A gguf_string: u64 length + bytes, length checked before anything is allocated.
  std::string string(const char* what, uint64_t max_len) {
    const uint64_t at = pos_;
    const uint64_t len = u64(what);
    if (len > max_len)
      fail(at, fmt::format("{} length {} exceeds the limit of {} bytes", what, len, max_len));
    if (len > remaining()) {
      fail(at, fmt::format("{} length {} runs past the end of the file ({} bytes left)", what, len,
                           remaining()));
    }
    const char* p = take(len, what);
    return std::string(p, len);
  }

  ValueType value_type(const char* what) {
    const uint64_t at = pos_;
    const uint32_t t = u32(what);
    if (t >= kValueTypeCount) fail(at, fmt::format("unknown {} id {}", what, t));
    return static_cast<ValueType>(t);
  }

  void read_value(Value& v, ValueType t, uint32_t depth);
  void read_array(Value& v, uint32_t depth);
  void read_tensor_infos(GgufFile& f, uint64_t count);
  void check_tensor_data(GgufFile& f, const std::vector<uint64_t>& info_at);

  HeaderSource& src_;
  const std::string& name_;
  const ReadLimits& limits_;
  uint64_t pos_ = 0;
  std::string context_;  // "key 'x'" / "tensor 'y'": where in the header we are
};

void Parser::read_value(Value& v, ValueType t, uint32_t depth) {
  v.type_ = t;
  if (uint32_t n = scalar_bytes(t)) {
    std::memcpy(v.scalar_, take(n, "value"), n);
    return;
  }
  if (t == ValueType::STRING) {
    v.bytes_ = string("string", std::numeric_limits<uint64_t>::max());
    return;
  }
  read_array(v, depth + 1);
}

void Parser::read_array(Value& v, uint32_t depth) {
  v.type_ = ValueType::ARRAY;
  const uint64_t at = pos_;
  if (depth > limits_.max_array_nesting) {
    fail(at, fmt::format("arrays nested more than {} levels deep", limits_.max_array_nesting));
  }
  v.elem_ = value_type("array element type");
  const uint64_t count_at = pos_;
  v.count_ = u64("array length");
  const uint32_t elem_bytes = scalar_bytes(v.elem_);
  // The smallest encoding of one item bounds the count by the bytes left.
  const uint64_t min_item = elem_bytes ? elem_bytes : (v.elem_ == ValueType::STRING ? 8 : 12);
  if (v.count_ > remaining() / min_item) {
    fail(count_at, fmt::format("array of {} {} items cannot fit in the {} bytes left in the file",
                               v.count_, value_type_name(v.elem_), remaining()));
  }
  if (elem_bytes) {
    const uint64_t n = v.count_ * elem_bytes;
    const char* p = take(n, "array");
    v.bytes_.assign(p, n);
    return;
  }
  if (v.elem_ == ValueType::STRING) {
    // Walk the lengths (validating each), then copy the whole block once.
    const uint64_t start = pos_;
    v.str_offsets_.reserve(v.count_);
    for (uint64_t i = 0; i < v.count_; ++i) {
      const uint64_t item_at = pos_;
      const uint64_t len = u64("string length");
      if (len > remaining()) {
        fail(item_at, fmt::format("string {} of the array has length {}, past the end of the file "
                                  "({} bytes left)",
                                  i, len, remaining()));
      }
      take(len, "string");
      v.str_offsets_.push_back(item_at - start);
    }
    v.bytes_.assign(src_.data() + start, pos_ - start);
    return;
  }
  // Arrays of arrays: each item is an element type, a count and its items.
  for (uint64_t i = 0; i < v.count_; ++i) {
    v.items_.emplace_back();
    read_array(v.items_.back(), depth + 1);
  }
}

void Parser::read_tensor_infos(GgufFile& f, uint64_t count) {
  std::vector<uint64_t> info_at;
  info_at.reserve(count);
  f.tensors.reserve(std::min<uint64_t>(count, src_.size() / sizeof(TensorInfo)));
  std::unordered_map<std::string, size_t> seen;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t at = pos_;
    context_ = fmt::format("tensor {}", i);
    TensorInfo t;
    t.name = string("tensor name", limits_.max_tensor_name_bytes);
    context_ = fmt::format("tensor '{}'", t.name);
    if (auto [it, fresh] = seen.emplace(t.name, i); !fresh) {
      fail(at, fmt::format("duplicate tensor name (first at tensor {})", it->second));
    }
    const uint64_t dims_at = pos_;
    const uint32_t n_dims = u32("dimension count");
    if (n_dims == 0 || n_dims > limits_.max_dims) {
      fail(dims_at, fmt::format("{} dimensions (expected 1 to {})", n_dims, limits_.max_dims));
    }
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne_at = pos_;
      const uint64_t ne = u64("dimension");
      // ggml keeps ne as int64_t; the element count must fit too.
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (ne != 0 && elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / ne)) {
        fail(ne_at, fmt::format("dimension {} = {} overflows the element count", d, ne));
      }
      elements *= ne;
      t.shape.push_back(ne);
    }
    const uint64_t type_at = pos_;
    t.type = u32("ggml type");
    auto traits = ggml_type_traits(t.type);
    if (!traits) fail(type_at, fmt::format("unknown ggml type id {}", t.type));
    if (t.shape[0] % traits->block_elements != 0) {
      fail(dims_at, fmt::format("row of {} elements is not a multiple of the {} block size {}",
                                t.shape[0], traits->name, traits->block_elements));
    }
    // size = row bytes * rows; rows * row bytes <= elements * 4 < 2^65 only if checked.
    uint64_t size = *ggml_row_bytes(t.type, t.shape[0]);
    for (uint32_t d = 1; d < n_dims; ++d) {
      if (t.shape[d] != 0 && size > std::numeric_limits<uint64_t>::max() / t.shape[d]) {
        fail(dims_at, "tensor byte size overflows 64 bits");
      }
      size *= t.shape[d];
    }
    if (elements == 0) size = 0;
    t.size_bytes = size;
    info_at.push_back(pos_);
    t.offset = u64("tensor offset");  // relative for now
    t.layer = layer_of_tensor(t.name);
    f.tensors.push_back(std::move(t));
  }
  context_.clear();
  f.tensor_info_end = pos_;
  f.data_offset = (pos_ + f.alignment - 1) / f.alignment * f.alignment;
  check_tensor_data(f, info_at);
}

// Every tensor's data must be aligned, inside the file, and disjoint from the others.
void Parser::check_tensor_data(GgufFile& f, const std::vector<uint64_t>& info_at) {
  if (f.tensors.empty()) return;
  if (f.data_offset > f.file_bytes) {
    fail(f.tensor_info_end, fmt::format("the data section would start at byte {}, past the end of "
                                        "the file ({} bytes)",
                                        f.data_offset, f.file_bytes));
  }
  const uint64_t data_bytes = f.file_bytes - f.data_offset;
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    TensorInfo& t = f.tensors[i];
    context_ = fmt::format("tensor '{}'", t.name);
    if (t.offset % f.alignment != 0) {
      fail(info_at[i], fmt::format("data offset {} is not a multiple of the alignment {}", t.offset,
                                   f.alignment));
    }
    if (t.offset > data_bytes || t.size_bytes > data_bytes - t.offset) {
      fail(info_at[i],
           fmt::format("data ({} bytes at data offset {}) lies past the end of the file "
                       "(the data section holds {} bytes)",
                       t.size_bytes, t.offset, data_bytes));
    }
    t.offset += f.data_offset;
  }
  context_.clear();
  std::vector<size_t> order(f.tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return f.tensors[a].offset < f.tensors[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = f.tensors[order[k - 1]];
    const TensorInfo& cur = f.tensors[order[k]];
    if (cur.offset < prev.offset + prev.size_bytes && cur.size_bytes > 0) {
      fail(info_at[order[k]],
           fmt::format("tensor '{}' (bytes {}..{}) overlaps tensor '{}' (bytes {}..{})", cur.name,
                       cur.offset, cur.offset + cur.size_bytes, prev.name, prev.offset,
                       prev.offset + prev.size_bytes));
    }
  }
}

GgufFile Parser::run() {
  GgufFile f;
  f.path = name_;
  f.file_bytes = src_.size();
  const char* magic = take(4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    if (std::memcmp(magic, "FUGG", 4) == 0) fail(0, "big-endian GGUF files are not supported");
    std::string shown;
    for (int k = 0; k < 4; ++k) shown += fmt::format("{:02x}", static_cast<uint8_t>(magic[k]));
    fail(0, fmt::format("not a GGUF file (magic bytes {}, expected 47475546 \"GGUF\")", shown));
  }
  f.version = u32("version");
  if (f.version == 1) {
    fail(4, "GGUF version 1 is not supported (re-convert the model with a current llama.cpp)");
  }
  if (f.version != 0 && (f.version & 0xffffu) == 0) {
    fail(4,
         fmt::format("the version field reads 0x{:08x}: a big-endian GGUF, which is not supported",
                     f.version));
  }
  if (f.version != 2 && f.version != 3) {
    fail(4, fmt::format("GGUF version {} is not supported (this reader knows versions 2 and 3)",
                        f.version));
  }
  const uint64_t tensor_count = u64("tensor count");
  const uint64_t kv_count = u64("metadata count");
  // Smallest encodings: a key/value is 8+0+4+1 bytes, a tensor info 8+4+8+4+8.
  if (tensor_count > remaining() / 32) {
    fail(8, fmt::format("tensor count {} cannot fit in a file of {} bytes", tensor_count,
                        src_.size()));
  }
  if (kv_count > remaining() / 13 || kv_count * 13 + tensor_count * 32 > remaining()) {
    fail(16,
         fmt::format("metadata count {} cannot fit in a file of {} bytes", kv_count, src_.size()));
  }
  if (tensor_count > limits_.max_tensor_count) {
    fail(8, fmt::format("tensor count {} is beyond the limit of {}", tensor_count,
                        limits_.max_tensor_count));
  }
  if (kv_count > limits_.max_kv_count) {
    fail(16, fmt::format("metadata count {} is beyond the limit of {}", kv_count,
                         limits_.max_kv_count));
  }

  // Reserve no more than the file's size; vectors grow as entries really parse.
  f.metadata.reserve(std::min<uint64_t>(kv_count, src_.size() / sizeof(MetadataEntry)));
  for (uint64_t i = 0; i < kv_count; ++i) {
    MetadataEntry e;
    e.offset = pos_;
    context_ = fmt::format("metadata entry {}", i);
    e.key = string("key", limits_.max_key_bytes);
    context_ = fmt::format("key '{}'", e.key);
    if (auto it = f.index_.find(e.key); it != f.index_.end()) {
      fail(e.offset,
           fmt::format("duplicate key (first at byte {})", f.metadata[it->second].offset));
    }
    const ValueType t = value_type("value type");
    read_value(e.value, t, 0);
    f.index_.emplace(e.key, f.metadata.size());
    f.metadata.push_back(std::move(e));
  }
  context_.clear();

  if (const Value* a = f.find("general.alignment")) {
    const uint64_t at = f.metadata[f.index_.at("general.alignment")].offset;
    auto v = a->type() == ValueType::U32 ? a->as_uint() : std::nullopt;
    if (!v) {
      fail(at, fmt::format("general.alignment must be a u32, not {}", value_type_name(a->type())));
    }
    if (*v == 0 || (*v & (*v - 1)) != 0) {
      fail(at, fmt::format("general.alignment {} is not a power of two", *v));
    }
    f.alignment = static_cast<uint32_t>(*v);
  }
  read_tensor_infos(f, tensor_count);
  return f;
}

// ---- public API -------------------------------------------------------------

std::string_view value_type_name(ValueType t) {
  static constexpr std::string_view kNames[kValueTypeCount] = {
      "u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
      "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < kValueTypeCount ? kNames[i] : std::string_view("unknown");
}

std::optional<uint64_t> Value::scalar_uint(ValueType t, const char* p) {
  switch (t) {
    case ValueType::U8:
    case ValueType::BOOL:
      return load<uint8_t>(p);
    case ValueType::U16:
      return load<uint16_t>(p);
    case ValueType::U32:
      return load<uint32_t>(p);
    case ValueType::U64:
      return load<uint64_t>(p);
    case ValueType::I8:
    case ValueType::I16:
    case ValueType::I32:
    case ValueType::I64: {
      auto s = scalar_int(t, p);
      if (s && *s >= 0) return static_cast<uint64_t>(*s);
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<int64_t> Value::scalar_int(ValueType t, const char* p) {
  switch (t) {
    case ValueType::I8:
      return load<int8_t>(p);
    case ValueType::I16:
      return load<int16_t>(p);
    case ValueType::I32:
      return load<int32_t>(p);
    case ValueType::I64:
      return load<int64_t>(p);
    case ValueType::U8:
    case ValueType::BOOL:
    case ValueType::U16:
    case ValueType::U32:
    case ValueType::U64: {
      auto u = scalar_uint(t, p);
      if (u && *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return static_cast<int64_t>(*u);
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<double> Value::scalar_double(ValueType t, const char* p) {
  if (t == ValueType::F32) return load<float>(p);
  if (t == ValueType::F64) return load<double>(p);
  if (t == ValueType::U64) return static_cast<double>(load<uint64_t>(p));
  if (t == ValueType::I64) return static_cast<double>(load<int64_t>(p));
  if (auto i = scalar_int(t, p)) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<uint64_t> Value::as_uint() const { return scalar_uint(type_, scalar_); }
std::optional<int64_t> Value::as_int() const { return scalar_int(type_, scalar_); }
std::optional<double> Value::as_double() const { return scalar_double(type_, scalar_); }
std::optional<bool> Value::as_bool() const {
  if (type_ != ValueType::BOOL) return std::nullopt;
  return scalar_[0] != 0;
}
std::optional<std::string_view> Value::as_string() const {
  if (type_ != ValueType::STRING) return std::nullopt;
  return std::string_view(bytes_);
}

std::optional<uint64_t> Value::uint_at(uint64_t i) const {
  const uint32_t n = scalar_bytes(elem_);
  if (type_ != ValueType::ARRAY || n == 0 || i >= count_) return std::nullopt;
  return scalar_uint(elem_, bytes_.data() + i * n);
}
std::optional<int64_t> Value::int_at(uint64_t i) const {
  const uint32_t n = scalar_bytes(elem_);
  if (type_ != ValueType::ARRAY || n == 0 || i >= count_) return std::nullopt;
  return scalar_int(elem_, bytes_.data() + i * n);
}
std::optional<double> Value::double_at(uint64_t i) const {
  const uint32_t n = scalar_bytes(elem_);
  if (type_ != ValueType::ARRAY || n == 0 || i >= count_) return std::nullopt;
  return scalar_double(elem_, bytes_.data() + i * n);
}
std::string_view Value::string_at(uint64_t i) const {
  if (type_ != ValueType::ARRAY || elem_ != ValueType::STRING || i >= count_) return {};
  const uint64_t off = str_offsets_[i];
  return std::string_view(bytes_.data() + off + 8, load<uint64_t>(bytes_.data() + off));
}

const Value* GgufFile::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &metadata[it->second].value;
}

std::optional<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_uint() : std::nullopt;
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_string() : std::nullopt;
}

namespace {
Result<GgufFile> parse(HeaderSource& src, const std::string& name, const ReadLimits& limits) {
  try {
    Parser p(src, name, limits);
    return p.run();
  } catch (const ParseFailure& e) {
    return make_error(e.message);
  } catch (const std::bad_alloc&) {
    return make_error(name + ": out of memory while reading the GGUF header");
  }
}
}  // namespace

Result<GgufFile> parse_gguf(std::string_view bytes, const std::string& name,
                            const ReadLimits& limits) {
  HeaderSource src(bytes);
  return parse(src, name, limits);
}

Result<GgufFile> read_gguf(const std::string& path, const ReadLimits& limits) {
  // O_NONBLOCK: opening a FIFO must not hang; it is rejected below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return make_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(fmt::format("cannot stat {}: {}", path, std::strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(fmt::format("{}: not a regular file (a GGUF model file was expected)", path));
  }
  HeaderSource src(fd, static_cast<uint64_t>(st.st_size));
  auto r = parse(src, path, limits);
  ::close(fd);
  return r;
}

int layer_of_tensor(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return -1;
  int n = 0;
  size_t i = kPrefix.size();
  const size_t start = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
    if (i - start >= 6) return -1;  // more layers than any model has: not a layer name
    n = n * 10 + (name[i] - '0');
    ++i;
  }
  if (i == start || i >= name.size() || name[i] != '.') return -1;
  return n;
}

}  // namespace memopt::gguf

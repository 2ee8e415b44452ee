// GGUF reader: exact values from writer-made files, and a clear error (file,
// byte offset, what) for every malformed variant the issue lists.
#include "support/temp_dir.h"
#include "gguf/reader.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/gguf_models.h"
#include "support/gguf_writer.h"

namespace memopt::gguf {
namespace {

using testing::GgufValue;
using testing::GgufValueType;
using testing::GgufWriter;
using ::testing::HasSubstr;
using testing::TensorFill;

using testing::TempDir;

Result<GgufFile> parse(const GgufWriter& w) { return parse_gguf(w.build(), "t.gguf"); }

// The error of parsing `w`; fails the test if it parsed.
std::string error_of(const GgufWriter& w) {
  auto r = parse(w);
  EXPECT_FALSE(r.ok()) << "a malformed file parsed";
  return r.ok() ? std::string() : r.error().message;
}

GgufWriter two_tensors() {
  GgufWriter w;
  w.kv_str("general.architecture", "llama");
  w.tensor("a", {64}, 0);
  w.tensor("b", {32, 2}, 1);
  return w;
}

TEST(GgufReader, EveryValueType) {
  GgufWriter w;
  w.kv("u8", GgufValue::u8(200)).kv("i8", GgufValue::i8(-100)).kv("u16", GgufValue::u16(60000));
  w.kv("i16", GgufValue::i16(-30000)).kv("u32", GgufValue::u32(4000000000u));
  w.kv("i32", GgufValue::i32(-2000000000)).kv("f32", GgufValue::f32(0.125f));
  w.kv("bool", GgufValue::boolean(true)).kv("str", GgufValue::str("héllo"));
  w.kv("u64", GgufValue::u64(1ull << 60)).kv("i64", GgufValue::i64(-(1ll << 60)));
  w.kv("f64", GgufValue::f64(-2.5));
  w.kv("strs", GgufValue::array_str({"", "a", "bc"}));
  w.kv("i32s", GgufValue::array_i32({-1, 7}));
  w.kv("bools", GgufValue::array_bool({true, false}));
  w.kv("nested", GgufValue::array(GgufValueType::ARRAY,
                                  {GgufValue::array_u32({1, 2}), GgufValue::array_str({"x"})}));
  auto r = parse(w);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const GgufFile& f = *r;
  EXPECT_EQ(f.version, 3u);
  ASSERT_EQ(f.metadata.size(), 16u);
  EXPECT_EQ(f.metadata[0].key, "u8");
  EXPECT_EQ(f.metadata[0].offset, 24u);
  EXPECT_EQ(f.get_uint("u8"), 200u);
  EXPECT_EQ(f.find("i8")->as_int(), -100);
  EXPECT_EQ(f.find("i8")->as_uint(), std::nullopt);
  EXPECT_EQ(f.get_uint("u16"), 60000u);
  EXPECT_EQ(f.find("i16")->as_int(), -30000);
  EXPECT_EQ(f.get_uint("u32"), 4000000000u);
  EXPECT_EQ(f.find("i32")->as_int(), -2000000000);
  EXPECT_EQ(f.find("f32")->as_double(), 0.125);
  EXPECT_EQ(f.find("f32")->type(), ValueType::F32);
  EXPECT_EQ(f.find("bool")->as_bool(), true);
  EXPECT_EQ(f.get_string("str"), "héllo");
  EXPECT_EQ(f.get_uint("u64"), 1ull << 60);
  EXPECT_EQ(f.find("i64")->as_int(), -(1ll << 60));
  EXPECT_EQ(f.find("f64")->as_double(), -2.5);
  const Value* strs = f.find("strs");
  ASSERT_TRUE(strs->is_array());
  EXPECT_EQ(strs->elem_type(), ValueType::STRING);
  EXPECT_EQ(strs->size(), 3u);
  EXPECT_EQ(strs->string_at(0), "");
  EXPECT_EQ(strs->string_at(2), "bc");
  EXPECT_EQ(f.find("i32s")->int_at(0), -1);
  EXPECT_EQ(f.find("i32s")->uint_at(1), 7u);
  EXPECT_EQ(f.find("bools")->uint_at(0), 1u);
  const Value* nested = f.find("nested");
  EXPECT_EQ(nested->elem_type(), ValueType::ARRAY);
  ASSERT_EQ(nested->size(), 2u);
  EXPECT_EQ(nested->item(0).uint_at(1), 2u);
  EXPECT_EQ(nested->item(1).string_at(0), "x");
  EXPECT_EQ(f.find("missing"), nullptr);
  EXPECT_TRUE(f.tensors.empty());
}

TEST(GgufReader, TensorTableAlignmentAndOffsets) {
  GgufWriter w;
  w.set_alignment(64);
  w.tensor("blk.0.attn_q.weight", {256, 4}, 12);  // q4_K: 4 rows of 144 bytes
  w.tensor("blk.11.ffn_up.weight", {32, 3}, 8);   // q8_0: 3 x 34
  w.tensor("output_norm.weight", {7}, 0);
  const std::string bytes = w.build();
  auto r = parse_gguf(bytes, "t.gguf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const GgufFile& f = *r;
  EXPECT_EQ(f.alignment, 64u);
  EXPECT_EQ(f.data_offset, w.data_offset());
  EXPECT_EQ(f.tensor_info_end, w.header_bytes());
  EXPECT_EQ(f.file_bytes, bytes.size());
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[0].shape, (std::vector<uint64_t>{256, 4}));
  EXPECT_EQ(f.tensors[0].type, 12u);
  EXPECT_EQ(f.tensors[0].size_bytes, 576u);
  EXPECT_EQ(f.tensors[0].offset, w.data_offset());
  EXPECT_EQ(f.tensors[0].layer, 0);
  EXPECT_EQ(f.tensors[1].size_bytes, 102u);
  EXPECT_EQ(f.tensors[1].offset, w.data_offset() + 576);  // 576 is already 64-aligned
  EXPECT_EQ(f.tensors[1].layer, 11);
  EXPECT_EQ(f.tensors[2].size_bytes, 28u);
  EXPECT_EQ(f.tensors[2].offset, w.data_offset() + 576 + 128);
  EXPECT_EQ(f.tensors[2].layer, -1);
}

TEST(GgufReader, ReadsVersion2AndFromDisk) {
  TempDir dir;
  auto w = testing::tiny_model(testing::tiny_llama_gqa());
  w.set_version(2);
  const std::string path = dir.file("v2.gguf");
  ASSERT_TRUE(w.write_file(path).ok());
  auto r = read_gguf(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->path, path);
  EXPECT_EQ(r->tensors.size(), w.tensors().size());
  EXPECT_EQ(r->find("tokenizer.ggml.tokens")->size(), testing::kTinyVocab);
  EXPECT_EQ(r->find("tokenizer.ggml.tokens")->string_at(3), "<0x00>");
  EXPECT_EQ(r->get_string("general.architecture"), "llama");
}

TEST(GgufReader, HugeSparseModelReadsOnlyTheHeader) {
  TempDir dir;
  GgufWriter w;
  w.kv_str("general.architecture", "llama");
  // 2^33 f16 elements: a 16 GiB file made of holes.
  w.tensor("token_embd.weight", {1ull << 16, 1ull << 17}, 1, TensorFill::kZero);
  const std::string path = dir.file("huge.gguf");
  ASSERT_TRUE(w.write_file(path).ok());
  auto r = read_gguf(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->file_bytes, w.data_offset() + (1ull << 34));
  EXPECT_EQ(r->tensors[0].size_bytes, 1ull << 34);
}

TEST(GgufReader, LayerOfTensor) {
  EXPECT_EQ(layer_of_tensor("blk.0.attn_q.weight"), 0);
  EXPECT_EQ(layer_of_tensor("blk.123.ffn_up.weight"), 123);
  EXPECT_EQ(layer_of_tensor("v.blk.1.x"), -1);
  EXPECT_EQ(layer_of_tensor("blk.x.y"), -1);
  EXPECT_EQ(layer_of_tensor("blk.12"), -1);
  EXPECT_EQ(layer_of_tensor("blk.99999999.x"), -1);
}

// ---- malformed files -------------------------------------------------------

TEST(GgufReaderMalformed, NotGguf) {
  GgufWriter w;
  w.raw_magic = "GGML";
  EXPECT_EQ(error_of(w),
            "t.gguf: byte 0: not a GGUF file (magic bytes 47474d4c, expected 47475546 \"GGUF\")");
  auto r = parse_gguf("GG", "short.gguf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "short.gguf: byte 0: truncated: magic needs 4 bytes but the file ends at byte 2");
}

TEST(GgufReaderMalformed, UnsupportedVersions) {
  EXPECT_EQ(error_of(GgufWriter(1)),
            "t.gguf: byte 4: GGUF version 1 is not supported (re-convert the model with a current "
            "llama.cpp)");
  EXPECT_EQ(error_of(GgufWriter(4)),
            "t.gguf: byte 4: GGUF version 4 is not supported (this reader knows versions 2 and 3)");
  GgufWriter be;
  be.set_big_endian(true);
  EXPECT_EQ(error_of(be),
            "t.gguf: byte 4: the version field reads 0x03000000: a big-endian GGUF, which is not "
            "supported");
}

TEST(GgufReaderMalformed, EveryTruncationIsAnErrorNotACrash) {
  auto w = testing::tiny_model(testing::tiny_llama_gqa());
  const std::string full = w.build();
  // Every prefix that cuts the header, and a few that cut the data.
  for (size_t n = 0; n < w.header_bytes(); ++n) {
    auto r = parse_gguf(std::string_view(full).substr(0, n), "cut.gguf");
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_THAT(r.error().message, HasSubstr("cut.gguf: byte "));
  }
  auto r = parse_gguf(std::string_view(full).substr(0, full.size() - 64), "cut.gguf");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("lies past the end of the file"));
  auto mid = parse_gguf(std::string_view(full).substr(0, w.header_bytes() - 3), "cut.gguf");
  EXPECT_EQ(mid.error().message,
            fmt::format(
                "cut.gguf: byte {}: tensor 'blk.1.ffn_down.weight': truncated: tensor offset needs "
                "8 bytes but the file ends at byte {}",
                w.header_bytes() - 8, w.header_bytes() - 3));
  auto counts = parse_gguf(std::string_view(full).substr(0, 40), "cut.gguf");
  EXPECT_EQ(counts.error().message,
            "cut.gguf: byte 8: tensor count 21 cannot fit in a file of 40 bytes");
}

TEST(GgufReaderMalformed, LengthsNearTwoToThe64) {
  GgufWriter key;
  key.kv_str("general.name", "x");
  key.last_kv().raw_key_length = ~0ull;
  EXPECT_EQ(
      error_of(key),
      "t.gguf: byte 24: metadata entry 0: key length 18446744073709551615 exceeds the limit of "
      "65535 bytes");

  GgufWriter str;
  str.kv_str("general.name", "x");
  str.last_kv().value.raw_length = ~0ull - 7;
  EXPECT_EQ(
      error_of(str),
      "t.gguf: byte 48: key 'general.name': string length 18446744073709551608 runs past the end "
      "of the file (8 bytes left)");

  GgufWriter arr;
  arr.kv("tokenizer.ggml.tokens", GgufValue::array_str({"a", "b"}));
  arr.last_kv().value.raw_length = 1ull << 62;
  EXPECT_THAT(error_of(arr),
              HasSubstr("byte 61: key 'tokenizer.ggml.tokens': array of 4611686018427387904 "
                        "string items cannot fit in the 27 bytes left in the file"));

  GgufWriter nums;
  nums.kv("x", GgufValue::array_u32({1, 2, 3}));
  nums.last_kv().value.raw_length = ~0ull;
  EXPECT_THAT(error_of(nums), HasSubstr("array of 18446744073709551615 u32 items cannot fit"));

  GgufWriter item;
  item.kv("x", GgufValue::array_str({"ab", "cd"}));
  item.last_kv().value.items[1].raw_length = 1ull << 63;
  EXPECT_THAT(error_of(item),
              HasSubstr("string 1 of the array has length 9223372036854775808, past the end"));
}

TEST(GgufReaderMalformed, AbsurdNesting) {
  GgufValue v = GgufValue::array_u32({1});
  for (int i = 0; i < 100; ++i) v = GgufValue::array(GgufValueType::ARRAY, {v});
  GgufWriter w;
  w.kv("deep", v);
  EXPECT_THAT(error_of(w), HasSubstr("key 'deep': arrays nested more than 8 levels deep"));
  // Eight levels are fine.
  GgufValue ok = GgufValue::array_u32({5});
  for (int i = 0; i < 7; ++i) ok = GgufValue::array(GgufValueType::ARRAY, {ok});
  GgufWriter w8;
  w8.kv("deep", ok);
  auto r = parse(w8);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Value* x = r->find("deep");
  for (int i = 0; i < 7; ++i) x = &x->item(0);
  EXPECT_EQ(x->uint_at(0), 5u);
}

TEST(GgufReaderMalformed, UnknownTypeIds) {
  GgufWriter v;
  v.kv_u32("x", 1);
  v.last_kv().value.raw_type = 13;
  EXPECT_EQ(error_of(v), "t.gguf: byte 33: key 'x': unknown value type id 13");

  GgufWriter e;
  e.kv("x", GgufValue::array_u32({1}));
  e.last_kv().value.raw_elem_type = 0xffffffffu;
  EXPECT_EQ(error_of(e), "t.gguf: byte 37: key 'x': unknown array element type id 4294967295");

  for (uint32_t bad : {4u, 31u, 43u, 1000u}) {
    GgufWriter t;
    t.tensor("w", {32}, 0);
    t.last_tensor().raw_type = bad;
    EXPECT_EQ(error_of(t),
              "t.gguf: byte 45: tensor 'w': unknown ggml type id " + std::to_string(bad));
  }
}

TEST(GgufReaderMalformed, TensorDataPastEndOfFile) {
  auto w = two_tensors();
  w.last_tensor().raw_offset = 1ull << 40;
  EXPECT_THAT(error_of(w),
              HasSubstr("tensor 'b': data (128 bytes at data offset 1099511627776) lies past "
                        "the end of the file (the data section holds 384 bytes)"));
  auto big = two_tensors();
  big.last_tensor().raw_offset = ~0ull - 31;  // offset + size overflows 64 bits
  EXPECT_THAT(error_of(big), HasSubstr("lies past the end of the file"));
  auto cut = two_tensors();
  const std::string bytes = cut.build();
  auto r = parse_gguf(std::string_view(bytes).substr(0, bytes.size() - 100), "t.gguf");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("tensor 'b': data (128 bytes at data offset 256)"));
}

TEST(GgufReaderMalformed, OverlappingAndMisalignedTensors) {
  auto w = two_tensors();
  w.last_tensor().raw_offset = 224;  // "a" is 256 bytes at 0
  const uint64_t data = w.data_offset();
  EXPECT_THAT(error_of(w),
              HasSubstr(fmt::format("tensor 'b' (bytes {}..{}) overlaps tensor 'a' (bytes {}..{})",
                                    data + 224, data + 352, data, data + 256)));
  auto m = two_tensors();
  m.last_tensor().raw_offset = 264;
  EXPECT_THAT(error_of(m),
              HasSubstr("tensor 'b': data offset 264 is not a multiple of the alignment 32"));
}

TEST(GgufReaderMalformed, BadShapes) {
  GgufWriter dims;
  dims.tensor("w", {32}, 0);
  dims.last_tensor().raw_shape = std::vector<uint64_t>{1, 1, 1, 1, 1};
  EXPECT_EQ(error_of(dims), "t.gguf: byte 33: tensor 'w': 5 dimensions (expected 1 to 4)");
  GgufWriter zero;
  zero.tensor("w", {32}, 0);
  zero.last_tensor().raw_shape = std::vector<uint64_t>{};
  EXPECT_THAT(error_of(zero), HasSubstr("0 dimensions"));
  GgufWriter over;
  over.tensor("w", {32}, 0);
  over.last_tensor().raw_shape = std::vector<uint64_t>{1ull << 40, 1ull << 40};
  EXPECT_THAT(error_of(over), HasSubstr("dimension 1 = 1099511627776 overflows the element count"));
  GgufWriter block;
  block.tensor("w", {256}, 12);
  block.last_tensor().raw_shape = std::vector<uint64_t>{100};
  EXPECT_THAT(error_of(block),
              HasSubstr("row of 100 elements is not a multiple of the q4_K block size 256"));
  GgufWriter name;
  name.tensor(std::string(64, 'n'), {32}, 0);
  EXPECT_THAT(error_of(name),
              HasSubstr("tensor 0: tensor name length 64 exceeds the limit of 63 bytes"));
}

TEST(GgufReaderMalformed, DuplicatesAndCounts) {
  GgufWriter k;
  k.kv_u32("a", 1).kv_u32("a", 2);
  EXPECT_EQ(error_of(k), "t.gguf: byte 41: key 'a': duplicate key (first at byte 24)");
  GgufWriter t;
  t.tensor("w", {32}, 0).tensor("w", {32}, 0);
  EXPECT_THAT(error_of(t), HasSubstr("tensor 'w': duplicate tensor name (first at tensor 0)"));
  GgufWriter tc;
  tc.raw_tensor_count = 1ull << 40;
  EXPECT_EQ(error_of(tc),
            "t.gguf: byte 8: tensor count 1099511627776 cannot fit in a file of 32 bytes");
  GgufWriter kc;
  kc.raw_kv_count = ~0ull;
  EXPECT_THAT(error_of(kc), HasSubstr("byte 16: metadata count 18446744073709551615 cannot fit"));
}

TEST(GgufReaderMalformed, BadAlignment) {
  GgufWriter w;
  w.kv_u32("general.alignment", 24);
  EXPECT_EQ(error_of(w), "t.gguf: byte 24: general.alignment 24 is not a power of two");
  GgufWriter z;
  z.kv_u32("general.alignment", 0);
  EXPECT_THAT(error_of(z), HasSubstr("general.alignment 0 is not a power of two"));
  GgufWriter t;
  t.kv("general.alignment", GgufValue::u64(32));
  EXPECT_THAT(error_of(t), HasSubstr("general.alignment must be a u32, not u64"));
}

}  // namespace
}  // namespace memopt::gguf

namespace memopt::gguf {
namespace {

TEST(GgufReaderMalformed, CountsBeyondLimits) {
  testing::GgufWriter w;
  for (int i = 0; i < 5; ++i) w.kv_u32("k" + std::to_string(i), 1);
  ReadLimits limits;
  limits.max_kv_count = 4;
  auto r = parse_gguf(w.build(), "t.gguf", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "t.gguf: byte 16: metadata count 5 is beyond the limit of 4");
  testing::GgufWriter t;
  t.tensor("a", {32}, 0).tensor("b", {32}, 0);
  limits.max_tensor_count = 1;
  auto rt = parse_gguf(t.build(), "t.gguf", limits);
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.error().message, "t.gguf: byte 8: tensor count 2 is beyond the limit of 1");
}

}  // namespace
}  // namespace memopt::gguf

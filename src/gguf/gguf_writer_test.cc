// Tests of the test-only GGUF writer (tests/support/gguf_writer): the bytes it
// lays down must match ggml/docs/gguf.md exactly, or every reader test built on
// it proves nothing.
#include "support/gguf_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <bit>
#include <cstring>
#include <filesystem>

namespace memopt::testing {
namespace {

uint64_t le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int k = 0; k < bytes; ++k)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(s.at(at + k))) << (8 * k);
  return v;
}

TEST(GgufWriter, HalfConversion) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(0.5f), 0x3800);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);                   // overflow -> inf
  EXPECT_EQ(float_to_half(5.960464477539063e-8f), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16(-3.0f), 0xc040);
}

TEST(GgufWriter, HeaderAndKvBytesFollowTheSpec) {
  GgufWriter w(3);
  w.kv_str("general.architecture", "llama");
  w.kv_u32("llama.block_count", 2);
  const std::string b = w.build();
  EXPECT_EQ(b.substr(0, 4), "GGUF");
  EXPECT_EQ(le(b, 4, 4), 3u);    // version
  EXPECT_EQ(le(b, 8, 8), 0u);    // tensor count
  EXPECT_EQ(le(b, 16, 8), 2u);   // kv count
  EXPECT_EQ(le(b, 24, 8), 20u);  // key length of "general.architecture"
  EXPECT_EQ(b.substr(32, 20), "general.architecture");
  EXPECT_EQ(le(b, 52, 4), 8u);  // GGUF_TYPE_STRING
  EXPECT_EQ(le(b, 56, 8), 5u);
  EXPECT_EQ(b.substr(64, 5), "llama");
  EXPECT_EQ(le(b, 69, 8), 17u);
  EXPECT_EQ(b.substr(77, 17), "llama.block_count");
  EXPECT_EQ(le(b, 94, 4), 4u);  // GGUF_TYPE_UINT32
  EXPECT_EQ(le(b, 98, 4), 2u);
  EXPECT_EQ(w.header_bytes(), 102u);
  EXPECT_EQ(w.data_offset(), 128u);  // padded to 32
  EXPECT_EQ(b.size(), 128u);
}

TEST(GgufWriter, EveryValueTypeAndNestedArrays) {
  GgufWriter w(2);
  w.kv("a", GgufValue::u8(0xab)).kv("b", GgufValue::i8(-2)).kv("c", GgufValue::u16(0xbeef));
  w.kv("d", GgufValue::i16(-3)).kv("e", GgufValue::i32(-4)).kv("f", GgufValue::f32(1.5f));
  w.kv("g", GgufValue::boolean(true)).kv("h", GgufValue::u64(1ull << 40));
  w.kv("i", GgufValue::i64(-5)).kv("j", GgufValue::f64(0.25));
  w.kv("k", GgufValue::array_str({"x", "yz"}));
  w.kv("l", GgufValue::array(GgufValueType::ARRAY,
                             {GgufValue::array_u32({1, 2}), GgufValue::array_u32({3})}));
  const std::string b = w.build();
  EXPECT_EQ(le(b, 4, 4), 2u);
  size_t p = 24;
  auto expect_kv = [&](const char* key, uint32_t type) {
    EXPECT_EQ(le(b, p, 8), 1u);
    EXPECT_EQ(b.substr(p + 8, 1), key);
    EXPECT_EQ(le(b, p + 9, 4), type);
    p += 13;
  };
  expect_kv("a", 0);
  EXPECT_EQ(le(b, p, 1), 0xabu);
  p += 1;
  expect_kv("b", 1);
  EXPECT_EQ(le(b, p, 1), 0xfeu);
  p += 1;
  expect_kv("c", 2);
  EXPECT_EQ(le(b, p, 2), 0xbeefu);
  p += 2;
  expect_kv("d", 3);
  EXPECT_EQ(le(b, p, 2), 0xfffdu);
  p += 2;
  expect_kv("e", 5);
  EXPECT_EQ(le(b, p, 4), 0xfffffffcu);
  p += 4;
  expect_kv("f", 6);
  EXPECT_EQ(le(b, p, 4), std::bit_cast<uint32_t>(1.5f));
  p += 4;
  expect_kv("g", 7);
  EXPECT_EQ(le(b, p, 1), 1u);
  p += 1;
  expect_kv("h", 10);
  EXPECT_EQ(le(b, p, 8), 1ull << 40);
  p += 8;
  expect_kv("i", 11);
  EXPECT_EQ(le(b, p, 8), static_cast<uint64_t>(-5));
  p += 8;
  expect_kv("j", 12);
  EXPECT_EQ(le(b, p, 8), std::bit_cast<uint64_t>(0.25));
  p += 8;
  expect_kv("k", 9);
  EXPECT_EQ(le(b, p, 4), 8u);  // element type string
  EXPECT_EQ(le(b, p + 4, 8), 2u);
  EXPECT_EQ(le(b, p + 12, 8), 1u);
  EXPECT_EQ(b.substr(p + 20, 1), "x");
  EXPECT_EQ(le(b, p + 21, 8), 2u);
  EXPECT_EQ(b.substr(p + 29, 2), "yz");
  p += 31;
  expect_kv("l", 9);
  EXPECT_EQ(le(b, p, 4), 9u);  // array of arrays
  EXPECT_EQ(le(b, p + 4, 8), 2u);
  EXPECT_EQ(le(b, p + 12, 4), 4u);  // inner: u32 x 2
  EXPECT_EQ(le(b, p + 16, 8), 2u);
  EXPECT_EQ(le(b, p + 24, 4), 1u);
  EXPECT_EQ(le(b, p + 28, 4), 2u);
  EXPECT_EQ(le(b, p + 32, 4), 4u);  // inner: u32 x 1
  EXPECT_EQ(le(b, p + 36, 8), 1u);
  EXPECT_EQ(le(b, p + 44, 4), 3u);
  EXPECT_EQ(w.header_bytes(), p + 48);
}

TEST(GgufWriter, TensorsAreSizedAndAlignedExactly) {
  GgufWriter w;
  w.set_alignment(64);
  w.tensor_values("a", {2, 3}, 1, {1, 2, 3, 4, 5, 6});  // f16: 12 bytes
  w.tensor("b", {256, 2}, 12);                          // q4_K: 2 x 144
  w.tensor("c", {5}, 0, TensorFill::kZero);             // f32: 20 bytes
  EXPECT_EQ(w.alignment(), 64u);
  EXPECT_EQ(w.tensor_size_bytes(0), 12u);
  EXPECT_EQ(w.tensor_size_bytes(1), 288u);
  EXPECT_EQ(w.tensor_size_bytes(2), 20u);
  EXPECT_EQ(w.tensor_offset(0), 0u);
  EXPECT_EQ(w.tensor_offset(1), 64u);
  EXPECT_EQ(w.tensor_offset(2), 64u + 320u);
  const std::string b = w.build();
  EXPECT_EQ(w.data_offset() % 64, 0u);
  EXPECT_EQ(b.size(), w.data_offset() + 64 + 320 + 64);
  EXPECT_EQ(w.file_bytes(), b.size());
  // The f16 values land at the data offset, little-endian.
  EXPECT_EQ(le(b, w.data_offset(), 2), 0x3c00u);
  EXPECT_EQ(le(b, w.data_offset() + 10, 2), float_to_half(6.0f));
  // Tensor info of "b": name, n_dims 2, ne = {256, 2}, type 12, offset 64.
  const size_t info = b.find(std::string("\x01\0\0\0\0\0\0\0b", 9));
  ASSERT_NE(info, std::string::npos);
  EXPECT_EQ(le(b, info + 9, 4), 2u);
  EXPECT_EQ(le(b, info + 13, 8), 256u);
  EXPECT_EQ(le(b, info + 21, 8), 2u);
  EXPECT_EQ(le(b, info + 29, 4), 12u);
  EXPECT_EQ(le(b, info + 33, 8), 64u);
  EXPECT_THROW(w.tensor("bad", {100}, 12), std::invalid_argument);  // not a block multiple
}

TEST(GgufWriter, MalformedHooksWriteWhatTheyAreTold) {
  GgufWriter w;
  w.kv_str("k", "v");
  w.last_kv().value.raw_length = ~0ull;
  w.tensor("t", {32}, 0);
  w.last_tensor().raw_type = 4;  // a removed ggml type id
  w.last_tensor().raw_offset = 7;
  w.raw_kv_count = 1ull << 62;
  w.raw_magic = "GGUX";
  const std::string b = w.build();
  EXPECT_EQ(b.substr(0, 4), "GGUX");
  EXPECT_EQ(le(b, 16, 8), 1ull << 62);
  EXPECT_EQ(le(b, 24 + 8 + 1 + 4, 8), ~0ull);
  const size_t info = 24 + 8 + 1 + 4 + 8 + 1;
  EXPECT_EQ(le(b, info + 8 + 1 + 4 + 8, 4), 4u);
  EXPECT_EQ(le(b, info + 8 + 1 + 4 + 8 + 4, 8), 7u);

  GgufWriter be;
  be.set_big_endian(true);
  be.kv_u32("x", 1);
  const std::string bb = be.build();
  EXPECT_EQ(bb.substr(0, 4), "GGUF");
  EXPECT_EQ(static_cast<uint8_t>(bb[7]), 3u);  // version 3, big-endian
  EXPECT_EQ(static_cast<uint8_t>(bb[4]), 0u);
}

}  // namespace
}  // namespace memopt::testing

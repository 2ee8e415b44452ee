// gguf_crosscheck <node> <gguf_dump.mjs> <extra.gguf>...: writes GGUF files
// of every shape the reader supports (every value type, nested arrays, v2 and
// v3, custom alignment, many ggml types, split parts, the tiny models the
// real llama.cpp loads), reads them with our reader and with
// @huggingface/gguf (tests/node/gguf_dump.mjs), and fails on any difference
// in metadata keys/types/values, tensor names, shapes, types and offsets.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "support/gguf_models.h"
#include "support/gguf_writer.h"
#include "support/tiny_models.h"

namespace {

using memopt::gguf::GgufFile;
using memopt::gguf::Value;
using memopt::gguf::ValueType;
using memopt::testing::GgufValue;
using memopt::testing::GgufValueType;
using memopt::testing::GgufWriter;
using nlohmann::json;

// Our value in the dump's normal form: 64-bit integers as decimal strings.
json normal(const Value& v) {
  auto scalar = [](ValueType t, auto get_u, auto get_i, auto get_d) -> json {
    switch (t) {
      case ValueType::U64:
        return std::to_string(*get_u());
      case ValueType::I64:
        return std::to_string(*get_i());
      case ValueType::F32:
      case ValueType::F64:
        return *get_d();
      case ValueType::BOOL:
        return *get_u() != 0;
      case ValueType::I8:
      case ValueType::I16:
      case ValueType::I32:
        return *get_i();
      default:
        return *get_u();
    }
  };
  if (!v.is_array()) {
    if (v.type() == ValueType::STRING) return std::string(*v.as_string());
    return scalar(
        v.type(), [&] { return v.as_uint(); }, [&] { return v.as_int(); },
        [&] { return v.as_double(); });
  }
  json a = json::array();
  for (uint64_t i = 0; i < v.size(); ++i) {
    if (v.elem_type() == ValueType::STRING) {
      a.push_back(std::string(v.string_at(i)));
    } else if (v.elem_type() == ValueType::ARRAY) {
      a.push_back(normal(v.item(i)));
    } else {
      a.push_back(scalar(
          v.elem_type(), [&] { return v.uint_at(i); }, [&] { return v.int_at(i); },
          [&] { return v.double_at(i); }));
    }
  }
  return a;
}

GgufWriter kitchen_sink(uint32_t version) {
  GgufWriter w(version);
  w.kv_str("general.architecture", "llama");
  w.set_alignment(64);
  w.kv("t.u8", GgufValue::u8(255))
      .kv("t.i8", GgufValue::i8(-128))
      .kv("t.u16", GgufValue::u16(65535));
  w.kv("t.i16", GgufValue::i16(-32768)).kv("t.u32", GgufValue::u32(4294967295u));
  w.kv("t.i32", GgufValue::i32(-2147483647)).kv("t.f32", GgufValue::f32(3.14159f));
  w.kv("t.bool", GgufValue::boolean(false)).kv("t.str", GgufValue::str("naïve ✓ 日本"));
  w.kv("t.u64", GgufValue::u64(18446744073709551615ull))
      .kv("t.i64", GgufValue::i64(-9223372036854775807ll));
  w.kv("t.f64", GgufValue::f64(1e-300));
  w.kv("t.empty_str", GgufValue::str(""));
  w.kv("t.strs", GgufValue::array_str({"", "a", "<0x0A>", "▁the"}));
  w.kv("t.f32s", GgufValue::array_f32({0.5f, -1e-5f, 1e30f}));
  w.kv("t.i32s", GgufValue::array_i32({-1, 0, 2147483647}));
  w.kv("t.bools", GgufValue::array_bool({true, false, true}));
  w.kv("t.u64s",
       GgufValue::array(GgufValueType::U64, {GgufValue::u64(1), GgufValue::u64(1ull << 63)}));
  w.kv("t.i8s", GgufValue::array(GgufValueType::I8, {GgufValue::i8(-5), GgufValue::i8(5)}));
  w.kv("t.empty", GgufValue::array(GgufValueType::U32, {}));
  w.kv("t.nested", GgufValue::array(GgufValueType::ARRAY,
                                    {GgufValue::array_u32({1, 2}), GgufValue::array_u32({3})}));
  // One tensor per family of ggml types, 1 to 4 dimensions.
  w.tensor("f32", {3}, 0);
  w.tensor("f16", {4, 5}, 1);
  w.tensor("bf16", {2, 3, 4}, 30);
  w.tensor("q4_0", {64, 2}, 2);
  w.tensor("q8_0", {32, 3, 2, 2}, 8);
  w.tensor("q4_K", {256, 3}, 12);
  w.tensor("q6_K", {512}, 14);
  w.tensor("iq2_xxs", {256, 2}, 16);
  w.tensor("iq4_nl", {32}, 20);
  w.tensor("tq1_0", {256}, 34);
  w.tensor("mxfp4", {32, 4}, 39);
  w.tensor("i8", {7}, 24);
  w.tensor("f64", {2, 2}, 28);
  return w;
}

int fail_count = 0;
void mismatch(const std::string& file, const std::string& what) {
  std::cerr << "MISMATCH " << file << ": " << what << "\n";
  ++fail_count;
}

void compare(const GgufFile& ours, const json& theirs, uint64_t& keys, uint64_t& tensors) {
  const std::string& file = ours.path;
  if (theirs.at("version") != ours.version) mismatch(file, "version");
  if (theirs.at("tensorDataOffset") != std::to_string(ours.data_offset)) {
    mismatch(file, "data offset " + theirs.at("tensorDataOffset").dump() + " vs " +
                       std::to_string(ours.data_offset));
  }
  const json& md = theirs.at("metadata");
  if (md.size() != ours.metadata.size()) {
    mismatch(file, "metadata count " + std::to_string(md.size()) + " vs " +
                       std::to_string(ours.metadata.size()));
  }
  std::map<std::string, const json*> by_key;
  for (const auto& e : md) by_key[e.at("key").get<std::string>()] = &e;
  for (const auto& e : ours.metadata) {
    auto it = by_key.find(e.key);
    if (it == by_key.end()) {
      mismatch(file, "key " + e.key + " missing from @huggingface/gguf");
      continue;
    }
    const json& t = *it->second;
    if (t.at("type") != static_cast<uint32_t>(e.value.type())) mismatch(file, "type of " + e.key);
    if (e.value.is_array() && t.at("subType") != static_cast<uint32_t>(e.value.elem_type())) {
      mismatch(file, "element type of " + e.key);
    }
    const json mine = normal(e.value);
    if (mine != t.at("value")) {
      mismatch(file, "value of " + e.key + ": " + mine.dump().substr(0, 200) + " vs " +
                         t.at("value").dump().substr(0, 200));
    }
    ++keys;
  }
  const json& ts = theirs.at("tensors");
  if (ts.size() != ours.tensors.size()) mismatch(file, "tensor count");
  for (size_t i = 0; i < std::min(ts.size(), ours.tensors.size()); ++i) {
    const auto& m = ours.tensors[i];
    const json& t = ts[i];
    json shape = json::array();
    for (uint64_t d : m.shape) shape.push_back(std::to_string(d));
    if (t.at("name") != m.name) mismatch(file, "tensor name " + m.name);
    if (t.at("shape") != shape) mismatch(file, "shape of " + m.name);
    if (t.at("n_dims") != m.shape.size()) mismatch(file, "n_dims of " + m.name);
    if (t.at("dtype") != m.type) mismatch(file, "type of " + m.name);
    if (t.at("offset") != std::to_string(m.offset - ours.data_offset))
      mismatch(file, "offset of " + m.name);
    ++tensors;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: gguf_crosscheck <node> <gguf_dump.mjs> [extra.gguf...]\n";
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("memopt_crosscheck_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<std::string> files;
  auto add = [&](const GgufWriter& w, const std::string& name) {
    const std::string p = (dir / name).string();
    if (auto st = w.write_file(p); !st) {
      std::cerr << st.error().message << "\n";
      std::exit(1);
    }
    files.push_back(p);
  };
  add(kitchen_sink(3), "kitchen-sink-v3.gguf");
  add(kitchen_sink(2), "kitchen-sink-v2.gguf");
  add(memopt::testing::tiny_model(memopt::testing::tiny_llama_gqa()), "llama-gqa.gguf");
  add(memopt::testing::tiny_model(memopt::testing::tiny_gemma_swa()), "gemma-swa.gguf");
  add(memopt::testing::tiny_model(memopt::testing::tiny_qwen_moe()), "qwen-moe.gguf");
  auto parts = memopt::testing::split_model(
      memopt::testing::tiny_model(memopt::testing::tiny_qwen_moe()), 3);
  for (uint32_t i = 0; i < parts.size(); ++i)
    add(parts[i], "qwen-moe-0000" + std::to_string(i + 1) + "-of-00003.gguf");
  // The tiny models the real llama.cpp loads (other areas' integration tests).
  auto tiny = memopt::testing::write_tiny_models(dir.string());
  if (!tiny) {
    std::cerr << tiny.error().message << "\n";
    return 1;
  }
  for (const auto& p : *tiny) files.push_back(p);
  for (int i = 3; i < argc; ++i) files.push_back(argv[i]);

  std::string cmd = std::string("'") + argv[1] + "' '" + argv[2] + "'";
  for (const auto& f : files) cmd += " '" + f + "'";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) {
    std::cerr << "cannot run " << argv[1] << "\n";
    return 1;
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
  const int rc = ::pclose(pipe);
  if (rc != 0) {
    std::cerr << "gguf_dump.mjs failed (exit " << rc
              << "): is @huggingface/gguf installed in tests/node? "
              << "run scripts/setup.sh\n";
    return 1;
  }
  const json dump = json::parse(text);
  uint64_t keys = 0, tensors = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    auto ours = memopt::gguf::read_gguf(files[i]);
    if (!ours) {
      mismatch(files[i], "our reader failed: " + ours.error().message);
      continue;
    }
    compare(*ours, dump.at(i), keys, tensors);
  }
  fs::remove_all(dir);
  if (fail_count) {
    std::cerr << "gguf_crosscheck: " << fail_count << " differences\n";
    return 1;
  }
  std::cout << "gguf_crosscheck: " << files.size() << " files, " << keys << " metadata values and "
            << tensors << " tensors agree with @huggingface/gguf\n";
  return 0;
}

// Header parse speed: a model with 1,000 tensors and a 150,000-token
// vocabulary (tokens, scores, token types), as a large modern GGUF has.
// Target (issue 2): median under 5 ms for read_gguf.
//   build/gguf_reader_bench                       # the benchmarks
//   build/gguf_reader_bench --write-model=PATH     # only write the model (bench/gguf_vs_hf.sh)
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "gguf/model_info.h"
#include "gguf/reader.h"
#include "support/gguf_writer.h"

namespace {

using memopt::testing::GgufValue;
using memopt::testing::GgufWriter;
using memopt::testing::TensorFill;

constexpr uint32_t kVocab = 150000;
constexpr uint32_t kLayers = 111;  // 111 x 9 + 1 = 1,000 tensors

GgufWriter big_header_model() {
  GgufWriter w;
  w.kv_str("general.architecture", "llama");
  w.kv_str("general.name", "bench-1000-tensors-150k-vocab");
  w.kv_u32("llama.block_count", kLayers);
  w.kv_u32("llama.context_length", 131072);
  w.kv_u32("llama.embedding_length", 4096);
  w.kv_u32("llama.feed_forward_length", 14336);
  w.kv_u32("llama.attention.head_count", 32);
  w.kv_u32("llama.attention.head_count_kv", 8);
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens.reserve(kVocab);
  uint64_t x = 88172645463325252ull;
  for (uint32_t i = 0; i < kVocab; ++i) {
    // Token texts of 2..12 bytes, like a BPE vocabulary.
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::string t = "\xc4\xa0";
    const uint32_t len = 2 + static_cast<uint32_t>(x % 11);
    for (uint32_t k = 0; k < len; ++k) t += static_cast<char>('a' + (x >> (k * 5)) % 26);
    tokens.push_back(std::move(t));
    scores.push_back(-static_cast<float>(i));
    types.push_back(1);
  }
  w.kv_str("tokenizer.ggml.model", "gpt2");
  w.kv("tokenizer.ggml.tokens", GgufValue::array_str(tokens));
  w.kv("tokenizer.ggml.scores", GgufValue::array_f32(scores));
  w.kv("tokenizer.ggml.token_type", GgufValue::array_i32(types));
  // Zero-filled (sparse) Q4_K weights: the file is large but costs no disk.
  w.tensor("token_embd.weight", {4096, kVocab}, 12, TensorFill::kZero);
  for (uint32_t il = 0; il < kLayers; ++il) {
    auto n = [&](const char* s) { return fmt::format("blk.{}.{}", il, s); };
    w.tensor(n("attn_norm.weight"), {4096}, 0, TensorFill::kZero);
    w.tensor(n("attn_q.weight"), {4096, 4096}, 12, TensorFill::kZero);
    w.tensor(n("attn_k.weight"), {4096, 1024}, 12, TensorFill::kZero);
    w.tensor(n("attn_v.weight"), {4096, 1024}, 14, TensorFill::kZero);
    w.tensor(n("attn_output.weight"), {4096, 4096}, 12, TensorFill::kZero);
    w.tensor(n("ffn_norm.weight"), {4096}, 0, TensorFill::kZero);
    w.tensor(n("ffn_gate.weight"), {4096, 14336}, 12, TensorFill::kZero);
    w.tensor(n("ffn_up.weight"), {4096, 14336}, 12, TensorFill::kZero);
    w.tensor(n("ffn_down.weight"), {14336, 4096}, 14, TensorFill::kZero);
  }
  return w;
}

const std::string& model_path() {
  static const std::string path = [] {
    const std::string p = std::string(MEMOPT_BINARY_DIR) + "/bench_gguf_1000t_150k.gguf";
    auto st = big_header_model().write_file(p);
    if (!st) {
      std::cerr << st.error().message << "\n";
      std::exit(1);
    }
    return p;
  }();
  return path;
}

void BM_ReadGgufHeader(benchmark::State& state) {
  const std::string& path = model_path();
  for (auto _ : state) {
    auto f = memopt::gguf::read_gguf(path);
    if (!f || f->tensors.size() != 1000) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(f);
  }
}
BENCHMARK(BM_ReadGgufHeader)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(15)
    ->ReportAggregatesOnly(true);

void BM_GetModelInfo(benchmark::State& state) {
  const std::string& path = model_path();
  for (auto _ : state) {
    auto m = memopt::gguf::get_model_info(path);
    if (!m || m->block_count != kLayers) state.SkipWithError("model info failed");
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_GetModelInfo)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(15)
    ->ReportAggregatesOnly(true);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--write-model", 13) == 0) {
      std::cout << model_path() << "\n";
      return 0;
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

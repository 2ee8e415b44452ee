// make_sample_gguf <out.gguf>: writes the sample model the build ships
// (build/sample.gguf) so `model inspect` shows something real on a fresh
// machine: a llama-style model with grouped-query attention, Q8_0 weights and
// f32 norms, about 3.5 MB.
#include <iostream>

#include "support/gguf_models.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_sample_gguf <out.gguf>\n";
    return 2;
  }
  memopt::testing::TinyModelSpec s;
  s.name = "ruvector-sample-llama";
  s.n_layer = 4;
  s.n_embd = 256;
  s.n_head = 8;
  s.n_head_kv = 2;  // GQA 4:1
  s.n_ff = 768;
  s.n_ctx = 4096;
  s.weight_type = 8;  // q8_0
  s.file_type = 7;    // LLAMA_FTYPE_MOSTLY_Q8_0
  auto st = memopt::testing::tiny_model(s).write_file(argv[1]);
  if (!st) {
    std::cerr << "make_sample_gguf: " << st.error().message << "\n";
    return 1;
  }
  return 0;
}

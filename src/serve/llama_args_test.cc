#include "serve/llama_args.h"

#include <gtest/gtest.h>

namespace memopt::serve {
namespace {

TEST(LlamaArgs, ReadsTheSettingsThatDecideTheFootprint) {
  auto l = read_llama_args({"llama-server", "-m",   "/m/a.gguf", "--port", "${PORT}",
                            "-c",           "8192", "-np",       "4",      "-ngl",
                            "20",           "-ctk", "q8_0",      "-ctv",   "q4_0",
                            "-fa",          "off",  "-ub",       "256",    "--batch-size=1024"});
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->model_path, "/m/a.gguf");
  EXPECT_EQ(l->settings.ctx_per_seq, 2048u);  // -c is split over -np sequences
  EXPECT_EQ(l->settings.parallel, 4u);
  EXPECT_EQ(l->n_gpu_layers, 20u);
  EXPECT_EQ(l->settings.type_k, 8u);  // GGML_TYPE_Q8_0
  EXPECT_EQ(l->settings.type_v, 2u);  // GGML_TYPE_Q4_0
  EXPECT_FALSE(l->settings.flash_attn);
  EXPECT_EQ(l->settings.n_ubatch, 256u);
  EXPECT_EQ(l->settings.n_batch, 1024u);
}

TEST(LlamaArgs, DefaultsAreLlamaCpps) {
  auto l = read_llama_args({"node", "server.mjs", "--model=/m/b.gguf", "--port", "${PORT}"});
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->model_path, "/m/b.gguf");
  EXPECT_EQ(l->settings.ctx_per_seq, 4096u);
  EXPECT_EQ(l->settings.parallel, 1u);
  EXPECT_FALSE(l->n_gpu_layers.has_value());
}

TEST(LlamaArgs, AValueLlamaCppWouldRefuseIsAnErrorNamingTheFlag) {
  auto l = read_llama_args({"llama-server", "-ctk", "q9_9"});
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().message,
            "command argument -ctk 'q9_9' is not a KV cache type llama.cpp accepts");
  l = read_llama_args({"llama-server", "-c", "lots"});
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("-c 'lots'"), std::string::npos);
  l = read_llama_args({"llama-server", "-ngl", "-5"});
  ASSERT_FALSE(l);
}

}  // namespace
}  // namespace memopt::serve

#include "serve/config.h"

#include <gtest/gtest.h>

#include "policy/profile.h"

namespace memopt::serve {
namespace {

// The issue's config, verbatim (the README's too).
constexpr const char *kIssueConfig = R"(
[serve]
listen = "127.0.0.1:8080"
memory_budget = "auto"        # or "6GiB"
queue_timeout_seconds = 120
max_queue = 64

[serve.models."tiny-chat"]
command = ["llama-server", "-m", "/models/tiny.gguf", "--port", "${PORT}", "-c", "4096"]
gguf = "/models/tiny.gguf"
ttl_seconds = 600
pinned = false
priority = 0

[serve.models."qwen-ollama"]
runtime = "ollama"
endpoint = "http://127.0.0.1:11434"
model = "qwen3:8b"
)";

TEST(ServeConfig, ReadsTheIssuesShapeExactly) {
  auto c = parse_serve_config(kIssueConfig, "config.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_FALSE(c->memory_budget_bytes.has_value());
  EXPECT_EQ(c->queue_timeout_seconds, 120);
  EXPECT_EQ(c->max_queue, 64);
  ASSERT_EQ(c->models.size(), 2u);
  const ModelConfig *t = c->find("tiny-chat");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->command.size(), 7u);
  EXPECT_EQ(t->command[4], "${PORT}");
  EXPECT_EQ(t->gguf, "/models/tiny.gguf");
  EXPECT_EQ(t->ttl_seconds, 600);
  EXPECT_TRUE(t->started_by_gateway());
  const ModelConfig *q = c->find("qwen-ollama");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->runtime, "ollama");
  EXPECT_EQ(q->model, "qwen3:8b");
  EXPECT_FALSE(q->started_by_gateway());
}

TEST(ServeConfig, TheSameFileIsAcceptedByTheProfileReader) {
  // [serve] lives in config.toml beside [daemon] and [ai_mode.*].
  auto p = policy::parse_profiles(std::string(kIssueConfig) + "\n[daemon]\napply = true\n", "c");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->daemon.apply);
}

TEST(ServeConfig, ABudgetInBytes) {
  auto c = parse_serve_config(
      "[serve]\nmemory_budget = \"6GiB\"\n[serve.models.a]\ncommand = [\"x\", "
      "\"${PORT}\"]\n",
      "c");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->memory_budget_bytes, 6ull << 30);
}

TEST(ServeConfig, PreloadKeys) {
  const char *models = "[serve.models.a]\ncommand = [\"x\", \"${PORT}\"]\n";
  auto off = parse_serve_config(std::string("[serve]\n") + models, "c");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE(off->preload);
  EXPECT_DOUBLE_EQ(off->preload_min_probability, 0.2);
  EXPECT_EQ(off->preload_idle_seconds, 60);
  EXPECT_EQ(off->preload_evict_idle_seconds, 120);
  auto on = parse_serve_config(std::string("[serve]\npreload = true\npreload_min_probability = "
                                           "0.35\npreload_idle_seconds = 5\n"
                                           "preload_evict_idle_seconds = 0\n") +
                                   models,
                               "c");
  ASSERT_TRUE(on) << on.error().message;
  EXPECT_TRUE(on->preload);
  EXPECT_DOUBLE_EQ(on->preload_min_probability, 0.35);
  EXPECT_EQ(on->preload_idle_seconds, 5);
  EXPECT_EQ(on->preload_evict_idle_seconds, 0);
  const std::pair<const char *, const char *> bad[] = {
      {"preload = 1", "c:2: key 'serve.preload' must be true or false"},
      {"preload_min_probability = 1.5", "must be a number between 0 and 1"},
      {"preload_min_probability = nan", "must be a number between 0 and 1"},
      {"preload_idle_seconds = -1", "must be between 0 and 86400"},
  };
  for (const auto &[line, message] : bad) {
    auto c = parse_serve_config(std::string("[serve]\n") + line + "\n" + models, "c");
    ASSERT_FALSE(c) << line;
    EXPECT_NE(c.error().message.find(message), std::string::npos) << c.error().message;
  }
}

TEST(ServeConfig, ErrorsNameTheFileLineAndKey) {
  struct Case {
    const char *text;
    const char *message;
  };
  const Case cases[] = {
      {"[serve]\nmax_queue = \"lots\"\n", "c:2: key 'serve.max_queue' must be a whole number"},
      {"[serve]\nmemory_budget = \"a lot\"\n",
       "c:2: key 'serve.memory_budget' must be \"auto\" or a size such as "
       "\"6GiB\""},
      {"[serve]\nlisten_on = 1\n", "c:2: unknown key 'serve.listen_on'"},
      {"[serve.models.\"a b\"]\ncommand = [\"x\"]\n", "model name \"a b\" must be 1-128"},
      {"[serve.models.\"../x\"]\ncommand = [\"x\"]\n", "model name \"../x\" must be 1-128"},
      {"[serve.models.a]\ncommand = [\"llama-server\", \"-m\", \"m.gguf\"]\n",
       "its command must pass ${PORT}"},
      {"[serve.models.a]\ncommand = []\n", "key 'serve.models.\"a\".command' must be a list"},
      {"[serve.models.a]\ncommand = [\"x\", 5]\n", "must hold only strings"},
      {"[serve.models.a]\nruntime = \"ollama\"\n", "needs endpoint and model"},
      {"[serve.models.a]\nruntime = \"tgi\"\n", "must be \"ollama\", \"llamacpp\""},
      {"[serve.models.a]\npriority = 5\n", "needs either command"},
      {"[serve.models.a]\ncommand = [\"x\", \"${PORT}\"]\nendpoint = \"http://127.0.0.1:1\"\n",
       "c:1: model \"a\" has a command and endpoint, which go with runtime"},
      {"[serve.models.a]\ncommand = [\"x\", \"${PORT}\"]\nmodel = \"m\"\n",
       "has a command and model, which go with runtime"},
      {"[serve.models.a]\ncommand = [\"x\", \"${PORT}\"]\nprofile_settings = \"yes\"\n",
       "key 'serve.models.\"a\".profile_settings' must be true or false"},
      {"[serve.models.a]\nruntime = \"ollama\"\nendpoint = \"http://127.0.0.1:1\"\nmodel = "
       "\"m\"\nprofile_settings = true\n",
       "has profile_settings = true without a command"},
      {"[serve.models.a]\nruntime = \"vllm\"\nendpoint = \"http://127.0.0.1:1\"\nmodel = "
       "\"m\"\napi_key = \"two words\"\n",
       "key 'serve.models.\"a\".api_key' must hold no space or control character"},
      {"[serve.models.a]\ncommand = [\"x\", \"${PORT}\"]\napi_key = \"k\"\n",
       "has api_key and a command; a server the gateway starts gets its key from the command"},
      {"[serve]\n", "names no model"},
      {"[daemon]\napply = true\n", "no [serve] table"},
      {"[serve\n", "not valid TOML"},
  };
  for (const auto &k : cases) {
    auto c = parse_serve_config(k.text, "c");
    ASSERT_FALSE(c) << k.text;
    EXPECT_NE(c.error().message.find(k.message), std::string::npos)
        << k.text << "\n-> " << c.error().message;
  }
}

// A server already running that asks for a key (vLLM, SGLang, llama-server
// started with --api-key): the model entry names it.
TEST(ServeConfig, AnEndpointModelsApiKey) {
  auto c = parse_serve_config(
      "[serve.models.big]\nruntime = \"vllm\"\nendpoint = \"http://127.0.0.1:8000\"\n"
      "model = \"Qwen/Qwen3-8B\"\napi_key = \"sk-backend-0123\"\n",
      "c");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->models.size(), 1u);
  EXPECT_EQ(c->models[0].api_key, "sk-backend-0123");
  EXPECT_EQ(c->api_key, "");  // the gateway's own stays unset
}

TEST(ServeConfig, ImageGenerationServers) {
  const std::string models = "[serve.models.a]\nruntime = \"ollama\"\nendpoint = \"http://h:1\"\n"
                             "model = \"m\"\n";
  auto none = parse_serve_config(models, "c");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->image_generation.endpoints.empty());
  EXPECT_DOUBLE_EQ(none->image_generation.resume_after_seconds, 5.0);
  auto c = parse_serve_config(models +
                                  "[serve.image_generation]\ncomfyui = \"http://127.0.0.1:8188\"\n"
                                  "a1111 = [\"http://127.0.0.1:7860\", \"http://10.0.0.2\"]\n"
                                  "poll_seconds = 0.5\nresume_after_seconds = 12\n",
                              "c");
  ASSERT_TRUE(c) << c.error().message;
  const RenderWatchConfig &w = c->image_generation;
  ASSERT_EQ(w.endpoints.size(), 3u);
  // In key order (the TOML reader's), then in list order.
  EXPECT_EQ(w.endpoints[0].runtime, "a1111");
  EXPECT_EQ(w.endpoints[0].url, "http://127.0.0.1:7860");
  EXPECT_EQ(w.endpoints[1].url, "http://10.0.0.2");
  EXPECT_EQ(w.endpoints[2].runtime, "comfyui");
  EXPECT_EQ(w.endpoints[2].url, "http://127.0.0.1:8188");
  EXPECT_DOUBLE_EQ(w.poll_seconds, 0.5);
  EXPECT_DOUBLE_EQ(w.resume_after_seconds, 12.0);
  struct Case {
    std::string text, message;
  } cases[] = {
      {"[serve.image_generation]\n", "c:5: [serve.image_generation] names no server"},
      {"[serve.image_generation]\ncomfyui = 8188\n",
       "c:6: key 'serve.image_generation.comfyui' must be a URL or a list of 1-8 URLs"},
      {"[serve.image_generation]\ncomfyui = [\"http://a\", 3]\n", "must be a URL or a list"},
      {"[serve.image_generation]\na1111 = \"https://127.0.0.1:7860\"\n",
       "must be an http:// URL"},
      {"[serve.image_generation]\ncomfyui = \"http://a\"\npoll_seconds = 0\n",
       "key 'serve.image_generation.poll_seconds' must be a number between 0.05 and 60"},
      {"[serve.image_generation]\ncomfyui = \"http://a\"\nresume_after_seconds = \"5\"\n",
       "resume_after_seconds' must be a number"},
      {"[serve.image_generation]\ncomfyui = \"http://a\"\nforge = \"http://b\"\n",
       "unknown key 'serve.image_generation.forge' (known: comfyui, a1111"},
      {"[serve]\nimage_generation = 1\n", "must be a table: [serve.image_generation]"},
  };
  for (const auto &k : cases) {
    auto bad = parse_serve_config(models + k.text, "c");
    ASSERT_FALSE(bad) << k.text;
    EXPECT_NE(bad.error().message.find(k.message), std::string::npos)
        << k.text << "\n-> " << bad.error().message;
  }
}

TEST(ServeConfig, ModelNames) {
  EXPECT_TRUE(valid_model_name("qwen3:8b"));
  EXPECT_TRUE(valid_model_name("library/llama3.2:3b-instruct-q4_K_M"));
  EXPECT_FALSE(valid_model_name(""));
  EXPECT_FALSE(valid_model_name("/etc/passwd"));
  EXPECT_FALSE(valid_model_name("a/../../b"));
  EXPECT_FALSE(valid_model_name("a\nb"));
  EXPECT_FALSE(valid_model_name(std::string(129, 'a')));
}

}  // namespace
}  // namespace memopt::serve

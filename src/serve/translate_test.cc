#include "serve/translate.h"

#include <gtest/gtest.h>

namespace memopt::serve {
namespace {

using nlohmann::json;

TEST(SseReader, EventsWhateverTheChunkBoundaries) {
  const std::string stream =
      "data: {\"a\":1}\n\n: comment\n\ndata: "
      "{\"b\":\r\ndata: 2}\r\n\r\ndata: [DONE]\n\n";
  // Byte by byte gives the same events as all at once.
  SseReader whole, bytes;
  auto all = whole.feed(stream);
  ASSERT_TRUE(all);
  std::vector<std::string> one;
  for (char c : stream) {
    auto e = bytes.feed(std::string_view(&c, 1));
    ASSERT_TRUE(e);
    one.insert(one.end(), e->begin(), e->end());
  }
  const std::vector<std::string> want = {"{\"a\":1}", "{\"b\":\n2}", "[DONE]"};
  EXPECT_EQ(*all, want);
  EXPECT_EQ(one, want);
}

TEST(SseReader, AnEndlessEventIsAnError) {
  SseReader r;
  std::string chunk(1 << 20, 'x');
  Result<std::vector<std::string>> e = std::vector<std::string>{};
  for (int i = 0; i < 17 && e; ++i) e = r.feed(chunk);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "an SSE event from the backend is larger than 16 MiB");
}

TEST(OllamaToOpenAi, ChatStreamsByDefaultAndMapsOptions) {
  auto t = ollama_to_openai(OllamaKind::kChat,
                            json::parse(
                                R"({"model":"tiny","messages":[{"role":"user","content":"hi"}],
                                            "options":{"num_predict":7,"temperature":0}})"),
                            "tiny.gguf");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->path, "/v1/chat/completions");
  EXPECT_TRUE(t->stream);
  EXPECT_EQ(t->body["model"], "tiny.gguf");
  EXPECT_EQ(t->body["max_tokens"], 7);
  EXPECT_EQ(t->body["temperature"], 0);
  EXPECT_EQ(t->body["messages"][0]["content"], "hi");
}

TEST(OllamaToOpenAi, GenerateIsOneUserTurnWithItsSystemPrompt) {
  auto t = ollama_to_openai(
      OllamaKind::kGenerate,
      json::parse(R"({"model":"m","prompt":"p","system":"s","stream":false})"), "m");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_FALSE(t->stream);
  EXPECT_EQ(t->body["messages"],
            json::parse(R"([{"role":"system","content":"s"},{"role":"user","content":"p"}])"));
}

TEST(OllamaToOpenAi, WrongTypesNameTheField) {
  EXPECT_EQ(
      ollama_to_openai(OllamaKind::kChat, json::parse(R"({"messages":"x"})"), "m").error().message,
      "field \"messages\" must be a list of {role, content}");
  EXPECT_EQ(
      ollama_to_openai(OllamaKind::kGenerate, json::parse(R"({"prompt":1})"), "m").error().message,
      "field \"prompt\" must be a string");
  EXPECT_EQ(
      ollama_to_openai(OllamaKind::kChat, json::parse(R"({"messages":[],"stream":"yes"})"), "m")
          .error()
          .message,
      "field \"stream\" must be true or false");
  EXPECT_EQ(
      ollama_to_openai(OllamaKind::kEmbed, json::parse(R"({"input":3})"), "m").error().message,
      "field \"input\" must be a string or a list of strings");
}

TEST(OpenAiToOllama, StreamEventsBecomeNdjsonLines) {
  auto ev = json::parse(R"({"choices":[{"index":0,"delta":{"content":"Hel"}}]})");
  EXPECT_EQ(
      openai_event_to_ollama_line(OllamaKind::kChat, ev, "tiny", "T"),
      R"({"created_at":"T","done":false,"message":{"content":"Hel","role":"assistant"},"model":"tiny"})"
      "\n");
  EXPECT_EQ(openai_event_to_ollama_line(OllamaKind::kGenerate, ev, "tiny", "T"),
            R"({"created_at":"T","done":false,"model":"tiny","response":"Hel"})"
            "\n");
  // A usage-only event carries no text.
  EXPECT_EQ(
      openai_event_to_ollama_line(OllamaKind::kChat, json::parse(R"({"choices":[]})"), "t", "T"),
      "");
  EXPECT_EQ(
      ollama_done_line(OllamaKind::kChat, "tiny", "T", "stop"),
      R"({"created_at":"T","done":true,"done_reason":"stop","message":{"content":"","role":"assistant"},"model":"tiny"})"
      "\n");
}

TEST(OpenAiToOllama, WholeAnswers) {
  auto o = openai_answer_to_ollama(
      OllamaKind::kChat,
      R"({"choices":[{"message":{"role":"assistant","content":"yo"},"finish_reason":"length"}],
          "usage":{"prompt_tokens":3,"completion_tokens":2}})",
      "tiny", "T");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ((*o)["message"]["content"], "yo");
  EXPECT_EQ((*o)["done_reason"], "length");
  EXPECT_EQ((*o)["eval_count"], 2);
  EXPECT_EQ((*o)["prompt_eval_count"], 3);
  auto e = openai_answer_to_ollama(
      OllamaKind::kEmbed, R"({"data":[{"embedding":[0.5,1]},{"embedding":[2]}]})", "m", "T");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ((*e)["embeddings"], json::parse("[[0.5,1],[2]]"));
  EXPECT_FALSE(openai_answer_to_ollama(OllamaKind::kChat, "<html>", "m", "T"));
  EXPECT_FALSE(openai_answer_to_ollama(OllamaKind::kChat, R"({"choices":[]})", "m", "T"));
}

}  // namespace
}  // namespace memopt::serve

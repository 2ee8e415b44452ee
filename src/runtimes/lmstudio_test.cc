// LM Studio's client against a loopback replay of its documented REST API v1
// answers (tests/fixtures/runtimes/lmstudio-v1-models.json), and its errors.
#include <gtest/gtest.h>

#include "runtimes/probe.h"
#include "runtimes/registry.h"
#include "support/replay_server.h"

namespace memopt::runtimes {
namespace {

using memopt::testing::ReplayServer;

std::unique_ptr<RuntimeClient> lmstudio(const ReplayServer& s) {
  const RuntimeDescriptor* d = find_runtime("lmstudio");
  EXPECT_NE(d, nullptr);
  return make_client(d->kind, *parse_base_url(s.url(), 0));
}

TEST(LmStudio, LoadedInstancesWithTheirContext) {
  ReplayServer s;
  s.on_fixture("GET /api/v1/models", "lmstudio-v1-models.json");
  auto c = lmstudio(s);
  auto models = c->loaded_models();
  ASSERT_TRUE(models) << models.error().message;
  ASSERT_EQ(models->size(), 2u);  // the embedding model is downloaded, not loaded
  EXPECT_EQ((*models)[0].name, "qwen3-4b-instruct");
  EXPECT_EQ((*models)[0].context_tokens, 8192u);
  EXPECT_EQ((*models)[1].name, "qwen3-4b-instruct:2");
  EXPECT_EQ((*models)[1].context_tokens, 32768u);
  EXPECT_EQ(runtime_name((*models)[0].runtime), "lmstudio");
  EXPECT_EQ((*models)[0].endpoint, s.url());
  // The probe chain names it before llama.cpp (both may answer on 1234).
  auto kind = probe(s.url());
  ASSERT_TRUE(kind) << kind.error().message;
  EXPECT_EQ(kind->id(), "lmstudio");
}

TEST(LmStudio, UnloadSendsTheInstanceId) {
  ReplayServer s;
  s.on("POST /api/v1/models/unload", 200, R"({"instance_id":"qwen3-4b-instruct:2"})");
  auto c = lmstudio(s);
  ASSERT_TRUE(c->capabilities().unload);
  ASSERT_TRUE(c->unload("qwen3-4b-instruct:2"));
  auto posts = s.requests_to("POST", "/api/v1/models/unload");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].body, R"({"instance_id":"qwen3-4b-instruct:2"})");
}

TEST(LmStudio, ErrorsNameTheUrlAndTheServersMessage) {
  ReplayServer s;
  s.on("POST /api/v1/models/unload", 404, R"({"error":{"message":"No model instance with id x"}})");
  s.on("GET /api/v1/models", 200, R"({"data":[]})");
  auto c = lmstudio(s);
  auto st = c->unload("x");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("No model instance with id x"), std::string::npos)
      << st.error().message;
  auto models = c->loaded_models();
  ASSERT_FALSE(models);
  EXPECT_NE(models.error().message.find("/api/v1/models"), std::string::npos);
}

}  // namespace
}  // namespace memopt::runtimes

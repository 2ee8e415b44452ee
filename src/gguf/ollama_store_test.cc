// Ollama store resolution against a store laid out like Ollama's, using the
// real manifest captured in tests/fixtures/runtimes/ollama-manifest.json.
#include "gguf/ollama_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gguf/model_info.h"
#include "support/gguf_models.h"

namespace memopt::gguf {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kModelBlob =
    "sha256-dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff";

class OllamaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("memopt_ollama_" + std::to_string(::getpid()));
    fs::create_directories(root_ / "blobs");
    put_manifest("registry.ollama.ai/library/llama3.2/3b");
    ASSERT_TRUE(testing::tiny_model(testing::tiny_llama_gqa())
                    .write_file((root_ / "blobs" / kModelBlob).string())
                    .ok());
  }
  void TearDown() override { fs::remove_all(root_); }
  void put_manifest(const std::string& rel) {
    fs::create_directories((root_ / "manifests" / rel).parent_path());
    fs::copy_file(fs::path(MEMOPT_FIXTURES_DIR) / "runtimes/ollama-manifest.json",
                  root_ / "manifests" / rel, fs::copy_options::overwrite_existing);
  }
  std::vector<std::string> roots() const { return {at("absent"), root_.string()}; }
  // A path below the store as the resolver writes it: joined with '/', which
  // Windows accepts too (fs::path's operator/ would use '\\' there).
  std::string at(const std::string& rel) const { return root_.string() + "/" + rel; }
  fs::path root_;
};

TEST(OllamaName, ParsesLikeOllama) {
  auto a = parse_ollama_name("llama3.2:3b");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->manifest_relpath(), "registry.ollama.ai/library/llama3.2/3b");
  auto b = parse_ollama_name("library/qwen2:7b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->manifest_relpath(), "registry.ollama.ai/library/qwen2/7b");
  auto c = parse_ollama_name("hf.co/user/repo:Q4_K_M");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->manifest_relpath(), "hf.co/user/repo/Q4_K_M");
  auto d = parse_ollama_name("mistral");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->manifest_relpath(), "registry.ollama.ai/library/mistral/latest");
  auto e = parse_ollama_name("localhost:5000/me/m:v1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->manifest_relpath(), "localhost:5000/me/m/v1");
  for (const char* bad : {"", "../../etc/passwd", "a/b/c/d", "x:../y", "a//b", "m:"}) {
    auto r = parse_ollama_name(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_EQ(parse_ollama_name("../x").error().message,
            "'../x' is not an Ollama model name ('..' is not a valid part); expected "
            "[host/][namespace/]model[:tag]");
}

TEST(OllamaName, Roots) {
  EXPECT_THAT(ollama_store_roots(std::nullopt, "/home/u"),
              ElementsAre("/home/u/.ollama/models", "/usr/share/ollama/.ollama/models"));
  EXPECT_THAT(ollama_store_roots("/srv/models", "/home/u"),
              ElementsAre("/srv/models", "/usr/share/ollama/.ollama/models"));
  EXPECT_THAT(ollama_store_roots(std::nullopt, std::nullopt),
              ElementsAre("/usr/share/ollama/.ollama/models"));
}

TEST_F(OllamaStoreTest, ResolvesManifestToModelBlob) {
  auto r = resolve_ollama_model("llama3.2:3b", roots());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->root, root_.string());
  EXPECT_EQ(r->manifest_path,
            at("manifests/registry.ollama.ai/library/llama3.2/3b"));
  EXPECT_EQ(r->model_path, at(std::string("blobs/") + kModelBlob));
  EXPECT_EQ(r->model_bytes, 2019377376u);
  EXPECT_EQ(r->projector_path, "");
  auto info = get_model_info(r->model_path);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->architecture, "llama");
  // Same manifest through the explicit namespace form.
  EXPECT_TRUE(resolve_ollama_model("library/llama3.2:3b", roots()).ok());
}

// A vision model with a LoRA (Modelfile ADAPTER): the manifest's
// image.projector and image.adapter layers name their blobs, in order.
TEST_F(OllamaStoreTest, ResolvesProjectorAndAdapters) {
  const std::string proj(64, 'a'), ad1(64, 'b'), ad2(64, 'c');
  std::ofstream(root_ / "manifests/registry.ollama.ai/library/llama3.2/3b")
      << R"({"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:)"
      << std::string(kModelBlob + 7) << R"("},)"
      << R"({"mediaType":"application/vnd.ollama.image.adapter","digest":"sha256:)" << ad1
      << R"("},{"mediaType":"application/vnd.ollama.image.projector","digest":"sha256:)" << proj
      << R"("},{"mediaType":"application/vnd.ollama.image.adapter","digest":"sha256:)" << ad2
      << R"("},{"mediaType":"application/vnd.ollama.image.params","digest":"sha256:)" << proj
      << R"("}]})";
  auto r = resolve_ollama_model("llama3.2:3b", roots());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model_path, at(std::string("blobs/") + kModelBlob));
  EXPECT_EQ(r->projector_path, at("blobs/sha256-" + proj));
  EXPECT_THAT(r->adapter_paths, ElementsAre(at("blobs/sha256-" + ad1),
                                            at("blobs/sha256-" + ad2)));
}

TEST_F(OllamaStoreTest, ClearErrors) {
  auto missing = resolve_ollama_model("qwen2:7b", roots());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "Ollama model 'qwen2:7b' not found (looked for " + at("absent") +
                " (no store), " +
                at("manifests/registry.ollama.ai/library/qwen2/7b") +
                "); pull it with: ollama pull qwen2:7b");
  auto no_store = resolve_ollama_model("llama3.2:3b", {at("absent")});
  ASSERT_FALSE(no_store.ok());
  EXPECT_THAT(no_store.error().message, HasSubstr("no Ollama model store found (looked in "));
  fs::remove(root_ / "blobs" / kModelBlob);
  auto blob = resolve_ollama_model("llama3.2:3b", roots());
  ASSERT_FALSE(blob.ok());
  EXPECT_THAT(blob.error().message, HasSubstr("are missing from the store"));
  std::ofstream(root_ / "manifests/registry.ollama.ai/library/llama3.2/3b") << "{not json";
  auto junk = resolve_ollama_model("llama3.2:3b", roots());
  ASSERT_FALSE(junk.ok());
  EXPECT_THAT(junk.error().message, HasSubstr("not a valid Ollama manifest"));
  std::ofstream(root_ / "manifests/registry.ollama.ai/library/llama3.2/3b")
      << R"({"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:../../etc"}]})";
  auto digest = resolve_ollama_model("llama3.2:3b", roots());
  ASSERT_FALSE(digest.ok());
  EXPECT_THAT(digest.error().message, HasSubstr("is not sha256:<64 hex digits>"));
}

}  // namespace
}  // namespace memopt::gguf

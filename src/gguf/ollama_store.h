#pragma once
// Ollama's on-disk model store: a model name ("llama3.2:3b",
// "library/qwen2:7b", "hf.co/user/repo:Q4_K_M") names a manifest under
// <root>/manifests/<host>/<namespace>/<model>/<tag>; its layer of media type
// application/vnd.ollama.image.model is the GGUF, stored as
// <root>/blobs/sha256-<hex> (research/runtime-apis.md §1.8).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace memopt::gguf {

struct OllamaModelName {
  std::string host = "registry.ollama.ai";
  std::string ns = "library";
  std::string model;
  std::string tag = "latest";
  std::string manifest_relpath() const;  // "<host>/<ns>/<model>/<tag>"
};

// Parses a name as Ollama does, filling the defaults; rejects characters
// that could leave the store ("..", "/", "\\" inside a part).
Result<OllamaModelName> parse_ollama_name(std::string_view name);

// The store roots to search, in order: $OLLAMA_MODELS if set, else
// ~/.ollama/models; then the Linux service's /usr/share/ollama/.ollama/models.
// Pure: the environment values are parameters.
std::vector<std::string> ollama_store_roots(std::optional<std::string> ollama_models_env,
                                            std::optional<std::string> home_env);

struct OllamaModelFiles {
  std::string root;  // the store that held the manifest
  std::string manifest_path;
  std::string model_path;      // blobs/sha256-... of the image.model layer
  uint64_t model_bytes = 0;    // the layer's size from the manifest
  std::string projector_path;  // image.projector layer, "" when none
  std::vector<std::string> adapter_paths;  // image.adapter layers (LoRA GGUFs), in order
};

// Resolves `name` in the first root that has its manifest.
Result<OllamaModelFiles> resolve_ollama_model(std::string_view name,
                                              const std::vector<std::string>& roots);

// A model as a user names it on any command line: the path of a GGUF file,
// or an Ollama model name ("qwen3:8b", "hf.co/org/repo:Q4_K_M") resolved in
// the local store. One rule for every command: an existing file is a file;
// text that looks like a path (starts with '/', './' or '../', or ends in
// .gguf) is a file that is missing; anything else is an Ollama name.
struct ModelRef {
  std::string path;                       // the GGUF to read
  std::optional<OllamaModelFiles> ollama;  // set when an Ollama name was resolved
};
// `roots` empty: the default stores (ollama_store_roots of $OLLAMA_MODELS, $HOME).
Result<ModelRef> resolve_model_ref(std::string_view text, const std::vector<std::string>& roots = {});

}  // namespace memopt::gguf

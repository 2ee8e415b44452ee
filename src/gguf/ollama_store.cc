#include "gguf/ollama_store.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

namespace memopt::gguf {
namespace {

// A manifest is a few hundred bytes; anything this large is not one.
constexpr uint64_t kMaxManifestBytes = 1 << 20;

bool valid_part(std::string_view s) {
  if (s.empty() || s.size() > 350 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

bool is_regular(const std::string& p, uint64_t* size = nullptr) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (size) *size = static_cast<uint64_t>(st.st_size);
  return true;
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// "sha256:<64 hex>" -> "sha256-<64 hex>", the blob file name.
std::optional<std::string> blob_name(const std::string& digest) {
  if (digest.size() != 71 || digest.compare(0, 7, "sha256:") != 0) return std::nullopt;
  for (size_t i = 7; i < digest.size(); ++i) {
    const char c = digest[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return "sha256-" + digest.substr(7);
}

}  // namespace

std::string OllamaModelName::manifest_relpath() const {
  return fmt::format("{}/{}/{}/{}", host, ns, model, tag);
}

Result<OllamaModelName> parse_ollama_name(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return make_error(fmt::format(
        "'{}' is not an Ollama model name ({}); expected [host/][namespace/]model[:tag]", name,
        why));
  };
  if (name.empty()) return bad("it is empty");
  OllamaModelName n;
  std::string_view rest = name;
  // The tag follows the last ':' after the last '/' (a host may carry a port).
  const size_t slash = rest.rfind('/');
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    n.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t p = rest.find('/', start);
    parts.emplace_back(
        rest.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  if (parts.size() > 3) return bad("too many '/' parts");
  n.model = parts.back();
  if (parts.size() >= 2) n.ns = parts[parts.size() - 2];
  if (parts.size() == 3) n.host = parts[0];
  for (const std::string* part : {&n.host, &n.ns, &n.model, &n.tag}) {
    // A host may name a port ("localhost:5000"); nothing else may hold ':'.
    std::string check = *part;
    if (part == &n.host) std::replace(check.begin(), check.end(), ':', '.');
    if (!valid_part(check)) return bad(fmt::format("'{}' is not a valid part", *part));
  }
  return n;
}

std::vector<std::string> ollama_store_roots(std::optional<std::string> ollama_models_env,
                                            std::optional<std::string> home_env) {
  std::vector<std::string> roots;
  if (ollama_models_env && !ollama_models_env->empty()) {
    roots.push_back(*ollama_models_env);
  } else if (home_env && !home_env->empty()) {
    roots.push_back(*home_env + "/.ollama/models");
  }
  roots.push_back("/usr/share/ollama/.ollama/models");
  return roots;
}

Result<OllamaModelFiles> resolve_ollama_model(std::string_view name,
                                              const std::vector<std::string>& roots) {
  auto parsed = parse_ollama_name(name);
  if (!parsed) return parsed.error();
  const OllamaModelName& n = *parsed;
  std::vector<std::string> looked;
  bool any_store = false;
  for (const std::string& root : roots) {
    if (!is_dir(root + "/manifests")) {
      looked.push_back(root + " (no store)");
      continue;
    }
    any_store = true;
    // Ollama writes manifests as named; older versions lower-cased them.
    std::string manifest = root + "/manifests/" + n.manifest_relpath();
    uint64_t manifest_bytes = 0;
    if (!is_regular(manifest, &manifest_bytes)) {
      const std::string lowered = root + "/manifests/" + lower(n.manifest_relpath());
      if (!is_regular(lowered, &manifest_bytes)) {
        looked.push_back(manifest);
        continue;
      }
      manifest = lowered;
    }
    if (manifest_bytes > kMaxManifestBytes) {
      return make_error(fmt::format("{}: {} bytes is too large for an Ollama manifest", manifest,
                                    manifest_bytes));
    }
    std::ifstream in(manifest, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return make_error(
          fmt::format("{}: not a valid Ollama manifest (JSON could not be parsed)", manifest));
    }
    OllamaModelFiles out;
    out.root = root;
    out.manifest_path = manifest;
    const auto layers = doc.find("layers");
    if (layers == doc.end() || !layers->is_array()) {
      return make_error(fmt::format("{}: the manifest has no \"layers\" array", manifest));
    }
    for (const auto& layer : *layers) {
      if (!layer.is_object()) continue;
      const auto mt = layer.find("mediaType");
      const auto dg = layer.find("digest");
      if (mt == layer.end() || !mt->is_string() || dg == layer.end() || !dg->is_string()) continue;
      const std::string media = mt->get<std::string>();
      if (media != "application/vnd.ollama.image.model" &&
          media != "application/vnd.ollama.image.projector" &&
          media != "application/vnd.ollama.image.adapter") {
        continue;
      }
      auto blob = blob_name(dg->get<std::string>());
      if (!blob) {
        return make_error(fmt::format("{}: layer digest '{}' is not sha256:<64 hex digits>",
                                      manifest, dg->get<std::string>()));
      }
      const std::string path = root + "/blobs/" + *blob;
      if (media == "application/vnd.ollama.image.projector") {
        if (out.projector_path.empty()) out.projector_path = path;
        continue;
      }
      // A Modelfile's ADAPTER lines: Ollama hands each to llama.cpp as a LoRA.
      if (media == "application/vnd.ollama.image.adapter") {
        out.adapter_paths.push_back(path);
        continue;
      }
      if (!out.model_path.empty()) continue;  // the first model layer is the model
      out.model_path = path;
      const auto sz = layer.find("size");
      if (sz != layer.end() && sz->is_number_unsigned()) out.model_bytes = sz->get<uint64_t>();
    }
    if (out.model_path.empty()) {
      return make_error(
          fmt::format("{}: no layer of type application/vnd.ollama.image.model (a safetensors or "
                      "MLX model has no single GGUF to inspect)",
                      manifest));
    }
    if (!is_regular(out.model_path)) {
      return make_error(
          fmt::format("Ollama model '{}': its weights {} are missing from the store (re-pull it: "
                      "ollama pull {})",
                      name, out.model_path, name));
    }
    return out;
  }
  if (!any_store) {
    std::string where;
    for (const auto& r : roots) where += (where.empty() ? "" : ", ") + r;
    return make_error(
        fmt::format("no Ollama model store found (looked in {}); set OLLAMA_MODELS to the store "
                    "directory",
                    where));
  }
  std::string where;
  for (const auto& l : looked) where += (where.empty() ? "" : ", ") + l;
  return make_error(
      fmt::format("Ollama model '{}' not found (looked for {}); pull it with: ollama pull {}", name,
                  where, name));
}

Result<ModelRef> resolve_model_ref(std::string_view text, const std::vector<std::string>& roots) {
  const std::string t(text);
  std::error_code ec;
  if (!t.empty() && std::filesystem::is_regular_file(t, ec)) return ModelRef{t, std::nullopt};
  const bool looks_like_path = t.starts_with("/") || t.starts_with("./") || t.starts_with("../") ||
                               t.ends_with(".gguf") || std::filesystem::exists(t, ec);
  if (looks_like_path) {
    const std::string why = std::filesystem::is_directory(t, ec) ? "is a directory" : std::strerror(ENOENT);
    return make_error("no GGUF file at '" + t + "' (cannot open " + t + ": " + why +
                      "): give the path of a .gguf model file");
  }
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto stores = roots.empty() ? ollama_store_roots(env("OLLAMA_MODELS"), env("HOME")) : roots;
  auto r = resolve_ollama_model(text, stores);
  if (!r) {
    return make_error("'" + t + "' is neither a GGUF file nor an Ollama model here: " + r.error().message);
  }
  return ModelRef{r->model_path, *r};
}

}  // namespace memopt::gguf

#include "serve/config.h"

#include <toml++/toml.h>

#include <fmt/format.h>

#include <fstream>

#include "runtimes/http.h"
#include "util/bytes.h"

namespace memopt::serve {
namespace {

std::string where(const std::string &path, const toml::node &n) {
  return path + ":" + std::to_string(n.source().begin.line);
}

// A whole number in [lo, hi], or why not.
std::string integer_in(const toml::node &n, int64_t lo, int64_t hi, int64_t &out) {
  auto v = n.value_exact<int64_t>();
  if (!v) return "must be a whole number";
  if (*v < lo || *v > hi) {
    return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  }
  out = *v;
  return "";
}

std::string text(const toml::node &n, std::string &out, bool allow_empty = false) {
  auto v = n.value_exact<std::string>();
  if (!v) return "must be a string";
  if (!allow_empty && v->empty()) return "must not be empty";
  if (v->size() > 4096) return "is longer than 4096 characters";
  out = *v;
  return "";
}

Status parse_model(const toml::table &t, const std::string &path, const std::string &name,
                   ModelConfig &m) {
  for (const auto &[k, node] : t) {
    const std::string key(k.str());
    std::string why;
    if (key == "command") {
      const toml::array *a = node.as_array();
      if (!a || a->empty() || a->size() > 256) {
        why =
            "must be a list of 1-256 strings, e.g. [\"llama-server\", "
            "\"-m\", \"m.gguf\"]";
      } else {
        for (const auto &e : *a) {
          auto s = e.value_exact<std::string>();
          if (!s || s->size() > 4096 || s->find('\0') != std::string::npos) {
            why = "must hold only strings (up to 4096 characters)";
            break;
          }
          m.command.push_back(*s);
        }
        if (why.empty() && m.command[0].empty()) why = "must start with the program to run";
      }
    } else if (key == "gguf") {
      why = text(node, m.gguf);
    } else if (key == "ttl_seconds") {
      why = integer_in(node, 0, 31LL * 24 * 3600, m.ttl_seconds);
    } else if (key == "pinned") {
      if (auto b = node.value_exact<bool>())
        m.pinned = *b;
      else
        why = "must be true or false";
    } else if (key == "priority") {
      why = integer_in(node, -1000, 1000, m.priority);
    } else if (key == "runtime") {
      why = text(node, m.runtime);
      if (why.empty() && m.runtime != "ollama" && m.runtime != "llamacpp" && m.runtime != "vllm" &&
          m.runtime != "sglang") {
        why = "must be \"ollama\", \"llamacpp\", \"vllm\" or \"sglang\"";
      }
    } else if (key == "endpoint") {
      why = text(node, m.endpoint);
    } else if (key == "model") {
      why = text(node, m.model);
    } else if (key == "api_key") {
      why = text(node, m.api_key);
      if (why.empty() && !runtimes::header_token_safe(m.api_key)) {
        why = "must hold no space or control character (it is sent in a header)";
      }
    } else if (key == "load_timeout_seconds") {
      why = integer_in(node, 1, 3600, m.load_timeout_seconds);
    } else if (key == "profile_settings") {
      if (auto b = node.value_exact<bool>())
        m.profile_settings = *b;
      else
        why = "must be true or false";
    } else {
      return make_error(where(path, node) + ": unknown key 'serve.models.\"" + name + "\"." + key +
                        "' (known: command, gguf, ttl_seconds, pinned, priority, runtime, "
                        "endpoint, model, api_key, load_timeout_seconds, profile_settings)");
    }
    if (!why.empty()) {
      return make_error(where(path, node) + ": key 'serve.models.\"" + name + "\"." + key + "' " +
                        why);
    }
  }
  const std::string at = where(path, t) + ": model \"" + name + "\"";
  if (m.command.empty() && m.runtime.empty()) {
    return make_error(at +
                      " needs either command = [...] (a server the gateway starts) or "
                      "runtime/endpoint/model (one already running)");
  }
  if (!m.command.empty() && !m.runtime.empty()) {
    return make_error(at + " has both command and runtime; give one");
  }
  if (!m.runtime.empty() && (m.endpoint.empty() || m.model.empty())) {
    return make_error(at + " with runtime = \"" + m.runtime + "\" needs endpoint and model");
  }
  if (!m.api_key.empty() && !m.command.empty()) {
    // The server it starts takes its key from the command (--api-key).
    return make_error(at + " has api_key and a command; a server the gateway starts gets its "
                           "key from the command's --api-key");
  }
  if (m.profile_settings && m.command.empty()) {
    // The gateway starts nothing for it: there is no command to add flags to.
    return make_error(at + " has profile_settings = true without a command; the settings go "
                           "to servers the gateway starts");
  }
  if (!m.command.empty() && (!m.endpoint.empty() || !m.model.empty())) {
    // They would be ignored: the gateway talks to the server it starts.
    return make_error(at + " has a command and " + (m.endpoint.empty() ? "model" : "endpoint") +
                      ", which go with runtime = \"...\" (a server already running); give one");
  }
  if (!m.command.empty()) {
    bool port = false;
    for (const auto &a : m.command) port |= a.find("${PORT}") != std::string::npos;
    if (!port) {
      return make_error(at +
                        ": its command must pass ${PORT} (the port the gateway picks), "
                        "e.g. \"--port\", \"${PORT}\"");
    }
  }
  return Ok{};
}

// A number (1 and 1.0 alike) in [lo, hi], or why not.
std::string number_in(const toml::node &n, double lo, double hi, double &out) {
  auto v = n.value<double>();
  if (!n.is_number() || !v || !(*v >= lo && *v <= hi)) {
    return fmt::format("must be a number between {} and {}", lo, hi);
  }
  out = *v;
  return "";
}

// One image server's URL: http:// only (the gateway polls it in the clear,
// like its backends), a host, a port.
std::string render_url(const std::string &runtime, const std::string &text) {
  auto url = runtimes::parse_base_url(text, runtime == "comfyui" ? 8188 : 7860);
  if (!url) return "is not a URL: " + url.error().message;
  if (url->scheme != "http") return "must be an http:// URL (the gateway polls it in the clear)";
  return "";
}

Status parse_image_generation(const toml::table &t, const std::string &path,
                              RenderWatchConfig &w) {
  for (const auto &[k, node] : t) {
    const std::string key(k.str());
    std::string why;
    if (key == "comfyui" || key == "a1111") {
      std::vector<std::string> urls;
      if (auto one = node.value_exact<std::string>()) {
        urls.push_back(*one);
      } else if (const toml::array *a = node.as_array(); a && !a->empty() && a->size() <= 8) {
        for (const auto &e : *a) {
          auto u = e.value_exact<std::string>();
          if (!u) {
            urls.clear();
            break;
          }
          urls.push_back(*u);
        }
      }
      if (urls.empty()) {
        why = "must be a URL or a list of 1-8 URLs, e.g. \"http://127.0.0.1:" +
              std::string(key == "comfyui" ? "8188" : "7860") + "\"";
      }
      for (const auto &u : urls) {
        if (u.size() > 4096) {
          why = "holds a URL longer than 4096 characters";
        } else if (std::string bad = render_url(key, u); !bad.empty()) {
          why = "\"" + u.substr(0, 80) + "\" " + bad;
        }
        if (!why.empty()) break;
        w.endpoints.push_back({key, u});
      }
    } else if (key == "poll_seconds") {
      why = number_in(node, 0.05, 60, w.poll_seconds);
    } else if (key == "resume_after_seconds") {
      why = number_in(node, 0, 3600, w.resume_after_seconds);
    } else {
      return make_error(where(path, node) + ": unknown key 'serve.image_generation." + key +
                        "' (known: comfyui, a1111, poll_seconds, resume_after_seconds)");
    }
    if (!why.empty()) {
      return make_error(where(path, node) + ": key 'serve.image_generation." + key + "' " + why);
    }
  }
  if (w.endpoints.empty()) {
    return make_error(where(path, t) +
                      ": [serve.image_generation] names no server; add comfyui = "
                      "\"http://127.0.0.1:8188\" and/or a1111 = \"http://127.0.0.1:7860\"");
  }
  return Ok{};
}

Status parse_serve_table(const toml::table &t, const std::string &path, ServeConfig &c) {
  for (const auto &[k, node] : t) {
    const std::string key(k.str());
    std::string why;
    if (key == "listen") {
      why = text(node, c.listen);
    } else if (key == "memory_budget") {
      std::string v;
      why = text(node, v);
      if (why.empty() && v != "auto") {
        auto b = parse_bytes(v);
        if (!b || *b == 0) {
          why = "must be \"auto\" or a size such as \"6GiB\"";
        } else {
          c.memory_budget_bytes = *b;
        }
      }
    } else if (key == "queue_timeout_seconds") {
      why = integer_in(node, 1, 86400, c.queue_timeout_seconds);
    } else if (key == "max_queue") {
      why = integer_in(node, 0, 100000, c.max_queue);
    } else if (key == "api_key") {
      why = text(node, c.api_key);
      if (why.empty() && c.api_key.size() < 16) why = "must be at least 16 characters";
    } else if (key == "preload") {
      auto v = node.value_exact<bool>();
      if (v) {
        c.preload = *v;
      } else {
        why = "must be true or false";
      }
    } else if (key == "preload_min_probability") {
      auto v = node.value<double>();  // 1 and 1.0 alike
      if (!v || !(*v >= 0 && *v <= 1)) {
        why = "must be a number between 0 and 1";
      } else {
        c.preload_min_probability = *v;
      }
    } else if (key == "preload_idle_seconds") {
      why = integer_in(node, 0, 86400, c.preload_idle_seconds);
    } else if (key == "preload_evict_idle_seconds") {
      why = integer_in(node, 0, 7 * 86400, c.preload_evict_idle_seconds);
    } else if (key == "image_generation") {
      const toml::table *ig = node.as_table();
      if (!ig) {
        why = "must be a table: [serve.image_generation]";
      } else if (auto st = parse_image_generation(*ig, path, c.image_generation); !st) {
        return st.error();
      }
    } else if (key == "models") {
      const toml::table *models = node.as_table();
      if (!models) {
        why = "must be a table: [serve.models.\"name\"]";
      } else {
        for (const auto &[mk, mnode] : *models) {
          ModelConfig m;
          m.name = std::string(mk.str());
          if (!valid_model_name(m.name)) {
            return make_error(where(path, mnode) + ": model name \"" + m.name +
                              "\" must be 1-128 letters, digits or . _ - : /");
          }
          const toml::table *mt = mnode.as_table();
          if (!mt) {
            return make_error(where(path, mnode) + ": key 'serve.models.\"" + m.name +
                              "\"' must be a table");
          }
          if (auto st = parse_model(*mt, path, m.name, m); !st) return st.error();
          c.models.push_back(std::move(m));
        }
      }
    } else {
      return make_error(where(path, node) + ": unknown key 'serve." + key +
                        "' (known: listen, memory_budget, queue_timeout_seconds, max_queue, "
                        "api_key, preload, preload_min_probability, preload_idle_seconds, "
                        "preload_evict_idle_seconds, image_generation, models)");
    }
    if (!why.empty()) return make_error(where(path, node) + ": key 'serve." + key + "' " + why);
  }
  return Ok{};
}

}  // namespace

const ModelConfig *ServeConfig::find(std::string_view name) const {
  for (const auto &m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

bool valid_model_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '/' || name.front() == '.') return false;
  if (name.find("..") != std::string_view::npos) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':' || c == '/';
    if (!ok) return false;
  }
  return true;
}

Result<ServeConfig> parse_serve_config(std::string_view toml_text, const std::string &path) {
  ServeConfig c;
  c.source = path;
  toml::table root;
  try {
    root = toml::parse(toml_text, path);
  } catch (const toml::parse_error &e) {
    return make_error(path + ":" + std::to_string(e.source().begin.line) +
                      ": not valid TOML: " + std::string(e.description()));
  }
  const toml::node *serve = root.get("serve");
  if (!serve) {
    return make_error(path +
                      ": no [serve] table; add one with [serve.models.\"name\"] entries "
                      "(see README, \"Serving models\")");
  }
  const toml::table *t = serve->as_table();
  if (!t) return make_error(where(path, *serve) + ": key 'serve' must be a table");
  if (auto st = parse_serve_table(*t, path, c); !st) return st.error();
  if (c.models.empty()) {
    return make_error(path + ": [serve] names no model; add [serve.models.\"name\"] tables");
  }
  return c;
}

Result<ServeConfig> load_serve_config(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot read the config file (give one with --config)");
  // A config is a few KB; 4 MiB is far above any real one.
  constexpr std::streamsize kMax = 4 << 20;
  std::string buf(kMax + 1, '\0');
  in.read(buf.data(), kMax + 1);
  if (in.gcount() > kMax) return make_error(path + ": larger than 4 MiB, not a config file");
  buf.resize(static_cast<size_t>(in.gcount()));
  return parse_serve_config(buf, path);
}

}  // namespace memopt::serve

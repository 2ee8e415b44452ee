#include "policy/profile.h"

#include <fcntl.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <span>
#include <sstream>

#include "util/fs_write.h"

namespace memopt::policy {
namespace {

// Seed values (ADR-001); keys the seed leaves out of a profile get the
// struct's defaults, chosen to match that profile's intent.
Profile local_llm() {
  Profile p;
  p.name = "local_llm";
  p.reserve_vram_percent = 90;
  p.reserve_ram_gb = 8;
  p.kv_cache_limit_percent = 30;
  p.auto_offload_threshold = 95;
  p.auto_compact_threshold = 80;
  p.prefer_throughput = false;
  p.dynamic_batching = true;
  p.numa_aware = true;
  p.idle_unload_seconds = 300;  // Ollama's default keep_alive is 5 minutes
  return p;
}

Profile batch_inference() {
  Profile p;
  p.name = "batch_inference";
  p.reserve_vram_percent = 95;
  p.reserve_ram_gb = 4;
  p.kv_cache_limit_percent = 50;
  p.auto_offload_threshold = 98;
  p.auto_compact_threshold = 90;
  p.prefer_throughput = true;
  p.dynamic_batching = true;
  p.continuous_batching = true;
  p.max_batch_size = 32;
  p.idle_unload_seconds = 0;  // serving engines stay loaded
  return p;
}

Profile image_generation() {
  Profile p;
  p.name = "image_generation";
  p.reserve_vram_percent = 85;
  p.reserve_ram_gb = 16;
  p.auto_offload_threshold = 90;
  p.auto_compact_threshold = 80;
  p.clear_cache_between_generations = true;
  p.prefer_throughput = false;
  p.enable_attention_slicing = true;
  p.enable_vae_tiling = true;
  p.max_batch_size = 1;
  p.idle_unload_seconds = 120;  // an idle LLM yields the GPU to renders quickly
  p.render_handoff = "queue";   // and a chat request waits for the render to end
  return p;
}

std::string where(const std::string& path, const toml::node& n) {
  return path + ":" + std::to_string(n.source().begin.line);
}

// One key: how to read it from a node into a Profile, with its range.
struct KeySpec {
  const char* key;
  std::function<std::string(const toml::node&, Profile&)> set;  // "" ok, else why not
};

std::function<std::string(const toml::node&, Profile&)> number(double Profile::*field, double lo,
                                                               double hi) {
  return [=](const toml::node& n, Profile& p) -> std::string {
    double v;
    if (auto i = n.value_exact<int64_t>()) {
      v = static_cast<double>(*i);
    } else if (auto d = n.value_exact<double>()) {
      v = *d;
    } else {
      return "must be a number";
    }
    if (!std::isfinite(v) || v < lo || v > hi) {
      std::ostringstream os;
      os << "is " << v << ", must be between " << lo << " and " << hi;
      return os.str();
    }
    p.*field = v;
    return "";
  };
}

std::function<std::string(const toml::node&, Profile&)> integer(int64_t Profile::*field, int64_t lo,
                                                                int64_t hi) {
  return [=](const toml::node& n, Profile& p) -> std::string {
    auto i = n.value_exact<int64_t>();
    if (!i) return "must be an integer";
    if (*i < lo || *i > hi) {
      return "is " + std::to_string(*i) + ", must be between " + std::to_string(lo) + " and " +
             std::to_string(hi);
    }
    p.*field = *i;
    return "";
  };
}

std::function<std::string(const toml::node&, Profile&)> boolean(bool Profile::*field) {
  return [=](const toml::node& n, Profile& p) -> std::string {
    auto b = n.value_exact<bool>();
    if (!b) return "must be true or false";
    p.*field = *b;
    return "";
  };
}

std::function<std::string(const toml::node&, Profile&)> choice(
    std::string Profile::*field, std::span<const std::string_view> allowed) {
  return [=](const toml::node& n, Profile& p) -> std::string {
    auto v = n.value_exact<std::string>();
    std::string names;
    for (std::string_view a : allowed) names += (names.empty() ? "\"" : ", \"") + std::string(a) + "\"";
    if (!v) return "must be one of " + names;
    for (std::string_view a : allowed) {
      if (*v == a) {
        p.*field = *v;
        return "";
      }
    }
    return "must be one of " + names;
  };
}

const std::vector<KeySpec>& profile_keys() {
  static const std::vector<KeySpec> keys = {
      {"reserve_vram_percent", number(&Profile::reserve_vram_percent, 0, 100)},
      {"reserve_ram_gb", number(&Profile::reserve_ram_gb, 0, 16384)},
      {"kv_cache_limit_percent", number(&Profile::kv_cache_limit_percent, 0, 100)},
      {"auto_offload_threshold", number(&Profile::auto_offload_threshold, 1, 100)},
      {"auto_compact_threshold", number(&Profile::auto_compact_threshold, 1, 100)},
      {"prefer_throughput", boolean(&Profile::prefer_throughput)},
      {"dynamic_batching", boolean(&Profile::dynamic_batching)},
      {"continuous_batching", boolean(&Profile::continuous_batching)},
      {"max_batch_size", integer(&Profile::max_batch_size, 1, 65536)},
      {"numa_aware", boolean(&Profile::numa_aware)},
      {"clear_cache_between_generations", boolean(&Profile::clear_cache_between_generations)},
      {"enable_attention_slicing", boolean(&Profile::enable_attention_slicing)},
      {"enable_vae_tiling", boolean(&Profile::enable_vae_tiling)},
      {"idle_unload_seconds", integer(&Profile::idle_unload_seconds, 0, 30LL * 24 * 3600)},
      {"render_handoff", choice(&Profile::render_handoff, kRenderHandoffModes)},
  };
  return keys;
}

bool valid_profile_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

Status parse_daemon_table(const toml::table& t, const std::string& path, DaemonConfig& d) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    std::string why;
    if (key == "apply") {
      if (auto b = node.value_exact<bool>()) d.apply = *b; else why = "must be true or false";
    } else if (key == "interval_seconds") {
      auto v = node.value<double>();
      if (!v || !node.is_number()) why = "must be a number";
      else if (!(*v >= 0.1 && *v <= 3600)) why = "must be between 0.1 and 3600";
      else d.interval_seconds = *v;
    } else if (key == "retention_days") {
      auto v = node.value_exact<int64_t>();
      if (!v) why = "must be an integer";
      else if (*v < 1 || *v > 3650) why = "must be between 1 and 3650";
      else d.retention_days = *v;
    } else if (key == "listen") {
      auto v = node.value_exact<std::string>();
      if (!v) why = "must be a string HOST:PORT";
      else d.listen = *v;
    } else if (key == "mode") {
      auto v = node.value_exact<std::string>();
      if (!v || (*v != "predictive" && *v != "threshold")) why = "must be \"predictive\" or \"threshold\"";
      else d.mode = *v;
    } else if (key == "tls_cert" || key == "tls_key") {
      auto v = node.value_exact<std::string>();
      if (!v || v->empty())
        why = "must be the path of a PEM file";
      else
        (key == "tls_cert" ? d.tls_cert : d.tls_key) = *v;
    } else {
      return make_error(
          where(path, node) + ": unknown key 'daemon." + key +
          "' (known: apply, interval_seconds, retention_days, listen, mode, tls_cert, tls_key)");
    }
    if (!why.empty()) {
      return make_error(where(path, node) + ": key 'daemon." + key + "' " + why);
    }
  }
  return Ok{};
}

std::string known_keys() {
  std::string s;
  for (const auto& k : profile_keys()) {
    if (!s.empty()) s += ", ";
    s += k.key;
  }
  return s;
}

}  // namespace

std::vector<std::string> profile_key_names() {
  std::vector<std::string> out;
  for (const auto& k : profile_keys()) out.emplace_back(k.key);
  return out;
}

const Profile* ProfileSet::find(std::string_view name) const {
  for (const auto& p : profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<Profile> builtin_profiles() { return {local_llm(), batch_inference(), image_generation()}; }

Result<ProfileSet> parse_profiles(std::string_view toml_text, const std::string& path) {
  ProfileSet set;
  set.profiles = builtin_profiles();
  set.source = path;
  toml::table root;
  try {
    root = toml::parse(toml_text, path);
  } catch (const toml::parse_error& e) {
    return make_error(path + ":" + std::to_string(e.source().begin.line) +
                      ": not valid TOML: " + std::string(e.description()));
  }
  for (const auto& [k, node] : root) {
    std::string top(k.str());
    if (top == "daemon") {
      const toml::table* t = node.as_table();
      if (!t) return make_error(where(path, node) + ": key 'daemon' must be a table");
      if (auto st = parse_daemon_table(*t, path, set.daemon); !st) return st.error();
      continue;
    }
    if (top == "serve") continue;  // the gateway's table, read by src/serve/config.cc
    if (top != "ai_mode") {
      return make_error(where(path, node) + ": unknown key '" + top +
                        "' (known: [ai_mode.<profile>], [daemon], [serve])");
    }
    const toml::table* modes = node.as_table();
    if (!modes) return make_error(where(path, node) + ": key 'ai_mode' must be a table");
    for (const auto& [pk, pnode] : *modes) {
      std::string name(pk.str());
      const toml::table* pt = pnode.as_table();
      if (!pt) {
        return make_error(where(path, pnode) + ": key 'ai_mode." + name +
                          "' must be a table [ai_mode." + name + "]");
      }
      if (!valid_profile_name(name)) {
        return make_error(where(path, pnode) + ": profile name '" + name +
                          "' must be 1-64 letters, digits, '_' or '-'");
      }
      Profile* target = nullptr;
      for (auto& p : set.profiles) {
        if (p.name == name) target = &p;
      }
      if (!target) {
        Profile fresh = local_llm();
        fresh.name = name;
        set.profiles.push_back(fresh);
        target = &set.profiles.back();
      }
      for (const auto& [kk, vnode] : *pt) {
        std::string key(kk.str());
        const KeySpec* spec = nullptr;
        for (const auto& s : profile_keys()) {
          if (key == s.key) spec = &s;
        }
        if (!spec) {
          return make_error(where(path, vnode) + ": unknown key 'ai_mode." + name + "." + key +
                            "' (known: " + known_keys() + ")");
        }
        std::string why = spec->set(vnode, *target);
        if (!why.empty()) {
          return make_error(where(path, vnode) + ": key 'ai_mode." + name + "." + key + "' " +
                            why);
        }
      }
      if (target->auto_compact_threshold > target->auto_offload_threshold) {
        return make_error(where(path, pnode) + ": profile '" + name +
                          "': auto_compact_threshold (" +
                          std::to_string(target->auto_compact_threshold) +
                          ") must not exceed auto_offload_threshold (" +
                          std::to_string(target->auto_offload_threshold) + ")");
      }
    }
  }
  return set;
}

Result<ProfileSet> load_profiles(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      ProfileSet set;
      set.profiles = builtin_profiles();
      return set;
    }
    return make_error("cannot read " + path + ": " + std::strerror(errno) +
                      " (fix its permissions or remove it to use the built-in profiles)");
  }
  // A config file is a few KiB; refuse anything huge rather than read it.
  constexpr std::streamsize kMaxConfigBytes = 1 << 20;
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), kMaxConfigBytes + 1);
  if (in.gcount() > kMaxConfigBytes) {
    return make_error(path + ": larger than 1 MiB; this is not a ruvector-memopt config file");
  }
  text.resize(static_cast<size_t>(in.gcount()));
  return parse_profiles(text, path);
}

std::string active_profile_path(const std::string& state_dir) { return state_dir + "/active_profile"; }

Result<std::string> active_profile(const std::string& state_dir) {
  const std::string path = active_profile_path(state_dir);
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::string(kDefaultProfile);
    return make_error("cannot read " + path + ": " + std::strerror(errno));
  }
  std::string name;
  std::getline(in, name);
  if (!valid_profile_name(name)) {
    return make_error(path + ": holds '" + name.substr(0, 80) +
                      "', not a profile name; run `ruvector-memopt ai profile <name>` to reset it");
  }
  return name;
}

Status set_active_profile(const std::string& state_dir, const std::string& name) {
  if (!valid_profile_name(name)) return make_error("'" + name + "' is not a valid profile name");
  if (auto st = make_private_dir(state_dir); !st) return st;
  const std::string path = active_profile_path(state_dir);
  // Atomic: a reader (the daemon) sees the old name or the new one, never a
  // half-written file, even across a crash.
  if (auto st = write_file_atomic(path, name + "\n"); !st) {
    return make_error("cannot save the active profile: " + st.error().message);
  }
  return Ok{};
}

}  // namespace memopt::policy

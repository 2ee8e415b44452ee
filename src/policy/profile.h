#pragma once
// AI Mode profiles: the seed's three built-in profiles (ADR-001 "AI Mode
// Profiles", ruvnet/optimizer docs/adr/ADR-001-ai-mode.md) plus user profiles
// from $XDG_CONFIG_HOME/ruvector-memopt/config.toml ([ai_mode.<name>] tables),
// and the active-profile choice persisted in $XDG_STATE_HOME/ruvector-memopt/.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace memopt::policy {

// One profile: thresholds the policy engine acts on. Percentages are of the
// GPU's total memory; the seed's key names are kept verbatim.
struct Profile {
  std::string name;
  double reserve_vram_percent = 90;    // share of VRAM AI workloads may plan to fill
  double reserve_ram_gb = 8;           // host RAM kept free (swap prevention)
  double kv_cache_limit_percent = 30;  // one model's KV cache, as % of its GPU
  double auto_offload_threshold = 95;  // VRAM % that starts freeing memory
  double auto_compact_threshold = 80;  // VRAM % that starts right-sizing contexts
  bool prefer_throughput = false;
  bool dynamic_batching = true;
  bool continuous_batching = false;
  int64_t max_batch_size = 8;
  bool numa_aware = true;
  bool clear_cache_between_generations = false;
  bool enable_attention_slicing = false;
  bool enable_vae_tiling = false;
  // Not in the seed: unload a model idle this long (0 = never). Users asked
  // for a cross-runtime idle TTL (research: origin-and-user-needs.md, pain 6).
  int64_t idle_unload_seconds = 300;
  // Not in the seed: what happens to LLMs while an image server renders
  // (research pain point 7, a render and a chat model fighting over one GPU).
  // "off": nothing; "queue": idle LLMs yield their memory (the daemon unloads
  // them; the gateway unloads or sleeps its models) and the gateway holds new
  // LLM requests in its queue until the render is over; "reject": the same,
  // but new requests get 503 + Retry-After at once.
  std::string render_handoff = "off";
};

inline constexpr std::string_view kRenderHandoffModes[] = {"off", "queue", "reject"};

// Daemon settings from the [daemon] table of the same file.
struct DaemonConfig {
  bool apply = false;
  double interval_seconds = 1.0;
  int64_t retention_days = 7;
  std::string listen = "127.0.0.1:7878";
  // "predictive": act on forecast OOMs (and sample faster while one is
  // near); "threshold": act whenever VRAM crosses auto_offload_threshold.
  std::string mode = "predictive";
  // TLS for the API (PEM files); required with --allow-remote.
  std::string tls_cert;
  std::string tls_key;
};

struct ProfileSet {
  std::vector<Profile> profiles;  // built-ins first, then user-defined
  DaemonConfig daemon;
  std::string source;  // the config file read, or "" when only built-ins

  const Profile* find(std::string_view name) const;
};

// The keys an [ai_mode.<name>] table accepts, in the parser's order
// (profile_effects.h says what each changes).
std::vector<std::string> profile_key_names();

// The three built-in profiles with the seed's values.
std::vector<Profile> builtin_profiles();

// Parses config text; `path` is only used in error messages
// ("<path>:<line>: key 'x' ..."). Keys a user omits keep the built-in value
// of the profile of the same name, or local_llm's for a new profile.
Result<ProfileSet> parse_profiles(std::string_view toml_text, const std::string& path);
// Reads `path`; a missing file gives the built-ins, any other failure an error.
Result<ProfileSet> load_profiles(const std::string& path);

// XDG locations (env is read only here, at the edge).
std::string default_config_path();  // $XDG_CONFIG_HOME/ruvector-memopt/config.toml
// $XDG_STATE_HOME/ruvector-memopt, else $HOME/.local/state/ruvector-memopt,
// else the passwd entry's home; "" when none is known (never a shared /tmp:
// make_private_dir("") then says what to set).
std::string default_state_dir();

inline constexpr std::string_view kDefaultProfile = "local_llm";
// Name of the active profile stored in `state_dir` (kDefaultProfile if none).
Result<std::string> active_profile(const std::string& state_dir);
// Persists `name` atomically (write temp file, fsync, rename).
Status set_active_profile(const std::string& state_dir, const std::string& name);
// Creates `dir` and its parents (mode 0700 for new ones), then refuses a
// `dir` that another user owns or that group or others may write, and a
// parent that another user (not root) owns or that others may write without
// the sticky bit: whoever controls them controls the files inside.
// On Windows (private_dir_win.cc): creates `dir` and its parents, then
// refuses one whose owner is not this user and one whose access list lets
// Everyone, Users or Authenticated Users write it.
Status make_private_dir(const std::string& dir);
// A secret file (the daemon's API token) its reader may trust: it exists,
// this user owns it and no one else may read it (POSIX: mode 0600 or
// stricter; Windows: no access entry lets Everyone, Users, Authenticated
// Users or Anonymous read or write it). `what` names it in the error.
Status check_private_file(const std::string& path, const std::string& what);
// Creates `path` holding `content` as a new file only (never through a file
// or link already there) that only this user may read or write (POSIX: mode
// 0600; Windows: an access list naming this user alone), flushed to disk.
Status create_private_file(const std::string& path, const std::string& content,
                           const std::string& what);
// Path of the file holding the active profile name.
std::string active_profile_path(const std::string& state_dir);

}  // namespace memopt::policy

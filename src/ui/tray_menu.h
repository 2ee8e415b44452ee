#pragma once
// The native tray's menu as data: what the seed's tray showed (and the web
// dashboard shows as a page), built from the daemon's GET /api/v1/status,
// and the API request each entry sends. Pure: no I/O, no GTK; the GTK shell
// (src/tray/) only turns this into widgets.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ui/dashboard.h"

namespace memopt::ui {

enum class TrayActionKind {
  kOptimize,        // Optimize AI Workload
  kCompactKv,       // Compact KV Cache
  kUnloadInactive,  // Unload Inactive Models
  kSetProfile,      // a profile radio item
  kPauseActions,    // AI Mode off: POST /api/v1/mode {"actions": "paused"}
  kResumeActions,   // AI Mode on: POST /api/v1/mode {"actions": "active"}
  kOpenDashboard,   // opens the web dashboard (no API call)
  kQuit,
};

struct TrayAction {
  TrayActionKind kind = TrayActionKind::kQuit;
  std::string profile;  // kSetProfile: "local_llm", ...
};

struct TrayItem {
  enum class Type { kLabel, kSeparator, kAction, kRadio };
  Type type = Type::kLabel;
  std::string label;
  bool checked = false;   // kRadio: the active profile
  bool sensitive = true;  // false: shown greyed (no token, daemon down)
  std::optional<TrayAction> action;
};

struct TrayMenu {
  std::string header;           // "Memory 25% | VRAM 77%"
  std::vector<TrayItem> items;  // header first, Quit last
};

// The profiles the switcher offers, as the policy names them.
struct TrayProfile {
  const char* name;
  const char* label;
};
inline constexpr TrayProfile kTrayProfiles[] = {{"local_llm", "Local LLM"},
                                                {"batch_inference", "Batch Inference"},
                                                {"image_generation", "Image Generation"}};

// `can_act`: a token is at hand (without one the actions are greyed, as in
// the web page without a token).
TrayMenu tray_menu(const Dashboard& d, bool can_act);
// The status document (schema ruvector-memopt.status/1); untrusted.
TrayMenu tray_menu_from_status(const nlohmann::json& status, bool can_act);
// The daemon could not be read: the header says why, the actions are greyed;
// Open Dashboard and Quit stay.
TrayMenu tray_menu_unreachable(const std::string& why);

struct ApiRequest {
  std::string method;         // "POST"
  std::string path;           // "/api/v1/optimize"
  std::string body;           // JSON text
  std::string authorization;  // "Bearer TOKEN"
};

// The daemon request an action sends (the same as the web page's buttons,
// src/ui/web/app.js); nullopt for Open Dashboard and Quit.
std::optional<ApiRequest> tray_request(const TrayAction& a, const std::string& token);

// The web dashboard's address (the daemon serves it at "/"), without the
// token: see Open Dashboard in src/tray/cmd_tray.cc.
std::string tray_dashboard_url(const std::string& base_url);

}  // namespace memopt::ui

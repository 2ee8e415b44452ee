#include "ui/tray_menu.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "ui/dashboard_json.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::ui {
namespace {

// Rounded percent, as the web page's pct() (src/ui/web/app.js).
std::optional<long> percent(uint64_t used, uint64_t total) {
  if (total == 0) return std::nullopt;
  return std::lround(100.0 * static_cast<double>(used) / static_cast<double>(total));
}

// A label shows what the daemon's status says (model and GPU names: any
// bytes): control characters escaped, valid UTF-8, at most 122 columns (an
// indent and a 120-column message), so no menu toolkit acts on them (Win32
// menus split at a tab, GTK drops invalid UTF-8).
TrayItem label(std::string text) {
  TrayItem it;
  it.type = TrayItem::Type::kLabel;
  it.label = fit(text, 122);
  it.sensitive = false;
  return it;
}

TrayItem separator() {
  TrayItem it;
  it.type = TrayItem::Type::kSeparator;
  return it;
}

TrayItem action(std::string text, TrayActionKind kind, bool sensitive, std::string profile = {}) {
  TrayItem it;
  it.type = kind == TrayActionKind::kSetProfile ? TrayItem::Type::kRadio : TrayItem::Type::kAction;
  it.label = std::move(text);
  it.sensitive = sensitive;
  it.action = TrayAction{kind, std::move(profile)};
  return it;
}

// The actions, the profile switcher, Open Dashboard and Quit: the part of
// the menu every state shares.
void add_controls(TrayMenu& m, bool can_act, const std::string& active_profile) {
  m.items.push_back(separator());
  m.items.push_back(action("Optimize AI Workload", TrayActionKind::kOptimize, can_act));
  m.items.push_back(action("Compact KV Cache", TrayActionKind::kCompactKv, can_act));
  m.items.push_back(action("Unload Inactive Models", TrayActionKind::kUnloadInactive, can_act));
  m.items.push_back(separator());
  m.items.push_back(label("Profile"));
  for (const TrayProfile& p : kTrayProfiles) {
    TrayItem it = action(p.label, TrayActionKind::kSetProfile, can_act, p.name);
    it.checked = active_profile == p.name;
    m.items.push_back(std::move(it));
  }
  m.items.push_back(separator());
  m.items.push_back(action("Open Dashboard", TrayActionKind::kOpenDashboard, true));
  m.items.push_back(action("Quit", TrayActionKind::kQuit, true));
}

// "llama3.2:3b (ollama)  VRAM 3.3 GiB  KV 256 MiB of 1.0 GiB"
std::string workload_line(const WorkloadView& w) {
  std::string line =
      (w.model.empty() ? std::string("(unknown model)") : w.model) + " (" + w.runtime + ")";
  if (w.vram_bytes) line += "  VRAM " + format_bytes(*w.vram_bytes);
  if (w.kv_used_bytes && w.kv_capacity_bytes) {
    line += "  KV " + format_bytes(*w.kv_used_bytes) + " of " + format_bytes(*w.kv_capacity_bytes);
  } else if (w.kv_capacity_bytes) {
    line += "  KV " + format_bytes(*w.kv_capacity_bytes);
  } else if (w.kv_used_bytes) {
    line += "  KV " + format_bytes(*w.kv_used_bytes);
  }
  return line;
}

// A menu is read at a glance: the largest few workloads, then a count.
constexpr size_t kMaxWorkloadItems = 12;

}  // namespace

TrayMenu tray_menu(const Dashboard& d, bool can_act) {
  TrayMenu m;
  const uint64_t ram_used =
      d.ram_total_bytes > d.ram_available_bytes ? d.ram_total_bytes - d.ram_available_bytes : 0;
  uint64_t vram_used = 0, vram_total = 0;
  for (const GpuView& g : d.gpus) {
    vram_used += g.used_bytes;
    vram_total += g.total_bytes;
  }
  const auto mem = percent(ram_used, d.ram_total_bytes);
  const auto vram = percent(vram_used, vram_total);
  m.header = "Memory " + (mem ? std::to_string(*mem) + "%" : std::string("?")) + " | VRAM " +
             (vram ? std::to_string(*vram) + "%" : std::string("no GPU"));
  m.items.push_back(label(m.header));
  m.items.push_back(separator());
  m.items.push_back(label("AI Mode"));
  size_t shown = 0, ai = 0;
  for (const WorkloadView& w : d.workloads) {
    // Non-AI VRAM holders ("other") are the dashboard's to list; a row
    // without a runtime is a malformed entry of the payload.
    if (w.runtime == "other" || w.runtime.empty()) continue;
    ++ai;
    if (shown < kMaxWorkloadItems) {
      m.items.push_back(label("  " + workload_line(w)));
      ++shown;
    }
  }
  if (ai == 0) m.items.push_back(label("  no AI workloads"));
  if (ai > shown)
    m.items.push_back(label("  " + std::to_string(ai - shown) + " more (Open Dashboard)"));
  // The AI Mode toggle: the daemon's actions paused or applied (its label
  // says the state now; a click asks for the other one).
  if (d.actions_mode == "active") {
    m.items.push_back(
        action("AI Mode: on (click to pause actions)", TrayActionKind::kPauseActions, can_act));
  } else if (d.actions_mode == "paused") {
    m.items.push_back(action("AI Mode: paused (click to resume actions)",
                             TrayActionKind::kResumeActions, can_act));
  }
  // The seed's System Info: RAM and each GPU's memory, at a glance.
  m.items.push_back(separator());
  m.items.push_back(label("System Info"));
  m.items.push_back(
      label("  RAM " + format_bytes(ram_used) + " / " + format_bytes(d.ram_total_bytes)));
  for (const GpuView& g : d.gpus) {
    if (m.items.size() > 64) break;  // a hostile status cannot grow the menu without bound
    m.items.push_back(label("  GPU" + std::to_string(g.index) + " " + g.name + ": " +
                            format_bytes(g.used_bytes) + " / " + format_bytes(g.total_bytes)));
  }
  add_controls(m, can_act, d.profile ? d.profile->name : std::string());
  return m;
}

TrayMenu tray_menu_from_status(const nlohmann::json& status, bool can_act) {
  return tray_menu(dashboard_from_status(status), can_act);
}

TrayMenu tray_menu_unreachable(const std::string& why) {
  TrayMenu m;
  m.header = "Daemon unreachable";
  m.items.push_back(label(m.header));
  // A hostile or odd error text must not blow up the menu's width.
  m.items.push_back(label("  " + (why.size() > 120 ? why.substr(0, 117) + "..." : why)));
  add_controls(m, false, "");
  return m;
}

std::optional<ApiRequest> tray_request(const TrayAction& a, const std::string& token) {
  ApiRequest r;
  r.method = "POST";
  r.authorization = "Bearer " + token;
  nlohmann::json body;
  // The same requests as the web page's buttons (src/ui/web/app.js): the
  // compact/unload passes are the policy's optimize limited to one kind, so
  // the policy decides which models are inactive (idle_unload_seconds).
  switch (a.kind) {
    case TrayActionKind::kOptimize:
      r.path = "/api/v1/optimize";
      body = {{"apply", true}};
      break;
    case TrayActionKind::kCompactKv:
      r.path = "/api/v1/optimize";
      body = {{"apply", true}, {"kinds", nlohmann::json::array({"resize_context"})}};
      break;
    case TrayActionKind::kUnloadInactive:
      r.path = "/api/v1/optimize";
      body = {{"apply", true}, {"kinds", nlohmann::json::array({"unload"})}};
      break;
    case TrayActionKind::kSetProfile:
      r.path = "/api/v1/profile";
      body = {{"name", a.profile}};
      break;
    case TrayActionKind::kPauseActions:
    case TrayActionKind::kResumeActions:
      r.path = "/api/v1/mode";
      body = {{"actions", a.kind == TrayActionKind::kPauseActions ? "paused" : "active"}};
      break;
    case TrayActionKind::kOpenDashboard:
    case TrayActionKind::kQuit:
      return std::nullopt;
  }
  r.body = body.dump();
  return r;
}

std::string tray_dashboard_url(const std::string& base_url) {
  std::string url = base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/";
}

}  // namespace memopt::ui

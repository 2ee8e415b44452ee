#pragma once
// `tray --dump-menu [--click LABEL]...`, shared by both tray shells (GTK:
// tray_main_linux.cc; Win32: tray_main_win.cc): each reads its own native
// menu back into DumpedItems (what the user would see, not the data it was
// built from), and this prints them and activates the clicked ones.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"

namespace memopt::cli {

struct DumpedItem {
  enum class Type { kItem, kRadio, kSeparator };
  Type type = Type::kItem;
  std::string label;
  bool sensitive = true;
  bool checked = false;
};

// Prints the items (text: one per line, "(*) " / "( ) " before a radio,
// "  [greyed]" after a disabled one; --json: schema ruvector-memopt.tray/1),
// then for each click calls `activate(label)`, which activates that native
// item and returns the outcomes of the requests it sent ("PATH: done" or an
// error), or false when no item has that label.
inline int print_dumped_menu(
    CliContext& ctx, const std::string& daemon_url, const std::vector<DumpedItem>& items,
    const std::vector<std::string>& clicks,
    const std::function<bool(const std::string&, std::vector<std::string>*)>& activate) {
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& it : items) {
    if (it.type == DumpedItem::Type::kSeparator) {
      doc.push_back({{"type", "separator"}});
      if (!ctx.opts.json) *ctx.out << "---\n";
      continue;
    }
    nlohmann::json j = {{"type", "item"}, {"label", it.label}, {"sensitive", it.sensitive}};
    std::string line = it.label;
    if (it.type == DumpedItem::Type::kRadio) {
      j["type"] = "radio";
      j["checked"] = it.checked;
      line = (it.checked ? "(*) " : "( ) ") + line;
    }
    if (!it.sensitive) line += "  [greyed]";
    doc.push_back(std::move(j));
    if (!ctx.opts.json) *ctx.out << line << '\n';
  }
  int status = kExitOk;
  for (const std::string& want : clicks) {
    std::vector<std::string> outcomes;
    if (!activate(want, &outcomes)) {
      *ctx.err << "ruvector-memopt: --click '" << want << "': no such menu item\n";
      status = kExitUsage;
      break;
    }
    for (const std::string& outcome : outcomes) {
      *ctx.err << want << ": " << outcome << '\n';
      if (outcome.find(": done") == std::string::npos) status = kExitFailure;
    }
  }
  if (ctx.opts.json) {
    *ctx.out << nlohmann::json{{"schema", "ruvector-memopt.tray/1"},
                               {"daemon", daemon_url},
                               {"items", doc}}
                    .dump(2)
             << '\n';
  }
  return status;
}

}  // namespace memopt::cli

#pragma once
// Dashboard <-> JSON. The status document (`ai status --json`, the daemon's
// GET /api/v1/status, schema ruvector-memopt.status/1) becomes a Dashboard;
// the daemon's /api/v1/history and /api/v1/actions add to it. Payloads are
// untrusted: a missing or mistyped member leaves that field empty, never
// throws, and lists are capped so a hostile daemon cannot make us allocate
// without bound.
#include <nlohmann/json_fwd.hpp>

#include "ui/dashboard.h"

namespace memopt::ui {

inline constexpr size_t kMaxRows = 4096;  // per list read from a payload

Dashboard dashboard_from_status(const nlohmann::json& status);
// Accepts {"samples": [...]} / {"history": [...]} or a bare array.
void add_history(Dashboard& d, const nlohmann::json& history);
// Accepts {"actions": [...]} or a bare array; keeps the newest kMaxRows.
void add_actions(Dashboard& d, const nlohmann::json& actions);

// `ai watch --json`: schema ruvector-memopt.watch/1 (docs/json/watch.md).
nlohmann::json dashboard_to_json(const Dashboard& d);

}  // namespace memopt::ui

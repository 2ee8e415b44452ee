#pragma once
// Dashboard <-> JSON. The status document (`ai status --json`, the daemon's
// GET /api/v1/status, schema ruvector-memopt.status/1) becomes a Dashboard;
// the daemon's /api/v1/history and /api/v1/actions add to it. Payloads are
// untrusted: a missing or mistyped member leaves that field empty, never
// throws, and lists are capped so a hostile daemon cannot make us allocate
// without bound.
#include <nlohmann/json_fwd.hpp>

#include "snapshot/snapshot.h"
#include "ui/dashboard.h"

namespace memopt::ui {

inline constexpr size_t kMaxRows = 4096;  // per list read from a payload

// The typed Snapshot (a standalone reading) as the views show it.
Dashboard dashboard_from_snapshot(const snapshot::Snapshot& s);
// A status document from a daemon: read by snapshot::from_json (untrusted),
// then as above.
Dashboard dashboard_from_status(const nlohmann::json& status);
// The daemon's history series the watch draws, in this order; each is asked
// for with GET /api/v1/history?series=NAME&since=SECONDS.
inline constexpr const char* kHistorySeries[] = {
    "ruvector_gpu_memory_used_bytes", "ruvector_gpu_memory_total_bytes",
    "ruvector_host_memory_available_bytes", "ruvector_host_memory_total_bytes",
    "ruvector_model_kv_cache_used_bytes"};
// `answers[i]` is the reply for kHistorySeries[i] ({"series": [{"labels",
// "points": [[ts, value], ...]}]}); values are summed over labels (all GPUs,
// all models) per timestamp, one HistoryPoint per host-memory timestamp.
void add_history(Dashboard& d, const nlohmann::json (&answers)[5]);
// {"actions": [{"ts_ms", "kind", "target", "reason", "outcome"}, ...]}, oldest
// first; keeps the newest kMaxRows. `utc_offset_seconds` turns ts_ms into the
// local HH:MM:SS shown.
void add_actions(Dashboard& d, const nlohmann::json& actions, int64_t utc_offset_seconds = 0);

// `ai watch --json`: schema ruvector-memopt.watch/1 (docs/json/watch.md).
nlohmann::json dashboard_to_json(const Dashboard& d);

}  // namespace memopt::ui

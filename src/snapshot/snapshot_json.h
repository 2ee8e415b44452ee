#pragma once
// The Snapshot as JSON, both ways, in one place: to_json is the document
// `ai status --json` prints and the daemon's GET /api/v1/status serves
// (schema ruvector-memopt.status/1, docs/json/status.md); from_json reads it
// back for the views attached to a daemon (ai watch --daemon, the tray).
// from_json treats the document as untrusted: wrong types leave a field
// empty, lists are capped at kMaxRows, strings are bounded and stripped of
// control characters, and nothing throws.
#include <nlohmann/json_fwd.hpp>

#include "snapshot/snapshot.h"

namespace memopt::snapshot {

inline constexpr const char* kStatusSchema = "ruvector-memopt.status/1";
inline constexpr size_t kMaxRows = 4096;

nlohmann::json to_json(const Snapshot& s);
nlohmann::json to_json(const Workload& w);
nlohmann::json to_json(const proc::HostMemory& h);
nlohmann::json to_json(const GatewayStatus& g);

// A status document (from a daemon, a file) back into a Snapshot. Fails only
// when `doc` is not an object or names another schema.
Result<Snapshot> from_json(const nlohmann::json& doc);

}  // namespace memopt::snapshot

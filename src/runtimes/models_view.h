#pragma once
// Presentation of loaded models shared by `ai models`, `vram clear` and the
// daemon: expiry, GPU share, KV text and the JSON shape (documented in
// docs/json/ai-models.md). Pure: the caller passes "now".
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "runtimes/runtime.h"

namespace memopt::runtimes {

// RFC 3339 ("2026-09-12T14:39:02.112301-07:00", "...Z") → Unix seconds.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// Seconds until the runtime unloads the model on its own; nullopt when it
// never will (Ollama keep_alive < 0 puts expires_at in year ~2318) or the
// runtime has no idle timer.
std::optional<int64_t> expires_in_seconds(const LoadedModel& m, int64_t now_unix);
// "in 4m", "in 2h", "never", "stopping", "-".
std::string expiry_text(const LoadedModel& m, int64_t now_unix);

// Ollama's `ollama ps` PROCESSOR column: "100% GPU", "100% CPU",
// "25%/75% CPU/GPU"; "-" when unknown.
std::string processor_text(const LoadedModel& m);

// "41% 204k/489k" with a trailing "~" when any number is our estimate.
std::string kv_text(const KVCacheMetrics& kv);

nlohmann::json kv_to_json(const KVCacheMetrics& kv);
nlohmann::json model_to_json(const LoadedModel& m, int64_t now_unix);

}  // namespace memopt::runtimes

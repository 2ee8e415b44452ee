#pragma once
// The tray's two calls to the daemon: read the status, send an action. Short
// timeouts: the tray calls them off the GTK main thread, but a quit must not
// wait long for a hung daemon either.
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "ui/tray_menu.h"
#include "util/result.h"

namespace memopt::ui {

// GET base_url + /api/v1/status; the parsed document (an object) or why not.
Result<nlohmann::json> tray_fetch_status(const std::string& base_url, int timeout_ms);
// Sends `r`; the daemon's answer body on 2xx, else an error naming the
// request and the daemon's {"error"} text.
Result<std::string> tray_send(const std::string& base_url, const ApiRequest& r, int timeout_ms);

}  // namespace memopt::ui

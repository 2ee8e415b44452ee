#pragma once
// The web dashboard's static files (src/ui/web/*.html|js|css), embedded in the
// binary at build time (src/ui/web/embed.cmake), so the daemon serves the page
// offline with no files to install. Served at "/" (index.html) and /ui/<file>.
#include <string_view>

namespace memopt::web {

struct WebAsset {
  std::string_view path;          // as requested: "/", "/ui/app.js"
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
};

// The asset for a request path, or nullptr (404). Query strings are the
// caller's to strip; paths are matched exactly, so "..", "//" and friends
// never reach a file system.
const WebAsset* find_web_asset(std::string_view request_path);

// Headers every dashboard response carries: no inline script, nothing from
// other origins, no framing (clickjacking), no caching of a stale page.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

}  // namespace memopt::web

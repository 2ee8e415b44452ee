// create_gateway (cli/gateway_target.h): the gateway `serve` and
// `daemon --serve` run. Apart from the gateway's views because it starts
// backends (src/serve/backend.cc), which the Windows build does not have yet
// (cmake/toolchain-mingw64-deps.cmake, MEMOPT_WIN_LATER_COMMANDS).
#include "cli/gateway_target.h"
#include "policy/profile.h"
#include "serve/config.h"
#include "serve/request_log.h"

namespace memopt::cli {

Result<std::unique_ptr<serve::Gateway>> create_gateway(const GlobalOptions& g,
                                                       const GatewayStart& s) {
  auto cfg = serve::load_serve_config(s.config);
  if (!cfg) return cfg.error();
  if (!s.listen.empty()) cfg->listen = s.listen;
  serve::GatewayOptions o;
  o.config = std::move(*cfg);
  o.proc_root = g.proc_root;
  o.sys_root = g.sys_root;
  o.nvml_library = g.nvml_library;
  o.config_path = s.config;
  o.state_dir = s.state_dir;
  o.log_dir = s.log_dir.empty() ? s.state_dir + "/serve-logs" : s.log_dir;
  if (!s.history_path.empty()) o.request_log = serve::history_request_log_store(s.history_path);
  if (s.log_dir.empty()) {
    if (auto st = policy::make_private_dir(o.log_dir); !st) return st.error();
  }
  return serve::Gateway::create(std::move(o));
}

}  // namespace memopt::cli

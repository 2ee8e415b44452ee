// create_gateway and start_gateway_in_process (cli/gateway_target.h): the
// gateway `serve` and `daemon --serve` run. Apart from the gateway's views
// because it starts backends (src/serve/backend.cc: fork/exec), which the
// Windows build does not have yet (gateway_start_win.cc says so).
#include <spdlog/spdlog.h>

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
  o.gpus = s.gpus;
  o.config_path = s.config;
  o.state_dir = s.state_dir;
  o.log_dir = s.log_dir.empty() ? s.state_dir + "/serve-logs" : s.log_dir;
  if (!s.history_path.empty()) o.request_log = serve::history_request_log_store(s.history_path);
  if (s.log_dir.empty()) {
    if (auto st = policy::make_private_dir(o.log_dir); !st) return st.error();
  }
  return serve::Gateway::create(std::move(o));
}

Result<InProcessGateway> start_gateway_in_process(
    const GlobalOptions& g, const GatewayStart& s, std::optional<assembler::GatewayTarget>* target,
    bool retarget) {
  auto gw = create_gateway(g, s);
  if (!gw) return gw.error();
  if (auto st = (*gw)->start(); !st) return st.error();
  std::shared_ptr<serve::Gateway> gateway = std::move(*gw);
  // Its section is read from the port it bound (listen = ":0" picks one).
  if (retarget && *target) {
    auto base = assembler::gateway_base_url((*target)->listen);
    if (base) {
      const bool v6 = base->host.find(':') != std::string::npos;
      (*target)->listen =
          (v6 ? "[" + base->host + "]" : base->host) + ":" + std::to_string(gateway->port());
    }
  }
  spdlog::info("gateway (serve) on port {}", gateway->port());
  return InProcessGateway{[gateway] { gateway->stop(); }, [gateway] { return gateway->state_json(); }};
}

}  // namespace memopt::cli

#include "daemon/system_sampler.h"

#include <cstdlib>

#include "assembler/assembler.h"
#include "policy/snapshot_adapter.h"

namespace memopt::daemon {
namespace {

class SystemSampler : public Sampler {
 public:
  explicit SystemSampler(const SamplerOptions& o) : assembler_(options(o), sources(o)) {}

  Sample sample(double now, const policy::DaemonKnowledge& knowledge) override {
    Sample s;
    auto snap = assembler_.assemble(now);
    // Not strict: every collector's failure is in snapshot.errors.
    if (snap) s.snapshot = std::move(*snap);
    s.unix_ms = static_cast<int64_t>(s.snapshot.taken_at_unix_ms);
    s.input = policy::to_policy_input(s.snapshot, now, knowledge);
    return s;
  }

 private:
  static assembler::AssemblerSources sources(const SamplerOptions& o) {
    assembler::AssemblerSources src;
    if (o.gpus) src.gpus = [g = o.gpus] { return g->sample(); };
    if (o.gateway_state) {
      src.gateway_state = [f = o.gateway_state](const assembler::GatewayTarget& t) {
        return assembler::gateway_status_from_document(t, f(), "the in-process gateway");
      };
    }
    return src;
  }

  static assembler::AssembleOptions options(const SamplerOptions& o) {
    assembler::AssembleOptions a;
    a.proc_root = o.proc_root;
    a.sys_root = o.sys_root;
    a.nvml_library = o.nvml_library;
    a.full_scan = false;
    a.probe_ports = o.probe_ports;
    a.detect_interval_seconds = o.detect_interval_seconds;
    a.endpoints = o.endpoints;
    a.gateway = o.gateway;
    // The daemon also watches the Ollama its users' clients talk to, even
    // when its server runs where the process scan cannot see it (a container).
    const char* env = std::getenv("OLLAMA_HOST");
    a.host_env["OLLAMA_HOST"] = env != nullptr && *env != '\0' ? env : "127.0.0.1:11434";
    // The daemon's runtime calls are not a user's glance: the clients' own
    // timeouts (runtimes/http.h) apply.
    a.http = runtimes::HttpOptions{};
    a.strict = false;
    return a;
  }

  assembler::SnapshotAssembler assembler_;
};

}  // namespace

std::unique_ptr<Sampler> make_system_sampler(const SamplerOptions& options) {
  return std::make_unique<SystemSampler>(options);
}

}  // namespace memopt::daemon

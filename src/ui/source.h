#pragma once
// Where `ai watch` (and the tray) get their data and send their actions: the
// standalone sampler (this process runs the detector) or a running daemon
// (its HTTP API). The shell never knows which.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "snapshot/snapshot.h"
#include "ui/dashboard.h"
#include "util/result.h"

namespace memopt::ui {

class DashboardSource {
 public:
  virtual ~DashboardSource() = default;
  // One fresh reading. History may be empty: the shell then keeps its own.
  virtual Result<Dashboard> sample() = 0;
  // Each returns a one-line outcome for the status line, or why it failed.
  virtual Result<std::string> unload(const WorkloadView& w) = 0;
  virtual Result<std::string> next_profile() = 0;
  virtual Result<std::string> optimize() = 0;
};

// A profile's thresholds by name (empty when unknown).
using ProfileLookup = std::function<std::optional<ProfileView>(const std::string& name)>;

// The daemon's API at `base_url` ("http://127.0.0.1:7878"). `token` is the
// bearer token for the state-changing calls ("" leaves them to answer 401,
// which is reported as such). `lookup` gives the thresholds of the profile
// the daemon names (the API reports only its name).
std::unique_ptr<DashboardSource> make_daemon_source(const std::string& base_url,
                                                    const std::string& token,
                                                    ProfileLookup lookup = {});

// The standalone sampler: `status` produces a Snapshot from this process's
// own collectors (the one assembler, assembler/assembler.h); the three
// actions are given as functions so the CLI wires them to the runtime
// clients and profiles without this library depending on the CLI.
struct StandaloneHooks {
  std::function<Result<snapshot::Snapshot>()> status;
  std::function<Result<ProfileView>()> active_profile;  // may be empty
  std::function<Result<std::string>(const WorkloadView&)> unload;
  std::function<Result<std::string>()> next_profile;
  std::function<Result<std::string>()> optimize;
};
std::unique_ptr<DashboardSource> make_standalone_source(StandaloneHooks hooks);

// The order `p` cycles through: the seed's three profiles.
std::string next_builtin_profile(const std::string& current);

}  // namespace memopt::ui

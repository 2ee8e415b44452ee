#pragma once
// `ruvector-memopt daemon`: samples every interval, runs the policy
// (dry-run unless apply), records history and actions, serves the local API
// and /metrics. Picks up a new active profile (or config) at the next tick.
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actuator/actuator.h"
#include "daemon/action_delays.h"
#include "daemon/action_worker.h"
#include "daemon/api.h"
#include "daemon/error_changes.h"
#include "daemon/history.h"
#include "daemon/metrics.h"
#include "daemon/sample.h"
#include "policy/engine.h"
#include "policy/profile.h"
#include "policy/workload_profile.h"
#include "policy/workload_runs.h"

namespace memopt::daemon {

using actuator::Actuator;

struct DaemonOptions {
  std::string state_dir;    // token, active profile, history
  std::string config_path;  // config.toml
  std::string history_path;  // default <state_dir>/history.db
  std::optional<bool> apply;              // --apply overrides the config
  std::optional<double> interval_seconds;  // --interval
  std::optional<std::string> listen;       // --listen HOST:PORT
  bool allow_remote = false;  // listening off loopback must be asked for
  std::vector<std::string> allow_hosts;   // extra Host names accepted
  std::string tls_cert, tls_key;          // PEM files (--tls-cert/--tls-key, else [daemon])
  FrontLimits api_limits;                 // deadlines and connection caps of the API
  bool serve_api = true;
  uint64_t max_samples = 0;  // stop after this many (0 = until stopped)
  ActionWorkerLimits action_limits;  // actions carried out off the sampling thread
  // How long POST /api/v1/unload and /optimize wait for their actions
  // before answering 202 "in progress" (the history gets the outcome).
  double action_reply_wait_seconds = 3;
  // The engine's knobs, for tests that need a world faster than a real one
  // (a short cooldown); unset, the defaults with the config's mode.
  std::optional<policy::PolicyTuning> tuning;
  HistoryOptions history;
};

class Daemon {
 public:
  Daemon(DaemonOptions options, std::unique_ptr<Sampler> sampler, std::unique_ptr<Actuator> actuator);
  ~Daemon();

  // Opens history and the API; an error names what could not start.
  Status start();
  // Runs until `stop` is set (or max_samples). Call after start().
  void run(const std::atomic<bool>& stop);
  int api_port() const { return api_ ? api_->port() : 0; }
  double interval_seconds() const { return interval_; }
  bool applying() const { return apply_; }
  bool predictive() const { return tuning_.predict; }
  // Seconds until the next sample: the interval, or the policy's sooner one.
  double next_interval_seconds() const { return next_interval_; }
  // The API's handlers on this daemon, for callers without HTTP (the fuzz
  // target fuzz/api_json_fuzz.cc).
  ApiHandlers api_handlers() { return handlers(); }

 private:
  void tick(double now);  // sets next_interval_
  void reload_profile_if_changed();
  std::vector<SeriesValue> series_of(const Sample& s) const;
  void record(policy::Action a, bool applied, int64_t ts_ms);
  // Actions (mu_ held): counted, handed to the worker, watched until their
  // memory is back; a refusal is recorded at once.
  void start_action(policy::Action& a, double now, int64_t unix_ms, const policy::PolicyInput& on,
                    std::shared_ptr<std::promise<FinishedAction>> done = nullptr);
  void take_finished_actions();
  void observe_delays(const policy::PolicyInput& in);
  void load_learned_delays();
  // Learned workload profiles: read from history at start; each finished
  // run is learned and written back (mu_ held).
  void load_workload_profiles();
  void learn_runs(const snapshot::Snapshot& s, double now);
  // History is optional at run time: opened (or reopened, at most every
  // kHistoryRetrySeconds, after a full disk) here; false while it is off.
  bool history_ready();
  void write_history_sample(const Sample& s);
  ApiHandlers handlers();

  DaemonOptions o_;
  std::unique_ptr<Sampler> sampler_;
  std::shared_ptr<Actuator> actuator_;
  std::unique_ptr<ActionWorker> worker_;
  std::unique_ptr<History> history_;
  std::unique_ptr<ApiServer> api_;

  std::mutex mu_;  // guards everything below (the API thread reads it)
  policy::ProfileSet profiles_;
  policy::Profile profile_;
  policy::PolicyState state_;
  policy::PolicyTuning tuning_;
  std::deque<policy::PolicyInput> recent_;
  MetricsView view_;
  ErrorChangeTracker error_changes_;  // tick(), under mu_: what to log of a sample's errors
  bool apply_ = false;
  // AI Mode off (the tray's toggle, POST /api/v1/mode): the policy still
  // decides and records, nothing is applied. Not persisted: a restart acts.
  bool actions_paused_ = false;
  double interval_ = 1.0;
  double next_interval_ = 1.0;  // the policy may ask for a sooner sample
  uint64_t history_moved_aside_ = 0;
  double history_retry_at_ = 0;
  std::string profile_stamp_;
  std::string config_stamp_;
  double started_ = 0;
  std::vector<DelayWatch> watches_;  // carried out, memory not seen back yet
  std::vector<DelaySummary> delays_;  // learned from history
  policy::WorkloadRunTracker runs_;
  std::vector<policy::WorkloadProfile> workload_profiles_;
};

}  // namespace memopt::daemon

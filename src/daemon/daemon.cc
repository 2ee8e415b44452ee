#include "daemon/daemon.h"

#include "snapshot/snapshot_json.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>

#include <chrono>
#include <thread>

#include "detect/detector.h"
#include "plan/model_plan.h"
#include "ui/memory_map.h"
#include "util/bytes.h"

namespace memopt::daemon {
namespace {

double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// mtime (to the file system's resolution) + size + inode (0 on Windows):
// changes when a file is replaced (rename) or rewritten.
std::string stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "absent";
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(path, ec);
  return std::to_string(ec ? 0 : mtime.time_since_epoch().count()) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_ino);
}

std::string lbl(const char* k, const std::string& v) { return std::string(k) + "=\"" + escape_label_value(v) + "\""; }

// Inputs the forecaster sees: the last 30 s (its window is 4 s), and never
// more than this many (fast sampling while an OOM is near).
constexpr double kRecentSeconds = 30;
constexpr size_t kRecentInputs = 256;

nlohmann::json action_json(const policy::Action& a) {
  return {{"kind", policy::action_kind_name(a.kind)},
          {"target", a.target},
          {"runtime", a.runtime},
          {"model", a.model},
          {"gpu", a.gpu},
          {"gpu_layers", a.gpu_layers},
          {"context_length", a.context_length},
          {"parallel_slots", a.parallel_slots},
          {"expected_bytes", a.expected_bytes},
          {"host_ram", a.host_ram},
          {"predictive", a.predictive},
          {"reason", a.reason},
          {"outcome", a.outcome}};
}

int64_t param_int(const std::map<std::string, std::string>& p, const std::string& k, int64_t def, int64_t lo,
                  int64_t hi) {
  auto it = p.find(k);
  if (it == p.end()) return def;
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used != it->second.size()) return def;
    return std::clamp<int64_t>(v, lo, hi);
  } catch (...) {
    return def;
  }
}

// GET /api/v1/plan's query as `ai plan` options: only the parameters the
// web dashboard's plan panel sends, each bounded, none that names a
// directory for the daemon to search. A path must be absolute: the daemon's
// working directory is not the caller's.
Result<plan::PlanOptions> plan_options_from_query(const std::map<std::string, std::string>& p) {
  static const std::map<std::string, size_t> kMaxLength = {
      {"model", 4096}, {"ctx", 16}, {"kv_type", 16}, {"parallel", 4}, {"flash_attn", 4}};
  for (const auto& [k, v] : p) {
    auto it = kMaxLength.find(k);
    if (it == kMaxLength.end()) {
      return make_error("unknown parameter '" + k.substr(0, 40) +
                        "' (model, ctx, kv_type, parallel, flash_attn)");
    }
    if (v.size() > it->second) {
      return make_error(fmt::format("parameter {} is {} bytes long, at most {}", k, v.size(),
                                    it->second));
    }
    for (unsigned char c : v) {
      if (c < 0x20 || c == 0x7f) return make_error("parameter " + k + " holds a control character");
    }
  }
  plan::PlanOptions o;
  auto get = [&](const char* k) {
    auto it = p.find(k);
    return it == p.end() ? std::string() : it->second;
  };
  o.model = get("model");
  if (o.model.empty()) return make_error("parameter model is missing: a GGUF path or an Ollama name");
  if (o.model.starts_with("./") || o.model.starts_with("../") ||
      (o.model.ends_with(".gguf") && !o.model.starts_with("/"))) {
    return make_error("model '" + o.model + "' is a relative path; give the absolute path");
  }
  o.ctx = get("ctx");
  if (auto kv = get("kv_type"); !kv.empty()) o.kv_type = kv;
  if (auto fa = get("flash_attn"); !fa.empty()) o.flash_attn = fa;
  if (auto np = get("parallel"); !np.empty()) {
    if (np.find_first_not_of("0123456789") != std::string::npos || std::stoul(np) < 1 ||
        std::stoul(np) > 256) {
      return make_error("parallel '" + np + "' is not a whole number in 1..256");
    }
    o.parallel = static_cast<uint32_t>(std::stoul(np));
  }
  if (auto ok = plan::check_options(o); !ok) return ok.error();
  return o;
}

// The profile's thresholds as the memory map marks them.
ui::MapThresholds map_thresholds(const policy::Profile& p) {
  ui::MapThresholds t;
  t.profile = p.name;
  t.reserve_vram_percent = p.reserve_vram_percent;
  t.compact_percent = p.auto_compact_threshold;
  t.offload_percent = p.auto_offload_threshold;
  t.reserve_ram_bytes =
      p.reserve_ram_gb > 0 && p.reserve_ram_gb < 1e6 ? static_cast<uint64_t>(p.reserve_ram_gb * kGiB) : 0;
  return t;
}

// A week of one-minute averages (10080) with room to spare.
constexpr size_t kMaxRangePoints = 20000;

}  // namespace

Daemon::Daemon(DaemonOptions options, std::unique_ptr<Sampler> sampler, std::unique_ptr<Actuator> actuator)
    : o_(std::move(options)), sampler_(std::move(sampler)), actuator_(std::move(actuator)) {}

Daemon::~Daemon() {
  if (api_) api_->stop();
  worker_.reset();  // before the members its callbacks read
}

Status Daemon::start() {
  auto set = policy::load_profiles(o_.config_path);
  if (!set) return set.error();
  profiles_ = *set;
  config_stamp_ = stamp(o_.config_path);
  apply_ = o_.apply.value_or(profiles_.daemon.apply);
  interval_ = o_.interval_seconds.value_or(profiles_.daemon.interval_seconds);
  if (!(interval_ >= 0.01 && interval_ <= 3600)) return make_error("--interval must be between 0.01 and 3600 seconds");
  reload_profile_if_changed();
  if (profile_.name.empty()) return make_error("no usable profile (see the messages above)");
  if (o_.tuning) tuning_ = *o_.tuning;
  tuning_.predict = profiles_.daemon.mode != "threshold";
  tuning_.sample_interval_seconds = interval_;
  next_interval_ = interval_;
  if (auto st = policy::make_private_dir(o_.state_dir); !st) return st;
  if (o_.history_path.empty()) o_.history_path = o_.state_dir + "/history.db";
  o_.history.retention_days = profiles_.daemon.retention_days;
  // The guard runs whatever the history file is: damaged or foreign files
  // are moved aside, an unwritable one leaves history off until it can be
  // reopened (history_ready()).
  history_ready();
  load_learned_delays();
  load_workload_profiles();
  worker_ = std::make_unique<ActionWorker>(
      actuator_, [this] { return mono_now() - started_; }, o_.action_limits);
  if (o_.serve_api) {
    auto listen = parse_listen(o_.listen.value_or(profiles_.daemon.listen));
    if (!listen) return listen.error();
    auto token = load_or_create_token(o_.state_dir);
    if (!token) return token.error();
    auto read_token = load_or_create_read_token(o_.state_dir);
    if (!read_token) return read_token.error();
    ApiConfig api;
    api.listen = *listen;
    api.token = *token;
    api.read_token = *read_token;
    api.extra_hosts = o_.allow_hosts;
    api.allow_remote = o_.allow_remote;
    api.tls_cert = o_.tls_cert.empty() ? profiles_.daemon.tls_cert : o_.tls_cert;
    api.tls_key = o_.tls_key.empty() ? profiles_.daemon.tls_key : o_.tls_key;
    api.limits = o_.api_limits;
    api_ = std::make_unique<ApiServer>(std::move(api), handlers());
    if (auto st = api_->start(); !st) return st;
  }
  started_ = mono_now();
  view_.apply = apply_;
  view_.profile = profile_.name;
  return Ok{};
}

void Daemon::reload_profile_if_changed() {
  // Called with mu_ held, or before the API starts.
  const std::string cs = stamp(o_.config_path);
  if (cs != config_stamp_) {
    config_stamp_ = cs;
    auto set = policy::load_profiles(o_.config_path);
    if (set) {
      profiles_ = *set;
      tuning_.predict = profiles_.daemon.mode != "threshold";
      profile_stamp_.clear();  // re-resolve the active profile's values
      spdlog::info("reloaded {}", o_.config_path);
    } else {
      spdlog::error("{} (keeping the previous profiles)", set.error().message);
    }
  }
  const std::string ps = stamp(policy::active_profile_path(o_.state_dir));
  if (ps == profile_stamp_) return;
  profile_stamp_ = ps;
  auto name = policy::active_profile(o_.state_dir);
  if (!name) {
    spdlog::error("{}", name.error().message);
    if (!profile_.name.empty()) return;
    name = std::string(policy::kDefaultProfile);
  }
  const policy::Profile* p = profiles_.find(*name);
  if (!p) {
    spdlog::error("active profile '{}' is not defined in {} or built in; using {}", *name, o_.config_path,
                  profile_.name.empty() ? std::string(policy::kDefaultProfile) : profile_.name);
    if (profile_.name.empty()) {
      profile_ = *profiles_.find(policy::kDefaultProfile);
      actuator_->set_profile(profile_);
    }
    return;
  }
  if (p->name != profile_.name) spdlog::info("profile: {}", p->name);
  profile_ = *p;
  actuator_->set_profile(profile_);  // its runtime keys go with reloads
  view_.profile = profile_.name;
}

std::vector<SeriesValue> Daemon::series_of(const Sample& s) const {
  std::vector<SeriesValue> v;
  const auto& in = s.input;
  v.push_back({"ruvector_host_memory_available_bytes", "", static_cast<double>(in.host.available_bytes)});
  v.push_back({"ruvector_host_memory_total_bytes", "", static_cast<double>(in.host.total_bytes)});
  for (const auto& g : in.gpus) {
    const std::string l = lbl("gpu", std::to_string(g.index));
    v.push_back({"ruvector_gpu_memory_used_bytes", l, static_cast<double>(g.used_bytes)});
    v.push_back({"ruvector_gpu_memory_total_bytes", l, static_cast<double>(g.total_bytes)});
  }
  for (const auto& m : in.models) {
    const std::string l = lbl("runtime", m.runtime) + "," + lbl("model", m.name);
    v.push_back({"ruvector_model_vram_bytes", l, static_cast<double>(m.vram_bytes)});
    v.push_back({"ruvector_model_size_bytes", l, static_cast<double>(m.size_bytes)});
    if (m.kv_capacity_bytes > 0) {
      v.push_back({"ruvector_model_kv_cache_used_bytes", l, static_cast<double>(m.kv_used_bytes)});
    }
  }
  return v;
}

constexpr double kHistoryRetrySeconds = 60;

bool Daemon::history_ready() {
  if (history_) return true;
  const double now = mono_now();
  if (now < history_retry_at_) return false;
  history_retry_at_ = now + kHistoryRetrySeconds;
  const int64_t unix_now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  HistoryOpen h = History::open_or_recover(o_.history_path, o_.history, unix_now);
  if (!h.moved_aside.empty()) {
    history_moved_aside_++;
    spdlog::warn("{}; moved it to {} and started a new history", h.moved_reason, h.moved_aside);
  }
  if (!h.history) {
    spdlog::error("{}; running without history (the policy is not affected), retrying in {} s", h.error,
                  kHistoryRetrySeconds);
    return false;
  }
  history_ = std::move(h.history);
  return true;
}

void Daemon::write_history_sample(const Sample& s) {
  if (!history_ready()) return;
  if (auto st = history_->write_sample(s.unix_ms / 1000, series_of(s)); !st) {
    view_.collector_errors_total["history"]++;
    spdlog::error("{}", st.error().message);
  }
}

void Daemon::record(policy::Action a, bool applied, int64_t ts_ms) {
  spdlog::info("{} {} {}: {} [{}]", applied ? "applied" : "would", policy::action_kind_name(a.kind), a.target,
               a.reason, a.outcome);
  view_.actions_total[policy::action_kind_name(a.kind)]++;
  if (!history_ready()) return;
  if (auto st = history_->write_action({ts_ms, a, applied}); !st) {
    view_.collector_errors_total["history"]++;
    spdlog::error("{}", st.error().message);
  }
}

// An action's memory that has not shown free after this long is not waited
// for any more (a runtime that keeps the model, a sampler that lost it).
constexpr double kDelayWatchSeconds = 600;
// While an action's memory is expected back, sample this often for so long:
// the learned delay is only as fine as the samples that see it.
constexpr double kDelayWatchSampleSeconds = 0.25;
constexpr double kDelayWatchFastSeconds = 15;
// Delay records read back to learn from (the newest; 64 per group are kept).
constexpr size_t kDelayRecordsRead = 2000;

void Daemon::load_learned_delays() {
  if (!history_ready()) return;
  auto r = history_->recent_delays(kDelayRecordsRead);
  if (!r) {
    view_.collector_errors_total["history"]++;
    spdlog::error("{}", r.error().message);
    return;
  }
  delays_ = summarize_delays(*r);
  view_.delays = delays_;
}

// The history document the learned workload profiles are kept in.
constexpr const char* kProfilesDocument = "workload_profiles";

void Daemon::load_workload_profiles() {
  if (!history_ready()) return;
  auto doc = history_->read_document(kProfilesDocument);
  if (doc && doc->empty()) return;
  auto parsed = doc ? policy::profiles_from_json(*doc)
                    : Result<std::vector<policy::WorkloadProfile>>(doc.error());
  if (!parsed) {
    // A damaged document costs what was learned, not the daemon.
    view_.collector_errors_total["history"]++;
    spdlog::error("history {}: {} (starting with no learned workloads)", history_->path(),
                  parsed.error().message);
    return;
  }
  workload_profiles_ = std::move(*parsed);
  view_.workload_profiles = workload_profiles_.size();
}

void Daemon::learn_runs(const snapshot::Snapshot& s, double now) {
  const auto ended = runs_.observe(s, now);
  for (const auto& run : ended) policy::learn(workload_profiles_, run);
  view_.workload_profiles = workload_profiles_.size();
  if (ended.empty() || !history_ready()) return;
  if (auto st = history_->write_document(kProfilesDocument,
                                         policy::profiles_to_json(workload_profiles_));
      !st) {
    view_.collector_errors_total["history"]++;
    spdlog::error("{}", st.error().message);
  }
}

void Daemon::start_action(policy::Action& a, double now, int64_t unix_ms, const policy::PolicyInput& on,
                          std::shared_ptr<std::promise<FinishedAction>> done) {
  const auto sub = worker_->submit(a, now, unix_ms, done);
  if (sub != ActionWorker::Submit::kQueued) {
    a.outcome = std::string("failed: ") + ActionWorker::submit_text(sub);
    record(a, true, unix_ms);
    if (done) {
      FinishedAction f;
      f.action = a;
      f.decided_unix_ms = unix_ms;
      f.decided_seconds = now;
      done->set_value(f);
    }
    return;
  }
  a.outcome = "in progress";
  spdlog::info("applying {} {}: {}", policy::action_kind_name(a.kind), a.target, a.reason);
  view_.actions_total[policy::action_kind_name(a.kind)]++;
  if (auto w = watch_for(a, now, unix_ms, 0, on)) watches_.push_back(std::move(*w));
}

void Daemon::take_finished_actions() {
  for (auto& f : worker_->take_finished()) {
    spdlog::info("applied {} {}: {} [{}] in {:.3f} s", policy::action_kind_name(f.action.kind),
                 f.action.target, f.action.reason, f.action.outcome, f.call_seconds);
    if (history_ready()) {
      if (auto st = history_->write_action({f.decided_unix_ms, f.action, true}); !st) {
        view_.collector_errors_total["history"]++;
        spdlog::error("{}", st.error().message);
      }
    }
    for (auto it = watches_.begin(); it != watches_.end(); ++it) {
      if (it->action.target != f.action.target || it->call_finished) continue;
      if (!f.ok) {
        watches_.erase(it);  // nothing was freed: no delay to learn
      } else {
        it->call_finished = true;
        it->call_seconds = f.call_seconds;
      }
      break;
    }
  }
}

void Daemon::observe_delays(const policy::PolicyInput& in) {
  bool learned = false;
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (it->back_at_seconds < 0 && memory_back(*it, in)) it->back_at_seconds = in.now_seconds;
    if (it->back_at_seconds >= 0 && it->call_finished) {
      DelayRecord r;
      r.ts_ms = it->decided_unix_ms;
      r.runtime = it->action.runtime;
      r.kind = policy::action_kind_name(it->action.kind);
      r.model = it->action.model;
      r.model_bytes = it->model_vram_bytes;
      r.call_seconds = it->call_seconds;
      r.freed_seconds = it->back_at_seconds - it->decided_seconds;
      view_.delays_measured_total++;
      if (history_ready()) {
        if (auto st = history_->write_delay(r); !st) {
          view_.collector_errors_total["history"]++;
          spdlog::error("{}", st.error().message);
        }
      }
      learned = true;
      it = watches_.erase(it);
    } else if (in.now_seconds - it->decided_seconds > kDelayWatchSeconds) {
      view_.delays_unobserved_total++;
      it = watches_.erase(it);
    } else {
      ++it;
    }
  }
  if (learned) load_learned_delays();
}

void Daemon::tick(double now) {
  const double t0 = mono_now();
  policy::DaemonKnowledge knowledge;
  {
    std::lock_guard<std::mutex> lock(mu_);
    knowledge.profiles = workload_profiles_;
  }
  Sample s = sampler_->sample(now, knowledge);
  std::lock_guard<std::mutex> lock(mu_);
  reload_profile_if_changed();
  for (const auto& e : s.snapshot.errors) view_.collector_errors_total[e.collector]++;
  // Logged when a failure begins and when it ends, not once a sample.
  const ErrorChanges changes = error_changes_.update(s.snapshot.errors);
  for (const auto& e : changes.began) spdlog::warn("collector {}: {}", e.collector, e.message);
  for (const auto& e : changes.ended) spdlog::info("collector {} (cleared)", e);
  take_finished_actions();
  // Servers started with --api-key get their key with every action.
  actuator_->set_keys(detect::sendable_keys(s.snapshot));
  observe_delays(s.input);
  // Runs that ended teach the profiles; every workload a profile matches
  // shows the peak it is expected to reach (ai status, the dashboard).
  learn_runs(s.snapshot, s.input.now_seconds);
  policy::annotate_learned_peaks(s.snapshot, workload_profiles_);
  // Actions still in flight count as acting on their targets now: the
  // engine's cooldown is shorter than a slow reload, and it must not issue
  // the same action again while the first is still running.
  const auto in_flight = worker_->in_flight();
  for (const auto& f : in_flight) {
    state_.last_action_at[f.action.target] = s.input.now_seconds;
    state_.last_action_kind[f.action.target] = static_cast<int>(f.action.kind);
  }
  // What the daemon measured itself: how long its actions took to give
  // memory back (the engine plans with these instead of its prior).
  s.input.delays = delay_stats(delays_);
  std::vector<policy::PolicyInput> hist(recent_.begin(), recent_.end());
  policy::Decision d = policy::decide(s.input, profile_, hist, state_, tuning_);
  next_interval_ = d.next_sample_seconds > 0 ? std::min(d.next_sample_seconds, interval_) : interval_;
  for (auto& a : d.actions) {
    if (apply_ && !actions_paused_) {
      start_action(a, s.input.now_seconds, s.unix_ms, s.input);
    } else {
      a.outcome = actions_paused_ ? "paused (AI Mode off)" : "dry-run";
      record(a, false, s.unix_ms);
    }
  }
  for (const auto& w : watches_) {
    if (s.input.now_seconds - w.decided_seconds < kDelayWatchFastSeconds) {
      next_interval_ = std::min(next_interval_, kDelayWatchSampleSeconds);
    }
  }
  view_.actions_in_flight = worker_->in_flight().size();
  write_history_sample(s);
  recent_.push_back(s.input);
  while (!recent_.empty() && (recent_.size() > kRecentInputs ||
                              s.input.now_seconds - recent_.front().now_seconds > kRecentSeconds)) {
    recent_.pop_front();
  }
  s.snapshot.profile = profile_.name;
  view_.sample = std::move(s);
  view_.forecasts = std::move(d.forecasts);
  view_.samples_total++;
  view_.sample_interval_seconds = next_interval_;
  view_.predictive = tuning_.predict;
  view_.last_pass_seconds = mono_now() - t0;
}

void Daemon::run(const std::atomic<bool>& stop) {
  uint64_t n = 0;
  double next = mono_now();
  while (!stop.load()) {
    tick(mono_now() - started_);
    if (o_.max_samples && ++n >= o_.max_samples) break;
    next += next_interval_;
    // Late (a slow pass, a suspended machine): start again from now rather
    // than firing a burst of catch-up samples.
    if (next < mono_now()) next = mono_now();
    while (!stop.load() && mono_now() < next) {
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(0.1, next - mono_now())));
    }
  }
}

ApiHandlers Daemon::handlers() {
  ApiHandlers h;
  h.status = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    if (view_.samples_total == 0) return ApiReply{503, {{"error", "no sample taken yet; retry in a second"}}};
    nlohmann::json doc = snapshot::to_json(view_.sample.snapshot);
    doc["profile"] = profile_.name;  // the profile now, even if chosen since the sample
    doc["actions"] = actions_paused_ ? "paused" : "active";
    // The views' memory map (ui/memory_map.h) with this profile's thresholds,
    // so the web dashboard draws the same segments `ai watch` does.
    const ui::MapThresholds t = map_thresholds(profile_);
    doc["memory_map"] = ui::memory_map_json(ui::memory_map(view_.sample.snapshot, t), t);
    return ApiReply{200, doc};
  };
  h.plan = [this](const std::map<std::string, std::string>& p) {
    auto o = plan_options_from_query(p);
    if (!o) return ApiReply{400, {{"error", o.error().message}}};
    // The machine as last sampled, copied: the plan reads model files, which
    // must not hold up the sampler or the other API requests.
    plan::Machine machine;
    double reserve_percent = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (view_.samples_total == 0) return ApiReply{503, {{"error", "no sample taken yet; retry in a second"}}};
      const auto& snap = view_.sample.snapshot;
      machine.gpus = snap.gpus;
      if (snap.host.meminfo.total_bytes > 0) {
        machine.host = snap.host;
      } else {
        machine.host_error = "the daemon has no reading of host memory";
        for (const auto& e : snap.errors) {
          if (e.collector == "host") machine.host_error = e.message;
        }
      }
      // As `ai plan` does: the profile's reserve_vram_percent is the share AI work may fill.
      reserve_percent = 100.0 - profile_.reserve_vram_percent;
    }
    auto mp = plan::make_plan(*o, machine, reserve_percent);
    if (!mp) return ApiReply{422, {{"error", mp.error().message}}};
    return ApiReply{200, plan::plan_json(*mp)};
  };
  h.metrics = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return render_metrics(view_) + history_metrics_text(history_ != nullptr, history_moved_aside_);
  };
  h.history = [this](const std::map<std::string, std::string>& p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!history_) return ApiReply{503, {{"error", "history is off (see the daemon's log); the guard still runs"}}};
    auto it = p.find("series");
    if (it == p.end()) {
      auto names = history_->series_names();
      if (!names) return ApiReply{500, {{"error", names.error().message}}};
      return ApiReply{200, {{"schema", "ruvector-memopt.history/1"}, {"series_names", *names}}};
    }
    const int64_t now_s = view_.sample.unix_ms / 1000;
    int64_t since = param_int(p, "since", 3600, 1, 3650LL * 86400);
    // range=5m|1h|24h|7d: the views' timelines, averaged server-side into at
    // most `points` buckets so a week costs the page what five minutes do.
    size_t buckets = 0;
    if (auto rg = p.find("range"); rg != p.end()) {
      auto seconds = history_range_seconds(rg->second);
      if (!seconds) return ApiReply{400, {{"error", seconds.error().message}}};
      since = *seconds;
      buckets = static_cast<size_t>(param_int(p, "points", 300, 10, 2000));
    }
    auto labels = p.find("labels");
    auto r = history_->query(it->second, labels == p.end() ? "" : labels->second, now_s - since, now_s,
                             buckets ? kMaxRangePoints : 5000);
    if (!r) return ApiReply{500, {{"error", r.error().message}}};
    nlohmann::json series = nlohmann::json::array();
    for (auto& s : *r) {
      int resolution = s.resolution_seconds;
      if (buckets) {
        s.points = downsample(s.points, now_s - since, now_s, buckets);
        resolution = static_cast<int>(std::max<int64_t>(resolution, (since + buckets - 1) / buckets));
      }
      nlohmann::json pts = nlohmann::json::array();
      for (const auto& pt : s.points) pts.push_back({pt.ts, pt.value});
      series.push_back({{"name", s.name}, {"labels", s.labels}, {"resolution_seconds", resolution},
                        {"points", pts}});
    }
    nlohmann::json doc = {{"schema", "ruvector-memopt.history/1"}, {"series", series}};
    if (buckets) {
      doc["from"] = now_s - since;
      doc["to"] = now_s;
    }
    return ApiReply{200, doc};
  };
  h.actions = [this](const std::map<std::string, std::string>& p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!history_) return ApiReply{503, {{"error", "history is off (see the daemon's log); the guard still runs"}}};
    auto r = history_->recent_actions(static_cast<size_t>(param_int(p, "limit", 100, 1, 1000)));
    if (!r) return ApiReply{500, {{"error", r.error().message}}};
    nlohmann::json list = nlohmann::json::array();
    for (const auto& rec : *r) {
      auto j = action_json(rec.action);
      j["ts_ms"] = rec.ts_ms;
      j["applied"] = rec.applied;
      list.push_back(j);
    }
    return ApiReply{200, {{"schema", "ruvector-memopt.actions/1"}, {"actions", list}}};
  };
  h.unload = [this](const nlohmann::json& b) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!b.contains("model") || !b["model"].is_string()) return ApiReply{400, {{"error", "body needs \"model\""}}};
    const std::string model = b["model"];
    const std::string runtime = b.value("runtime", "");
    for (const auto& m : view_.sample.input.models) {
      if (m.name != model || (!runtime.empty() && m.runtime != runtime)) continue;
      policy::Action a;
      a.kind = policy::ActionKind::kUnload;
      a.target = m.key();
      a.runtime = m.runtime;
      a.model = m.name;
      a.endpoint = m.endpoint;
      a.gpu = m.gpu;
      a.expected_bytes = m.vram_bytes;
      a.reason = "requested through the API";
      auto done = std::make_shared<std::promise<FinishedAction>>();
      auto result = done->get_future();
      start_action(a, mono_now() - started_, view_.sample.unix_ms, view_.sample.input, done);
      // Waited for without the lock: /status and /metrics answer meanwhile.
      lock.unlock();
      if (result.wait_for(std::chrono::duration<double>(o_.action_reply_wait_seconds)) !=
          std::future_status::ready) {
        return ApiReply{202, {{"action", action_json(a)}}};  // outcome "in progress"
      }
      const FinishedAction f = result.get();
      return ApiReply{f.ok ? 200 : 502, {{"action", action_json(f.action)}}};
    }
    return ApiReply{404, {{"error", "no loaded model '" + model + "'" + (runtime.empty() ? "" : " in " + runtime)}}};
  };
  h.preload = [this](const nlohmann::json& b) {
    if (!b.contains("model") || !b["model"].is_string()) return ApiReply{400, {{"error", "body needs \"model\""}}};
    const std::string runtime = b.value("runtime", "ollama");
    const std::string endpoint = b.value("endpoint", std::string(runtime == "ollama" ? "http://127.0.0.1:11434" : ""));
    auto st = actuator_->preload(runtime, endpoint, b["model"], b.value("keep_alive", ""));
    if (!st) return ApiReply{502, {{"error", st.error().message}}};
    return ApiReply{200, {{"preloaded", b["model"]}, {"runtime", runtime}}};
  };
  h.mode = [this](const nlohmann::json& b) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string want = b.value("actions", "");
    if (want != "paused" && want != "active") {
      return ApiReply{400, {{"error", "body needs \"actions\": \"paused\" or \"active\""}}};
    }
    actions_paused_ = want == "paused";
    spdlog::info("AI Mode {}: the policy's actions are {}", actions_paused_ ? "off" : "on", want);
    return ApiReply{200, {{"actions", want}}};
  };
  h.profile = [this](const nlohmann::json& b) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!b.contains("name") || !b["name"].is_string()) return ApiReply{400, {{"error", "body needs \"name\""}}};
    const std::string name = b["name"];
    if (!profiles_.find(name)) return ApiReply{404, {{"error", "no profile '" + name + "'"}}};
    if (auto st = policy::set_active_profile(o_.state_dir, name); !st) {
      return ApiReply{500, {{"error", st.error().message}}};
    }
    reload_profile_if_changed();
    return ApiReply{200, {{"profile", profile_.name}}};
  };
  h.optimize = [this](const nlohmann::json& b) {
    std::unique_lock<std::mutex> lock(mu_);
    const bool apply = b.value("apply", false);
    // "kinds": ["unload"] / ["resize_context"] limits the pass to those
    // actions (the web dashboard's Unload Inactive Models / Compact KV Cache).
    std::vector<std::string> kinds;
    if (b.contains("kinds")) {
      if (!b["kinds"].is_array() || b["kinds"].size() > 16) {
        return ApiReply{400, {{"error", "\"kinds\" must be an array of action kinds"}}};
      }
      for (const auto& k : b["kinds"]) {
        if (!k.is_string()) return ApiReply{400, {{"error", "\"kinds\" must be an array of action kinds"}}};
        kinds.push_back(k.get<std::string>());
      }
    }
    std::vector<policy::PolicyInput> hist(recent_.begin(), recent_.end());
    policy::Decision d = policy::decide(view_.sample.input, profile_, hist, state_, tuning_);
    std::vector<policy::Action> taken;
    std::vector<std::future<FinishedAction>> results;
    for (auto& a : d.actions) {
      if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), policy::action_kind_name(a.kind)) == kinds.end()) {
        continue;
      }
      if (apply) {
        auto done = std::make_shared<std::promise<FinishedAction>>();
        results.push_back(done->get_future());
        start_action(a, mono_now() - started_, view_.sample.unix_ms, view_.sample.input, done);
      } else {
        a.outcome = "dry-run";
        record(a, false, view_.sample.unix_ms);
      }
      taken.push_back(a);
    }
    const std::string profile_name = profile_.name;
    // Waited for without the lock, all together within the reply's wait;
    // the ones still running say "in progress" (the history gets them).
    lock.unlock();
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(o_.action_reply_wait_seconds));
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < taken.size(); ++i) {
      if (i < results.size() && results[i].wait_until(until) == std::future_status::ready) {
        taken[i] = results[i].get().action;
      }
      list.push_back(action_json(taken[i]));
    }
    return ApiReply{200, {{"schema", "ruvector-memopt.optimize/1"}, {"profile", profile_name}, {"actions", list},
                          {"notes", d.notes}}};
  };
  return h;
}

}  // namespace memopt::daemon

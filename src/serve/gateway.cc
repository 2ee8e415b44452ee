#include "serve/gateway.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <unistd.h>

#include "actuator/actuator.h"
#include "daemon/api_auth.h"
#include "daemon/metrics.h"
#include "detect/detector.h"
#include "detect/workload_detector.h"
#include "estimate/memory_estimate.h"
#include "gguf/model_info.h"
#include "gpu/collect.h"
#include "policy/preload_predictor.h"
#include "policy/profile_effects.h"
#include "policy/profile.h"
#include "proc/host_memory.h"
#include "runtimes/http.h"
#include "runtimes/runtime.h"
#include "serve/backend.h"
#include "serve/llama_args.h"
#include "serve/render_handoff.h"
#include "serve/render_watch.h"
#include "serve/translate.h"
#include "serve/upstream.h"
#include "util/bytes.h"

namespace memopt::serve {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

enum class State { kStopped, kLoading, kReady, kEvicting, kCrashed, kExternal };

const char *state_name(State s, int in_flight) {
  switch (s) {
    case State::kStopped:
      return "stopped";
    case State::kLoading:
      return "loading";
    case State::kReady:
      return in_flight > 0 ? "busy" : "ready";
    case State::kEvicting:
      return "evicting";
    case State::kCrashed:
      return "crashed";
    case State::kExternal:
      return in_flight > 0 ? "busy" : "external";
  }
  return "?";
}

// Which API a request came in on, and so what the client expects back.
enum class Api { kOpenAi, kOllamaChat, kOllamaGenerate, kOllamaEmbed };

std::string utc_now() {
  const auto t = std::chrono::system_clock::now();
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(t)), ms);
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// An HTTP error with the shape each API's clients read.
void send_error(httplib::Response &res, int status, const std::string &message, Api api,
                int retry_after = 0) {
  json body;
  if (api == Api::kOpenAi) {
    const char *type = status == 503   ? "service_unavailable"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    body = {{"error", {{"message", message}, {"type", type}, {"code", status}}}};
  } else {
    body = {{"error", message}};
  }
  res.status = status;
  if (retry_after > 0) res.set_header("Retry-After", std::to_string(retry_after));
  res.set_content(body.dump(), "application/json");
}

// A backend started with llama-server's --api-key, or inheriting the
// gateway's own LLAMA_API_KEY (a backend's environment is the gateway's),
// gets that key from the gateway as its bearer token (detect::api_key_for:
// the last flag's first key, else the variable's first; llama-server takes
// both; load() gives it to the pool). A key a header cannot carry (a
// space, a control character) is an error naming the model, when the
// gateway is made.
std::string backend_api_key(const ModelConfig &m, bool *unusable = nullptr) {
  return detect::inherited_api_key(m.command, runtimes::find_runtime("llama.cpp"), unusable);
}

// With neither, a backend started with --api-key-file gets the file's
// first key a header can carry, read at each load (a key rotated between
// loads is the one sent) as the scan reads a server's key file
// (detect::key_from_key_file). The backend is started from the gateway's
// working directory by its user, so the file is read through the gateway's
// own /proc entry: a relative path resolves as the backend resolves it.
// A file that cannot be used fails the load, naming the model and why (the
// backend would answer every request 401).
Result<std::string> load_api_key(const ModelConfig &m) {
  std::string key = backend_api_key(m);
  if (!key.empty()) return key;
  const std::string file = detect::api_key_file_from_args(m.command);
  if (file.empty()) return key;
  auto from_file = detect::key_from_key_file("/proc", static_cast<int>(::getpid()),
                                             static_cast<uint32_t>(::geteuid()), file);
  if (!from_file) {
    return make_error("model \"" + m.name + "\": --api-key-file " + from_file.error().message +
                      ": the gateway cannot send the backend its key");
  }
  return *from_file;
}

Status check_backend_api_key(const ModelConfig &m) {
  bool unusable = false;
  backend_api_key(m, &unusable);
  if (unusable) {
    return make_error("model \"" + m.name +
                      "\": its --api-key (or the LLAMA_API_KEY it inherits) holds a space or "
                      "control character; the gateway cannot send it in a header");
  }
  return Ok{};
}

}  // namespace

struct Gateway::Impl {
  struct Model {
    ModelConfig cfg;  // command: as it is started (profile settings added)
    ModelPlan plan;
    std::string log_path;
    std::string settings_profile;  // the profile whose settings the command got ("" none)
    State state = State::kStopped;
    int in_flight = 0;
    std::deque<uint64_t> queue;  // tickets, FIFO
    std::map<uint64_t, Clock::time_point> queued_at;  // ticket -> when it joined the queue
    uint64_t last_used = 0;
    Clock::time_point idle_since = Clock::now();
    std::optional<BackendProcess> proc;
    int port = 0;
    // Keep-alive connections to its backend; replaced (the old one retired)
    // whenever the backend goes away, so no request reaches a stale socket.
    std::shared_ptr<UpstreamPool> pool;
    std::string last_error;
    uint64_t fail_epoch = 0;  // bumped when a load fails: queued requests get the error
    // Metrics.
    std::map<std::string, uint64_t> requests;  // outcome -> count
    uint64_t loads = 0, evictions = 0, crashes = 0, swaps = 0;
    double load_seconds_sum = 0, queue_wait_sum = 0;
    uint64_t queue_wait_count = 0;
    double last_load_seconds = 0;
    // The preload predictor's doing.
    bool preloaded_unused = false;  // preloaded, not asked for yet
    uint64_t preloads = 0, preload_hits = 0, preload_misses = 0;
    std::optional<Clock::time_point> preload_failed_at;
  };

  GatewayOptions opts;
  std::vector<BudgetDevice> devices;
  std::vector<int> device_gpus;  // per device: the GPU's index, -1 for RAM
  bool on_gpus = false;
  std::vector<std::unique_ptr<Model>> models;
  mutable std::mutex mu;
  std::condition_variable cv;
  uint64_t next_ticket = 1;
  uint64_t use_clock = 0;
  json events = json::array();  // the last 200 loads, evictions, crashes
  httplib::Server server;
  std::thread server_thread, monitor_thread;
  std::atomic<bool> stopping{false};
  int bound_port = 0;
  daemon::ListenAddress listen;
  std::vector<std::string> allowed_hosts;
  // The request log and what the predictor learned from it.
  std::shared_ptr<RequestLogStore> log_store;
  std::deque<RequestRecord> request_log;
  std::string log_error;
  bool log_dirty = false;
  Clock::time_point log_saved_at = Clock::now();
  Clock::time_point last_request_at = Clock::now();
  Clock::time_point next_preload_check = Clock::now();
  policy::PreloadPredictor predictor;
  // The image-generation handoff ([serve.image_generation]); see the
  // section of that name below.
  struct Yielded {
    std::string model;
    std::string how;  // "unloaded" (a started backend), "slept" / "unloaded" (an endpoint's)
  };
  RenderHandoff handoff{5};
  bool render_restoring = false;  // the render ended; what yielded is coming back
  HandoffMode handoff_mode = HandoffMode::kOff;
  std::string handoff_profile, handoff_profile_error;
  std::vector<RenderServerStatus> render_servers;
  std::vector<Yielded> yielded;  // what the handoff took away, to bring back
  uint64_t handoffs = 0, render_held_requests = 0, render_rejected_requests = 0;
  double render_held_seconds = 0;
  Clock::time_point handoff_began = Clock::now();
  std::thread render_thread;
  std::unique_ptr<actuator::Actuator> actuator;

  Model *find(const std::string &name) {
    for (auto &m : models) {
      if (m->cfg.name == name) return m.get();
    }
    return nullptr;
  }

  void event(const std::string &what, const Model &m, json extra = json::object()) {
    extra["event"] = what;
    extra["model"] = m.cfg.name;
    extra["at"] = utc_now();
    events.push_back(std::move(extra));
    if (events.size() > 200) events.erase(events.begin());
  }

  std::vector<Resident> residents_except(const Model *self) const {
    std::vector<Resident> out;
    for (const auto &m : models) {
      if (m.get() == self) continue;
      if (m->state != State::kLoading && m->state != State::kReady &&
          m->state != State::kEvicting) {
        continue;
      }
      out.push_back(
          {m->cfg.name, m->plan.need_bytes,
           m->state == State::kReady && m->in_flight == 0 && !m->cfg.pinned && m->queue.empty(),
           m->cfg.priority, m->last_used});
    }
    return out;
  }

  // The backend went away: its pooled connections with it (under mu).
  static void retire_pool(Model &m) {
    if (m.pool) m.pool->retire();
    m.pool.reset();
  }

  // ---- Lifecycle of a started backend (called without the lock held; the
  // model's state, Loading or Evicting, keeps every other thread off it).

  // Starts the command and waits until it answers GET /health. The backend
  // is the model's (pid and port in /serve/state) from its start: the
  // daemon attributes the memory it takes while loading to this load.
  Status load(Model &m) {
    const auto t0 = Clock::now();
    auto port = free_loopback_port();
    if (!port) return port.error();
    auto key = load_api_key(m.cfg);
    if (!key) return key.error();
    auto proc = BackendProcess::start(substitute_port(m.cfg.command, *port), m.log_path);
    if (!proc)
      return make_error("model \"" + m.cfg.name + "\": cannot start: " + proc.error().message);
    {
      std::lock_guard lock(mu);
      m.proc = std::move(*proc);
      m.port = *port;
      // Its key (checked when the gateway was made: check_backend_api_key;
      // a key file's, read just now).
      m.pool = std::make_shared<UpstreamPool>("127.0.0.1", *port, *key);
    }
    // Only this thread touches the process while the model is Loading.
    BackendProcess &backend = *m.proc;
    auto give_up = [&](Error e) -> Status {
      std::optional<BackendProcess> p;
      {
        std::lock_guard lock(mu);
        p.swap(m.proc);
        m.port = 0;
        retire_pool(m);
      }
      if (p && !p->exited()) p->stop(opts.stop_grace);
      return e;
    };
    runtimes::HttpOptions ho;
    ho.connect_timeout = std::chrono::milliseconds(200);
    ho.read_timeout = ho.total_timeout = std::chrono::milliseconds(1000);
    runtimes::HttpClient probe(runtimes::BaseUrl{"http", "127.0.0.1", *port}, ho);
    const auto deadline = t0 + std::chrono::seconds(m.cfg.load_timeout_seconds);
    for (;;) {
      if (backend.exited()) {
        std::string tail = log_tail(m.log_path);
        return give_up(make_error("model \"" + m.cfg.name + "\": its backend exited (" +
                                  backend.exit_status() + ") while loading; log " + m.log_path +
                                  (tail.empty() ? "" : ":\n" + tail)));
      }
      auto r = probe.get("/health");
      if (r && r->status == 200) break;
      if (stopping || Clock::now() >= deadline) {
        return give_up(make_error("model \"" + m.cfg.name +
                                  "\": its backend did not answer GET /health "
                                  "within " +
                                  std::to_string(m.cfg.load_timeout_seconds) +
                                  " s (load_timeout_seconds); log " + m.log_path));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    m.last_load_seconds = seconds_since(t0);
    return Ok{};
  }

  // Stops the backend and confirms its memory came back: on the GPUs, the
  // process is listed on none of them; on CPU, it was reaped (its RSS is
  // gone). Returns the bytes it held (RSS, or GPU bytes) before the stop.
  Result<uint64_t> release(Model &m) {
    if (!m.proc) return uint64_t{0};
    const pid_t pid = m.proc->pid();
    uint64_t held = process_rss_bytes(opts.proc_root, pid).value_or(0);
    auto gpu_held = [&]() -> uint64_t {
      uint64_t sum = 0;
      for (const auto &g : opts.gpus->sample().gpus) {
        for (const auto &[p, bytes] : gpu::process_memory(g)) {
          if (p == static_cast<uint32_t>(pid)) sum += bytes;
        }
      }
      return sum;
    };
    if (on_gpus) held = gpu_held();
    // Out of the model under the lock: /serve/state reads m.proc meanwhile.
    std::optional<BackendProcess> backend;
    {
      std::lock_guard lock(mu);
      backend.swap(m.proc);
      m.port = 0;
      retire_pool(m);
    }
    backend->stop(opts.stop_grace);
    const auto deadline = Clock::now() + opts.release_timeout;
    for (;;) {
      const bool back = on_gpus ? gpu_held() == 0 : !process_rss_bytes(opts.proc_root, pid);
      if (back) return held;
      if (Clock::now() >= deadline) {
        return make_error(fmt::format(
            "model \"{}\": its backend (pid {}) exited but {} "
            "still shows its memory after {} s",
            m.cfg.name, pid, on_gpus ? "the GPU" : "/proc",
            std::chrono::duration_cast<std::chrono::seconds>(opts.release_timeout).count()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Evicts `names` (marked Evicting by the caller), one after the other.
  Status evict(std::unique_lock<std::mutex> &lock, const std::vector<Model *> &victims,
               const std::string &reason) {
    Status result = Ok{};
    for (Model *v : victims) {
      lock.unlock();
      const auto t0 = Clock::now();
      auto held = release(*v);
      lock.lock();
      v->state = State::kStopped;
      v->evictions++;
      note_stopped(*v);
      if (held) {
        event("evicted", *v,
              {{"reason", reason},
               {"released_bytes", *held},
               {"confirmed", true},
               {"release_seconds", seconds_since(t0)}});
      } else {
        v->last_error = held.error().message;
        event("evicted", *v,
              {{"reason", reason}, {"confirmed", false}, {"error", held.error().message}});
        result = held.error();
      }
      cv.notify_all();
    }
    return result;
  }

  // Evicts `evict`, then starts `m` and waits until it answers (the lock is
  // dropped meanwhile; Loading keeps every other thread off `m`). A failed
  // start marks it crashed and fails its queued requests.
  Status start_model(std::unique_lock<std::mutex> &lock, Model &m,
                     const std::vector<std::string> &evict_names, const std::string &reason,
                     json loading_extra = json::object()) {
    std::vector<Model *> victims;
    for (const auto &n : evict_names) {
      Model *v = find(n);
      v->state = State::kEvicting;
      victims.push_back(v);
    }
    m.state = State::kLoading;
    Status st = evict(lock, victims, reason);
    if (!victims.empty()) m.swaps++;
    if (st) {
      loading_extra["planned_bytes"] = m.plan.need_bytes;
      loading_extra["evicted"] = evict_names;
      event("loading", m, std::move(loading_extra));
      lock.unlock();
      st = load(m);
      lock.lock();
    }
    if (st) {
      m.state = State::kReady;
      m.loads++;
      m.load_seconds_sum += m.last_load_seconds;
      m.last_error.clear();
      m.idle_since = Clock::now();
      event("ready", m, {{"load_seconds", m.last_load_seconds}, {"port", m.port}});
    } else {
      m.state = State::kCrashed;
      m.last_error = st.error().message;
      m.fail_epoch++;
      event("load_failed", m, {{"error", m.last_error}});
    }
    cv.notify_all();
    return st;
  }

  // ---- Admission: waits in the model's FIFO queue until the model is up.
  struct Denied {
    int status;
    std::string message;
    int retry_after = 0;
  };

  std::optional<Denied> acquire(Model &m) {
    std::unique_lock lock(mu);
    const auto t0 = Clock::now();
    if (auto denied = render_hold(lock, m, t0)) return denied;
    if (m.state == State::kExternal) {
      m.in_flight++;
      return std::nullopt;
    }
    if (static_cast<int64_t>(m.queue.size()) >= opts.config.max_queue) {
      return Denied{503,
                    fmt::format("model \"{}\": {} requests already wait (max_queue)", m.cfg.name,
                                m.queue.size()),
                    static_cast<int>(std::max<double>(1, m.last_load_seconds))};
    }
    const uint64_t ticket = next_ticket++;
    const uint64_t epoch = m.fail_epoch;
    m.queue.push_back(ticket);
    m.queued_at[ticket] = t0;
    const auto deadline = t0 + std::chrono::seconds(opts.config.queue_timeout_seconds);
    auto leave = [&] {
      for (auto it = m.queue.begin(); it != m.queue.end(); ++it) {
        if (*it == ticket) {
          m.queue.erase(it);
          m.queued_at.erase(ticket);
          break;
        }
      }
      cv.notify_all();
    };
    for (;;) {
      if (stopping) {
        leave();
        return Denied{503, "the gateway is stopping", 1};
      }
      if (m.fail_epoch != epoch) {
        leave();
        return Denied{502, m.last_error};
      }
      if (m.queue.front() == ticket && !render_holds()) {
        if (m.state == State::kReady) {
          m.queue.pop_front();
          m.queued_at.erase(ticket);
          m.in_flight++;
          m.last_used = ++use_clock;
          m.queue_wait_sum += seconds_since(t0);
          m.queue_wait_count++;
          cv.notify_all();
          return std::nullopt;
        }
        if (m.state == State::kStopped || m.state == State::kCrashed) {
          Admission a = admit(devices, residents_except(&m), m.cfg.name, m.plan.need_bytes);
          if (a.verdict == Admission::Verdict::kNever) {
            leave();
            return Denied{400, a.message};
          }
          if (a.verdict != Admission::Verdict::kWait) {
            (void)start_model(lock, m, a.evict, "memory for \"" + m.cfg.name + "\"");
            continue;
          }
        }
      }
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && Clock::now() >= deadline) {
        leave();
        return Denied{503,
                      fmt::format("model \"{}\" was not ready within {} s (queue_timeout_seconds)"
                                  " — {}",
                                  m.cfg.name, opts.config.queue_timeout_seconds,
                                  render_holds()               ? render_hold_reason()
                                  : m.state == State::kLoading ? "it is still loading"
                                                               : "busy models hold the memory"),
                      5};
      }
    }
  }

  void release_lease(Model &m, const std::string &outcome) {
    std::lock_guard lock(mu);
    m.in_flight--;
    m.last_used = ++use_clock;
    m.idle_since = Clock::now();
    m.requests[outcome]++;
    cv.notify_all();
  }

  // ---- The monitor: crashed backends, idle TTL.
  void monitor() {
    while (!stopping) {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(200));
      if (stopping) break;
      for (auto &mp : models) {
        Model &m = *mp;
        if (m.state == State::kReady && m.proc && m.proc->exited()) {
          m.state = State::kCrashed;
          m.crashes++;
          m.last_error = "model \"" + m.cfg.name + "\": its backend exited (" +
                         m.proc->exit_status() + "); log " + m.log_path + ": " +
                         log_tail(m.log_path, 3);
          m.proc.reset();
          retire_pool(m);
          m.fail_epoch++;
          note_stopped(m);
          event("crashed", m, {{"error", m.last_error}});
          cv.notify_all();
        }
      }
      for (auto &mp : models) {
        Model &m = *mp;
        if (m.state == State::kReady && m.cfg.ttl_seconds > 0 && m.in_flight == 0 &&
            m.queue.empty() && !m.cfg.pinned &&
            seconds_since(m.idle_since) >= static_cast<double>(m.cfg.ttl_seconds)) {
          m.state = State::kEvicting;
          (void)evict(lock, {&m}, "idle for ttl_seconds");
          break;  // the lock was dropped: look again next round
        }
      }
      maybe_preload(lock);
      save_request_log(lock, false);
    }
  }

  // ---- The preload predictor (issue 15, "learns what comes next").
  static int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // Reads the stored request log into the predictor; a damaged one is
  // reported (state, events) and the predictor starts empty.
  void load_request_log() {
    if (!log_store) return;
    auto text = log_store->load();
    Result<std::vector<RequestRecord>> recs =
        text ? decode_request_log(*text, log_store->where())
             : Result<std::vector<RequestRecord>>(text.error());
    if (!recs) {
      log_error = recs.error().message + " (starting with an empty request log; the next save "
                                         "replaces it)";
      events.push_back({{"event", "request_log_damaged"}, {"error", log_error}, {"at", utc_now()}});
      return;
    }
    for (auto &r : *recs) {
      predictor.observe(r.model, r.unix_ms / 1000);
      request_log.push_back(std::move(r));
    }
  }

  // Every routed request (called with the lock held).
  void note_request(Model &m, const json &body) {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::string client;
    if (body.contains("user") && body["user"].is_string()) {
      client = client_label(body["user"].get<std::string>());
    }
    request_log.push_back({now_ms, m.cfg.name, client});
    if (request_log.size() > kRequestLogMaxRecords) request_log.pop_front();
    log_dirty = true;
    predictor.observe(m.cfg.name, now_ms / 1000);
    last_request_at = Clock::now();
    if (m.preloaded_unused && (m.state == State::kReady || m.state == State::kLoading)) {
      m.preload_hits++;
      m.preloaded_unused = false;
    }
  }
  void note_request_locked(Model &m, const json &body) {
    std::lock_guard lock(mu);
    note_request(m, body);
  }

  // A backend stopped (evicted, crashed): a preload nobody asked for missed.
  void note_stopped(Model &m) {
    if (m.preloaded_unused) {
      m.preload_misses++;
      m.preloaded_unused = false;
    }
  }

  // Writes the log at most every 10 s while it changes, and at stop.
  void save_request_log(std::unique_lock<std::mutex> &lock, bool force) {
    if (!log_store || !log_dirty) return;
    if (!force && seconds_since(log_saved_at) < 10) return;
    const std::string text = encode_request_log(request_log);
    log_dirty = false;
    log_saved_at = Clock::now();
    lock.unlock();
    Status st = log_store->save(text);
    lock.lock();
    if (!st) {
      log_error = st.error().message;
    } else if (log_error.find("starting with an empty") == std::string::npos) {
      log_error.clear();
    }
  }

  // When every backend is idle (nothing in flight, queued, loading or
  // evicting) for preload_idle_seconds: start the likeliest model not up,
  // if it is likely enough and fits the budget by evicting only idle models
  // unused for preload_evict_idle_seconds that are less likely than it.
  // Busy, queued, pinned and recently used models are never evicted for it.
  void maybe_preload(std::unique_lock<std::mutex> &lock) {
    const ServeConfig &cfg = opts.config;
    if (!cfg.preload || stopping || render_holds() || Clock::now() < next_preload_check) return;
    next_preload_check = Clock::now() + std::chrono::seconds(1);
    Clock::time_point latest = last_request_at;
    for (const auto &mp : models) {
      const Model &m = *mp;
      if (m.in_flight > 0 || !m.queue.empty() || m.state == State::kLoading ||
          m.state == State::kEvicting) {
        return;
      }
      latest = std::max(latest, m.idle_since);
    }
    if (seconds_since(latest) < static_cast<double>(cfg.preload_idle_seconds)) return;
    const int64_t now = unix_now();
    const auto guesses = predictor.predict(now);
    for (const auto &g : guesses) {
      if (g.probability < cfg.preload_min_probability) return;
      Model *c = find(g.model);
      if (!c || !c->cfg.started_by_gateway() || c->state == State::kReady) continue;
      // A model whose start failed is not retried for preloading for 10 min.
      if (c->preload_failed_at && seconds_since(*c->preload_failed_at) < 600) continue;
      std::vector<Resident> residents = residents_except(c);
      for (auto &r : residents) {
        const Model *v = find(r.name);
        r.evictable = r.evictable && cfg.preload_evict_idle_seconds > 0 &&
                      seconds_since(v->idle_since) >=
                          static_cast<double>(cfg.preload_evict_idle_seconds) &&
                      predictor.probability(r.name, now) < g.probability;
      }
      Admission a = admit(devices, residents, c->cfg.name, c->plan.need_bytes);
      if (a.verdict == Admission::Verdict::kNever || a.verdict == Admission::Verdict::kWait) {
        return;
      }
      c->preloaded_unused = true;
      c->preloads++;
      c->last_used = ++use_clock;  // a fresh preload is not the first to go
      Status st = start_model(lock, *c, a.evict, "preload of \"" + c->cfg.name + "\"",
                              {{"preload", true}, {"probability", g.probability}});
      if (!st) {
        c->preloaded_unused = false;
        c->preload_failed_at = Clock::now();
      }
      return;
    }
  }

  // The predictor in GET /serve/state: settings, the log, the likeliest
  // next models now.
  json preload_json() const {
    const ServeConfig &cfg = opts.config;
    json next = json::array();
    for (const auto &g : predictor.predict(unix_now())) {
      if (next.size() >= 3) break;
      next.push_back({{"model", g.model}, {"probability", g.probability}});
    }
    return {{"enabled", cfg.preload},
            {"min_probability", cfg.preload_min_probability},
            {"idle_seconds", cfg.preload_idle_seconds},
            {"evict_idle_seconds", cfg.preload_evict_idle_seconds},
            {"log", log_store ? json(log_store->where()) : json(nullptr)},
            {"log_records", request_log.size()},
            {"log_error", log_error.empty() ? json(nullptr) : json(log_error)},
            {"next", next}};
  }

  void preload_metrics(std::string &out) const {
    auto family = [&](const char *name, const char *help, uint64_t Model::*field) {
      out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
      for (const auto &m : models) {
        out += fmt::format("{}{{model=\"{}\"}} {}\n", name, m->cfg.name, (*m).*field);
      }
    };
    family("ruvector_serve_preloads_total", "Backends started by the preload predictor.",
           &Model::preloads);
    family("ruvector_serve_preload_hits_total",
           "Preloaded backends asked for before they were stopped.", &Model::preload_hits);
    family("ruvector_serve_preload_misses_total",
           "Preloaded backends stopped before anyone asked for them.", &Model::preload_misses);
  }

  // ---- The image-generation handoff (issue 15). A thread polls the image
  // servers of [serve.image_generation]; while one has a render queued or
  // running (RenderHandoff), and the active profile's render_handoff is not
  // "off": idle models yield (a started backend is stopped, an endpoint's
  // model is slept or unloaded through its runtime's API by the actuator),
  // busy ones finish their requests first and then yield, pinned ones stay;
  // new requests wait in their queue ("queue") or get 503 ("reject"). Once
  // every queue has stayed empty for resume_after_seconds, what yielded
  // comes back.

  // Requests wait while a render runs and while what yielded comes back (a
  // request must not reach a vLLM engine before it is awake).
  bool render_holds() const { return handoff.holding() || render_restoring; }

  std::string render_hold_reason() const {
    std::string who;
    for (const auto &s : render_servers) {
      if (s.queue && s.queue->busy()) {
        who = s.runtime + " at " + s.url;
        break;
      }
    }
    return fmt::format("an image render {} (profile {}, render_handoff = {})",
                       who.empty() ? "has just ended; the models come back shortly"
                                   : "is running on " + who,
                       handoff_profile, handoff_mode_name(handoff_mode));
  }

  int render_retry_after() const {
    const auto &w = opts.config.image_generation;
    return static_cast<int>(std::ceil(std::max(1.0, w.resume_after_seconds + w.poll_seconds)));
  }

  // A request that comes while the handoff holds (under the lock): refused
  // ("reject"), or it waits here until the render is over ("queue") — the
  // queue of a started model holds it instead (acquire's loop).
  std::optional<Denied> render_hold(std::unique_lock<std::mutex> &lock, Model &m,
                                    Clock::time_point t0) {
    if (!render_holds()) return std::nullopt;
    // Refused while the render runs; once it is over and the models come
    // back, a request waits for them as for any load.
    if (handoff.holding() && handoff_mode == HandoffMode::kReject) {
      render_rejected_requests++;
      return Denied{503, "model \"" + m.cfg.name + "\" is not served now: " + render_hold_reason(),
                    render_retry_after()};
    }
    if (m.state != State::kExternal) {
      render_held_requests++;
      return std::nullopt;
    }
    // An endpoint model has no load to wait for: its requests wait here, in
    // its queue (bounded by max_queue, shown in /serve/state like any).
    if (static_cast<int64_t>(m.queue.size()) >= opts.config.max_queue) {
      render_rejected_requests++;
      return Denied{503,
                    fmt::format("model \"{}\": {} requests already wait (max_queue): {}",
                                m.cfg.name, m.queue.size(), render_hold_reason()),
                    render_retry_after()};
    }
    render_held_requests++;
    const uint64_t ticket = next_ticket++;
    m.queue.push_back(ticket);
    m.queued_at[ticket] = t0;
    const auto deadline = t0 + std::chrono::seconds(opts.config.queue_timeout_seconds);
    std::optional<Denied> denied;
    while (render_holds() && !stopping) {
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && Clock::now() >= deadline) {
        denied = Denied{503,
                        fmt::format("model \"{}\" was held {} s (queue_timeout_seconds): {}",
                                    m.cfg.name, opts.config.queue_timeout_seconds,
                                    render_hold_reason()),
                        render_retry_after()};
        break;
      }
    }
    if (!denied && stopping) denied = Denied{503, "the gateway is stopping", 1};
    m.queue.erase(std::find(m.queue.begin(), m.queue.end(), ticket));
    m.queued_at.erase(ticket);
    cv.notify_all();
    return denied;
  }

  // The active profile's render_handoff, read again each poll so that
  // `ai profile image_generation` takes effect without a restart. A config
  // that cannot be read keeps the last good value and says why.
  void read_handoff_profile(std::string &name, HandoffMode &mode, std::string &error) const {
    auto profiles = policy::load_profiles(opts.config_path);
    auto active = policy::active_profile(opts.state_dir);
    if (!profiles || !active) {
      error = !profiles ? profiles.error().message : active.error().message;
      return;
    }
    const policy::Profile *p = profiles->find(*active);
    if (!p) {
      error = "the active profile '" + *active + "' is not defined in " + opts.config_path;
      return;
    }
    name = p->name;
    mode = serve::handoff_mode(p->render_handoff).value_or(HandoffMode::kOff);
    error.clear();
  }

  void render_watch() {
    const RenderWatchConfig &w = opts.config.image_generation;
    const auto period = std::chrono::milliseconds(static_cast<int64_t>(w.poll_seconds * 1000));
    // A poll never takes longer than the period (nor 2 s): a server that
    // hangs only makes the handoff see it as idle.
    const auto timeout = std::clamp(period, std::chrono::milliseconds(200),
                                    std::chrono::milliseconds(2000));
    const auto origin = Clock::now();
    while (!stopping) {
      const auto t0 = Clock::now();
      std::string name, error;
      HandoffMode mode = HandoffMode::kOff;
      {
        std::lock_guard lock(mu);
        name = handoff_profile, mode = handoff_mode, error = handoff_profile_error;
      }
      read_handoff_profile(name, mode, error);
      auto servers = poll_render_servers(w.endpoints, timeout);
      std::unique_lock lock(mu);
      if (stopping) break;
      handoff_profile = name, handoff_mode = mode, handoff_profile_error = error;
      render_servers = std::move(servers);
      const auto step = handoff.observe(any_rendering(render_servers), mode != HandoffMode::kOff,
                                        std::chrono::duration<double>(t0 - origin).count());
      if (step.began) {
        handoffs++;
        handoff_began = Clock::now();
        render_event("render_started", {{"reason", render_hold_reason()}});
      }
      if (handoff.holding()) render_yield(lock);
      if (step.ended) {
        const double held = seconds_since(handoff_began);
        render_held_seconds += held;
        render_event("render_ended", {{"held_seconds", held}});
        render_restoring = true;
        render_bring_back(lock);
        render_restoring = false;
        cv.notify_all();  // held requests go on
      }
      while (!stopping && Clock::now() < t0 + period) cv.wait_until(lock, t0 + period);
    }
  }

  void render_event(const std::string &what, json extra) {
    extra["event"] = what;
    extra["at"] = utc_now();
    events.push_back(std::move(extra));
    if (events.size() > 200) events.erase(events.begin());
  }

  bool has_yielded(const std::string &name) const {
    for (const auto &y : yielded) {
      if (y.model == name) return true;
    }
    return false;
  }

  // An endpoint's model is loaded there now (an Ollama or llama.cpp model
  // that is not loaded must not be touched: asking to unload it may load
  // it); a sleeping vLLM/SGLang engine is already out of the way.
  static bool endpoint_model_loaded(const ModelConfig &c) {
    auto kind = runtimes::runtime_from_name(c.runtime);
    if (!kind) return false;
    auto base = runtimes::parse_base_url(c.endpoint, runtimes::default_port(*kind));
    if (!base) return false;
    auto client = runtimes::make_client(*kind, *base);
    if (!client) return false;
    auto loaded = client->loaded_models();
    if (!loaded) return false;
    for (const auto &lm : *loaded) {
      if (lm.name == c.model && lm.state != "sleeping" && lm.state != "unloaded") return true;
    }
    return false;
  }

  // Every model that may yield and has not: idle, not pinned (under the
  // lock, which is dropped while each one is stopped or slept).
  void render_yield(std::unique_lock<std::mutex> &lock) {
    for (auto &mp : models) {
      Model &m = *mp;
      if (stopping || !handoff.holding()) return;
      if (m.cfg.pinned || m.in_flight > 0 || has_yielded(m.cfg.name)) continue;
      const std::string reason = "image render (profile " + handoff_profile + ")";
      if (m.state == State::kReady) {
        m.state = State::kEvicting;
        yielded.push_back({m.cfg.name, "unloaded"});
        (void)evict(lock, {&m}, reason);
        render_event("yielded", {{"model", m.cfg.name}, {"how", "unloaded"}});
      } else if (m.state == State::kExternal) {
        const ModelConfig c = m.cfg;
        const bool sleeps = c.runtime == "vllm" || c.runtime == "sglang";
        const std::string how = sleeps ? "slept" : "unloaded";
        yielded.push_back({c.name, how});  // tried once per render, whatever the outcome
        lock.unlock();
        Status st = Ok{};
        const bool loaded = endpoint_model_loaded(c);
        if (loaded) {
          policy::Action a;
          a.kind = policy::ActionKind::kUnload;
          a.runtime = c.runtime, a.endpoint = c.endpoint, a.model = c.model;
          a.reason = reason;
          st = actuator->apply(a);
        }
        lock.lock();
        if (!loaded) {
          yielded.pop_back();
          // Not loaded (or not reachable): nothing to free; remembered so it
          // is not asked again during this render.
          yielded.push_back({c.name, "not loaded"});
        } else if (!st) {
          yielded.back().how = "kept";
          render_event("yield_failed", {{"model", c.name}, {"error", st.error().message}});
        } else {
          render_event("yielded", {{"model", c.name}, {"how", how}});
        }
      }
    }
  }

  // The render is over: what yielded comes back, one by one, if it fits
  // (a request may have brought it back already).
  void render_bring_back(std::unique_lock<std::mutex> &lock) {
    std::vector<Yielded> back;
    back.swap(yielded);
    for (const auto &y : back) {
      if (stopping || handoff.holding()) return;
      Model *m = find(y.model);
      if (!m || y.how == "kept" || y.how == "not loaded") continue;
      if (m->cfg.started_by_gateway()) {
        if (m->state != State::kStopped) continue;
        Admission a = admit(devices, residents_except(m), m->cfg.name, m->plan.need_bytes);
        if (a.verdict != Admission::Verdict::kFits) {
          render_event("restore_skipped", {{"model", m->cfg.name},
                                           {"reason", "it no longer fits beside the models up"}});
          continue;
        }
        Status st = start_model(lock, *m, {}, "render ended", {{"restore", true}});
        render_event(st ? "restored" : "restore_failed",
                     st ? json{{"model", y.model}} : json{{"model", y.model}, {"error", m->last_error}});
      } else {
        const ModelConfig c = m->cfg;
        lock.unlock();
        Status st = actuator->preload(c.runtime, c.endpoint, c.model, "");
        lock.lock();
        render_event(st ? "restored" : "restore_failed",
                     st ? json{{"model", y.model}}
                        : json{{"model", y.model}, {"error", st.error().message}});
      }
    }
  }

  json handoff_json() const {
    const RenderWatchConfig &w = opts.config.image_generation;
    json servers = json::array();
    for (const auto &s : render_servers) {
      json j = {{"runtime", s.runtime}, {"url", s.url}};
      if (s.queue) {
        j["running"] = s.queue->running;
        j["pending"] = s.queue->pending;
        j["job"] = s.queue->detail;
        j["error"] = nullptr;
      } else {
        j["error"] = s.error;
      }
      servers.push_back(std::move(j));
    }
    json back = json::array();
    for (const auto &y : yielded) back.push_back({{"model", y.model}, {"how", y.how}});
    const bool holding = handoff.holding();
    return {{"enabled", !w.endpoints.empty()},
            {"restoring", render_restoring},
            {"profile", handoff_profile},
            {"mode", handoff_mode_name(handoff_mode)},
            {"profile_error",
             handoff_profile_error.empty() ? json(nullptr) : json(handoff_profile_error)},
            {"phase", phase_name(handoff.phase())},
            {"held_for_seconds", holding ? json(seconds_since(handoff_began)) : json(nullptr)},
            {"poll_seconds", w.poll_seconds},
            {"resume_after_seconds", w.resume_after_seconds},
            {"servers", servers},
            {"yielded", back},
            {"handoffs", handoffs},
            {"held_seconds_total", render_held_seconds_now()},
            {"requests_held", render_held_requests},
            {"requests_rejected", render_rejected_requests}};
  }

  double render_held_seconds_now() const {
    return render_held_seconds + (handoff.holding() ? seconds_since(handoff_began) : 0.0);
  }

  void handoff_metrics(std::string &out) const {
    if (opts.config.image_generation.endpoints.empty()) return;
    auto family = [&](const char *name, const char *type, const char *help) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    family("ruvector_serve_render_handoffs_total", "counter",
           "Image renders the gateway's models yielded to.");
    out += fmt::format("ruvector_serve_render_handoffs_total {}\n", handoffs);
    family("ruvector_serve_render_held_seconds_total", "counter",
           "Time LLM requests were held for image renders.");
    out += fmt::format("ruvector_serve_render_held_seconds_total {:.3f}\n",
                       render_held_seconds_now());
    family("ruvector_serve_render_holding", "gauge",
           "Whether an image render holds the LLMs now (1) or not (0).");
    out += fmt::format("ruvector_serve_render_holding {}\n", render_holds() ? 1 : 0);
    family("ruvector_serve_render_requests_total", "counter",
           "LLM requests that came during a render, by what happened to them.");
    out += fmt::format("ruvector_serve_render_requests_total{{outcome=\"held\"}} {}\n",
                       render_held_requests);
    out += fmt::format("ruvector_serve_render_requests_total{{outcome=\"rejected\"}} {}\n",
                       render_rejected_requests);
    family("ruvector_serve_render_jobs", "gauge",
           "Jobs running or waiting on each image server (absent: it did not answer).");
    for (const auto &s : render_servers) {
      if (!s.queue) continue;
      out += fmt::format("ruvector_serve_render_jobs{{runtime=\"{}\",endpoint=\"{}\"}} {}\n",
                         s.runtime, daemon::escape_label_value(s.url), s.queue->running + s.queue->pending);
    }
  }

  // ---- Proxying.
  void proxy(const httplib::Request &req, httplib::Response &res, Api api, const std::string &path);
  void list_models(httplib::Response &res, bool ollama_format, bool loaded_only);
  bool authorized(const httplib::Request &req, httplib::Response &res);
};

bool Gateway::Impl::authorized(const httplib::Request &req, httplib::Response &res) {
  // DNS rebinding: a web page must not reach a loopback gateway by name.
  if (!daemon::host_allowed(req.get_header_value("Host"), allowed_hosts)) {
    send_error(res, 403, "Host header not allowed", Api::kOpenAi);
    return false;
  }
  if (!opts.config.api_key.empty() &&
      !daemon::bearer_matches(req.get_header_value("Authorization"), opts.config.api_key)) {
    send_error(res, 401, "this gateway needs Authorization: Bearer <api_key>", Api::kOpenAi);
    return false;
  }
  return true;
}

void Gateway::Impl::list_models(httplib::Response &res, bool ollama_format, bool loaded_only) {
  std::lock_guard lock(mu);
  json list = json::array();
  for (const auto &m : models) {
    const bool loaded = m->state == State::kReady || m->state == State::kExternal;
    if (loaded_only && !loaded) continue;
    uint64_t bytes = 0;
    for (uint64_t b : m->plan.need_bytes) bytes += b;
    if (ollama_format) {
      json e = {{"name", m->cfg.name},
                {"model", m->cfg.name},
                {"size", bytes},
                {"details", {{"format", "gguf"}}}};
      if (loaded_only) {
        e["size_vram"] = on_gpus ? bytes : 0;
        e["expires_at"] = "";
      }
      list.push_back(e);
    } else {
      list.push_back({{"id", m->cfg.name},
                      {"object", "model"},
                      {"created", 0},
                      {"owned_by", "ruvector-memopt"}});
    }
  }
  json body = ollama_format ? json{{"models", list}} : json{{"object", "list"}, {"data", list}};
  res.set_content(body.dump(), "application/json");
}

void Gateway::Impl::proxy(const httplib::Request &req, httplib::Response &res, Api api,
                          const std::string &path) {
  if (!authorized(req, res)) return;
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return send_error(res, 400, "the request body must be a JSON object", api);
  }
  if (!body.contains("model") || !body["model"].is_string()) {
    return send_error(res, 400, "field \"model\" must be a string naming a configured model", api);
  }
  const std::string name = body["model"].get<std::string>();
  if (!valid_model_name(name)) {
    return send_error(res, 400, "field \"model\" is not a valid model name", api);
  }
  Model *m = find(name);
  if (!m) {
    return send_error(res, 404, "model \"" + name + "\" is not configured in [serve.models]", api);
  }
  note_request_locked(*m, body);
  // The request as the backend takes it.
  std::string up_path = path;
  bool stream =
      body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
  const bool ollama_backend = m->cfg.runtime == "ollama";
  const std::string upstream_model = m->cfg.model.empty() ? name : m->cfg.model;
  std::optional<OllamaKind> translate;
  if (api != Api::kOpenAi && !ollama_backend) {
    const OllamaKind kind = api == Api::kOllamaChat       ? OllamaKind::kChat
                            : api == Api::kOllamaGenerate ? OllamaKind::kGenerate
                                                          : OllamaKind::kEmbed;
    auto t = ollama_to_openai(kind, body, upstream_model);
    if (!t) return send_error(res, 400, t.error().message, api);
    translate = kind;
    up_path = t->path;
    stream = t->stream;
    body = std::move(t->body);
  } else {
    if (api != Api::kOpenAi) {
      stream =
          !(body.contains("stream") && body["stream"].is_boolean() && !body["stream"].get<bool>());
    }
    body["model"] = upstream_model;
  }

  if (auto denied = acquire(*m)) {
    {
      std::lock_guard lock(mu);
      m->requests[denied->status == 503 ? "rejected" : "error"]++;
    }
    return send_error(res, denied->status, denied->message, api, denied->retry_after);
  }
  std::shared_ptr<UpstreamPool> pool;
  {
    std::lock_guard lock(mu);
    pool = m->pool;
  }
  if (!pool) {
    release_lease(*m, "error");
    return send_error(res, 502, "model \"" + name + "\": no backend to send the request to", api);
  }

  // The exchange runs on this thread: the request goes out on a pooled
  // keep-alive connection, and the answer's head is read here; a stream's
  // body is then read by httplib's content provider on this same thread,
  // each piece written to the client as it comes (no thread hop, no queue).
  UpstreamTimeouts timeouts;
  // The lease ends when the exchange does: after its connection is pooled
  // or closed (a closed one tells the backend to stop the request).
  struct Lease {
    Impl *gw;
    Model *m;
    std::unique_ptr<UpstreamExchange> x;
    std::string outcome = "error";
    Lease(Impl *g, Model *mm) : gw(g), m(mm) {}
    Lease(const Lease &) = delete;
    Lease &operator=(const Lease &) = delete;
    ~Lease() {
      x.reset();
      gw->release_lease(*m, outcome);
    }
  };
  auto lease = std::make_shared<Lease>(this, m);
  auto started = UpstreamExchange::start(pool, "POST", up_path, body.dump(), timeouts,
                                         [this] { return !stopping.load(); });
  if (!started) {
    return send_error(res, 502, "model \"" + name + "\": " + started.error().message, api);
  }
  lease->x = std::move(*started);
  UpstreamExchange &x = *lease->x;
  if (x.status() / 100 != 2) {
    auto whole = x.read_all();
    if (!whole) return send_error(res, 502, "model \"" + name + "\": " + whole.error().message, api);
    res.status = x.status();
    res.set_content(*whole, x.content_type().empty() ? "application/json" : x.content_type());
    return;
  }
  const std::string created = utc_now();
  if (!stream) {
    // Whole answers are short: collect, translate if asked, send with a length.
    auto all = x.read_all();
    if (!all) return send_error(res, 502, "model \"" + name + "\": " + all.error().message, api);
    lease->outcome = "ok";
    if (translate) {
      auto o = openai_answer_to_ollama(*translate, *all, name, created);
      if (!o) return send_error(res, 502, "model \"" + name + "\": " + o.error().message, api);
      res.set_content(o->dump(), "application/json");
    } else {
      res.set_content(std::move(*all), "application/json");
    }
    return;
  }
  const char *type = api == Api::kOpenAi ? "text/event-stream" : "application/x-ndjson";
  auto sse = std::make_shared<SseReader>();
  auto done_sent = std::make_shared<bool>(false);
  res.set_header("Cache-Control", "no-cache");
  // A stream that does not reach its end here lost its client.
  lease->outcome = "cancelled";
  res.set_chunked_content_provider(
      type,
      [this, lease, translate, sse, done_sent, name, created](size_t, httplib::DataSink &sink) {
        UpstreamExchange &x = *lease->x;
        // A client gone while the backend is silent (a long prompt) is
        // noticed within this wait; the backend's request is then dropped.
        constexpr auto kPoll = std::chrono::milliseconds(250);
        // The whole stream in this one call: httplib checks the socket
        // (a select) before each call, and a piece needs no more than its
        // own send.
        for (;;) {
          if (stopping) {
            lease->outcome = "error";
            x.abandon();
            return false;
          }
          std::string_view piece;
          for (;;) {
            const auto r = x.read(piece, kPoll);
            if (r == UpstreamExchange::Read::kWait) {
              if (stopping || !sink.is_writable()) {
                lease->outcome = stopping ? "error" : "cancelled";
                x.abandon();
                return false;
              }
              continue;
            }
            if (r == UpstreamExchange::Read::kError) {
              // Cut short: the client sees a broken stream, not a clean end.
              lease->outcome = "error";
              return false;
            }
            if (r == UpstreamExchange::Read::kEnd) {
              if (translate && !*done_sent) {
                const std::string d = ollama_done_line(*translate, name, created, "stop");
                sink.write(d.data(), d.size());
              }
              lease->outcome = "ok";
              sink.done();
              return true;
            }
            break;
          }
          // Pieces already here go out in one write (one syscall, one chunk).
          std::string joined;
          std::string_view out = piece;
          if (x.buffered()) {
            joined.assign(piece);
            std::string_view more;
            while (x.buffered() &&
                   x.read(more, std::chrono::milliseconds(0)) == UpstreamExchange::Read::kData) {
              joined.append(more);
            }
            out = joined;
          }
          std::string translated;
          if (translate) {
            auto events = sse->feed(out);
            if (!events) {
              lease->outcome = "error";
              x.abandon();
              return false;
            }
            for (const auto &e : *events) {
              if (e == "[DONE]") {
                if (!*done_sent) translated += ollama_done_line(*translate, name, created, "stop");
                *done_sent = true;
                continue;
              }
              json ev = json::parse(e, nullptr, false);
              if (ev.is_discarded()) continue;
              translated += openai_event_to_ollama_line(*translate, ev, name, created);
            }
            out = translated;
          }
          if (!out.empty() && !sink.write(out.data(), out.size())) {
            lease->outcome = "cancelled";  // the client went away: stop the backend's work
            x.abandon();
            return false;
          }
        }
      },
      [lease](bool) {
        // Not whole (client gone, write failed): the backend's request is
        // dropped with its connection.
        if (lease->outcome != "ok" && lease->x) lease->x->abandon();
      });
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() { stop(); }

namespace {

// The footprint of one command model on the budget devices.
Result<ModelPlan> plan_model(const ModelConfig &m, bool on_gpus, size_t n_gpus) {
  auto launch = read_llama_args(m.command);
  if (!launch) return make_error("model \"" + m.name + "\": " + launch.error().message);
  const std::string path = m.gguf.empty() ? launch->model_path : m.gguf;
  if (path.empty()) {
    return make_error("model \"" + m.name +
                      "\": its command has no -m/--model; give gguf = "
                      "\"/path/model.gguf\" so the planner can read it");
  }
  auto info = gguf::get_model_info(path);
  if (!info) return make_error("model \"" + m.name + "\": " + info.error().message);
  estimate::RunSettings s = launch->settings;
  if (s.ctx_per_seq == 0) s.ctx_per_seq = info->context_length ? info->context_length : 4096;
  estimate::Placement p;
  if (on_gpus) {
    p.n_gpus = static_cast<uint32_t>(n_gpus);
    // llama.cpp's default offloads every layer and the output.
    p.n_gpu_layers = launch->n_gpu_layers.value_or(info->block_count + 1);
  }
  auto est = estimate::estimate_memory_requirements(*info, s, p);
  if (!est) return make_error("model \"" + m.name + "\": " + est.error().message);
  ModelPlan plan;
  if (on_gpus) {
    for (size_t i = 0; i < n_gpus; ++i) {
      plan.need_bytes.push_back(1 + i < est->devices.size() ? est->devices[1 + i].total_bytes()
                                                            : 0);
    }
  } else {
    plan.need_bytes.push_back(est->devices[0].total_bytes());
  }
  plan.summary = fmt::format("ctx {} x {}, {} of {} layers on GPU", s.ctx_per_seq, s.parallel,
                             p.n_gpu_layers, info->block_count);
  return plan;
}

}  // namespace

Result<std::unique_ptr<Gateway>> Gateway::create(GatewayOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->opts = std::move(options);
  const auto &cfg = impl->opts.config;
  auto listen = daemon::parse_listen(cfg.listen);
  if (!listen) return make_error("[serve] listen: " + listen.error().message);
  if (!listen->loopback() && cfg.api_key.empty()) {
    return make_error("[serve] listen = \"" + cfg.listen +
                      "\" is not loopback: set api_key in [serve] so every request needs it");
  }
  impl->listen = *listen;

  // The devices the budget applies to.
  double reserve_vram_percent = 90, reserve_ram_gb = 8;
  const bool settings_wanted =
      std::any_of(cfg.models.begin(), cfg.models.end(),
                  [](const ModelConfig &m) { return m.profile_settings; });
  std::optional<policy::Profile> profile;  // the active one, when it is needed
  if (!cfg.memory_budget_bytes || settings_wanted) {
    auto profiles = policy::load_profiles(impl->opts.config_path);
    if (!profiles) return profiles.error();
    auto active = policy::active_profile(impl->opts.state_dir);
    const policy::Profile *p =
        profiles->find(active ? *active : std::string(policy::kDefaultProfile));
    if (p) {
      profile = *p;
      if (!cfg.memory_budget_bytes)
        reserve_vram_percent = p->reserve_vram_percent, reserve_ram_gb = p->reserve_ram_gb;
    }
  }
  if (!impl->opts.gpus) {
    impl->opts.gpus = std::make_shared<gpu::GpuCollector>(
        gpu::GpuRoots{impl->opts.proc_root, impl->opts.sys_root, impl->opts.nvml_library});
  }
  auto snap = impl->opts.gpus->sample();
  std::vector<int> numa_nodes;  // of the budget GPUs (-1: unknown)
  for (const auto &g : snap.gpus) {
    if (g.integrated || !g.memory_free_bytes) continue;
    numa_nodes.push_back(g.numa_node.value_or(-1));
    uint64_t budget = cfg.memory_budget_bytes.value_or(0);
    if (!cfg.memory_budget_bytes) {
      // auto: free memory minus the share the active profile keeps free.
      const uint64_t total = g.memory_total_bytes.value_or(*g.memory_free_bytes);
      const auto keep =
          static_cast<uint64_t>(static_cast<double>(total) * (100 - reserve_vram_percent) / 100);
      budget = *g.memory_free_bytes > keep ? *g.memory_free_bytes - keep : 0;
    }
    impl->devices.push_back({"GPU " + std::to_string(g.index), budget});
    impl->device_gpus.push_back(static_cast<int>(g.index));
  }
  impl->on_gpus = !impl->devices.empty();
  // Where a started backend runs: the budget GPUs' NUMA node when they all
  // share one (numactl binds it there), else llama.cpp spreads itself.
  policy::LaunchPlace place;
  if (!numa_nodes.empty() && numa_nodes[0] >= 0 &&
      std::all_of(numa_nodes.begin(), numa_nodes.end(),
                  [&](int n) { return n == numa_nodes[0]; })) {
    place.gpu_numa_node = numa_nodes[0];
    place.numactl_available = resolve_program("numactl").ok();
  }
  if (!impl->on_gpus) {
    uint64_t budget = cfg.memory_budget_bytes.value_or(0);
    if (!cfg.memory_budget_bytes) {
      auto host = proc::read_host_memory(impl->opts.proc_root, impl->opts.sys_root);
      if (!host) return make_error("memory_budget = \"auto\": " + host.error().message);
      const auto keep = static_cast<uint64_t>(reserve_ram_gb * (1ull << 30));
      budget = host->meminfo.available_bytes > keep ? host->meminfo.available_bytes - keep : 0;
    }
    impl->devices.push_back({"RAM", budget});
    impl->device_gpus.push_back(-1);
  }

  std::error_code ec;
  std::filesystem::create_directories(impl->opts.log_dir, ec);
  for (const auto &mc : cfg.models) {
    auto m = std::make_unique<Impl::Model>();
    m->cfg = mc;
    if (mc.profile_settings) {
      // The command as it will run, planned as it will run: the active
      // profile's llama.cpp settings added where the command sets none.
      if (!profile) {
        return make_error("model \"" + mc.name +
                          "\": profile_settings = true, but the active profile is not defined");
      }
      const auto settings = policy::runtime_settings(*profile, "llamacpp", place);
      m->cfg.command = policy::with_runtime_settings(mc.command, settings);
      m->settings_profile = profile->name;
    }
    if (mc.started_by_gateway()) {
      if (auto st = check_backend_api_key(m->cfg); !st) return st.error();
      auto plan = plan_model(m->cfg, impl->on_gpus, impl->devices.size());
      if (!plan) return plan.error();
      m->plan = std::move(*plan);
      std::string file = mc.name;
      for (char &c : file) {
        if (c == '/' || c == ':') c = '_';
      }
      m->log_path = impl->opts.log_dir + "/" + file + ".log";
    } else {
      auto url = runtimes::parse_base_url(mc.endpoint, 80);
      if (!url) return make_error("model \"" + mc.name + "\": endpoint: " + url.error().message);
      if (url->scheme != "http") {
        return make_error("model \"" + mc.name + "\": endpoint " + mc.endpoint +
                          ": the gateway reaches backends over plain http:// only");
      }
      m->pool = std::make_shared<UpstreamPool>(url->host, url->port, mc.api_key);
      m->state = State::kExternal;
      m->plan.need_bytes.assign(impl->devices.size(), 0);
      m->plan.summary = "served by " + mc.runtime + " at " + mc.endpoint;
    }
    impl->models.push_back(std::move(m));
  }
  impl->handoff = RenderHandoff(cfg.image_generation.resume_after_seconds);
  if (!cfg.image_generation.endpoints.empty()) {
    impl->actuator = actuator::make_runtime_actuator();
    for (const auto &e : cfg.image_generation.endpoints) {
      impl->render_servers.push_back({e.runtime, e.url, std::nullopt, "not read yet"});
    }
    impl->read_handoff_profile(impl->handoff_profile, impl->handoff_mode,
                               impl->handoff_profile_error);
  }
  impl->log_store = impl->opts.request_log;
  if (!impl->log_store && !impl->opts.state_dir.empty()) {
    impl->log_store = file_request_log_store(impl->opts.state_dir + "/serve-requests.log");
  }
  impl->load_request_log();
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Status Gateway::start() {
  Impl &d = *impl_;
  // One thread per open connection: streams hold theirs for minutes.
  d.server.new_task_queue = [] { return new httplib::ThreadPool(256); };
  d.server.set_payload_max_length(64ull << 20);
  d.server.set_read_timeout(std::chrono::seconds(30));
  d.server.set_write_timeout(std::chrono::seconds(600));
  d.server.set_keep_alive_max_count(1000);
  // Chunks go out as they come: Nagle plus delayed ACKs would hold a token ~40 ms.
  d.server.set_tcp_nodelay(true);
  const std::pair<const char *, Api> routes[] = {
      {"/v1/chat/completions", Api::kOpenAi},  {"/v1/completions", Api::kOpenAi},
      {"/v1/embeddings", Api::kOpenAi},        {"/api/chat", Api::kOllamaChat},
      {"/api/generate", Api::kOllamaGenerate}, {"/api/embed", Api::kOllamaEmbed}};
  for (const auto &route : routes) {
    const std::string p = route.first;
    const Api api = route.second;  // (clang before 16 cannot capture a structured binding)
    d.server.Post(route.first, [&d, api, p](const httplib::Request &req, httplib::Response &res) {
      d.proxy(req, res, api, p);
    });
  }
  d.server.Get("/v1/models", [&d](const httplib::Request &req, httplib::Response &res) {
    if (d.authorized(req, res)) d.list_models(res, false, false);
  });
  d.server.Get("/api/tags", [&d](const httplib::Request &req, httplib::Response &res) {
    if (d.authorized(req, res)) d.list_models(res, true, false);
  });
  d.server.Get("/api/ps", [&d](const httplib::Request &req, httplib::Response &res) {
    if (d.authorized(req, res)) d.list_models(res, true, true);
  });
  d.server.Get("/api/version", [&d](const httplib::Request &req, httplib::Response &res) {
    if (d.authorized(req, res))
      res.set_content(R"({"version":"0.0.0-ruvector-memopt"})", "application/json");
  });
  d.server.Get("/health", [](const httplib::Request &, httplib::Response &res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  d.server.Get("/serve/state", [this](const httplib::Request &req, httplib::Response &res) {
    if (impl_->authorized(req, res)) res.set_content(state_json().dump(), "application/json");
  });
  d.server.Get("/metrics", [this](const httplib::Request &req, httplib::Response &res) {
    if (impl_->authorized(req, res)) {
      res.set_content(metrics_text(), "text/plain; version=0.0.4");
    }
  });
  const std::string host = d.listen.host;
  if (d.listen.port == 0) {
    d.bound_port = d.server.bind_to_any_port(host);
  } else {
    d.bound_port = d.server.bind_to_port(host, d.listen.port) ? d.listen.port : -1;
  }
  if (d.bound_port <= 0) {
    return make_error("cannot listen on " + d.opts.config.listen +
                      " (in use, or not an address of this machine)");
  }
  d.allowed_hosts = daemon::allowed_hosts(d.listen, d.bound_port);
  d.server_thread = std::thread([&d] { d.server.listen_after_bind(); });
  d.monitor_thread = std::thread([&d] { d.monitor(); });
  if (!d.opts.config.image_generation.endpoints.empty()) {
    d.render_thread = std::thread([&d] { d.render_watch(); });
  }
  return Ok{};
}

int Gateway::port() const { return impl_->bound_port; }

const std::vector<BudgetDevice> &Gateway::devices() const { return impl_->devices; }

void Gateway::stop() {
  Impl &d = *impl_;
  if (d.stopping.exchange(true)) return;
  d.cv.notify_all();
  d.server.stop();
  if (d.server_thread.joinable()) d.server_thread.join();
  if (d.monitor_thread.joinable()) d.monitor_thread.join();
  if (d.render_thread.joinable()) d.render_thread.join();
  std::unique_lock lock(d.mu);
  for (auto &m : d.models) {
    if (m->proc) {
      BackendProcess p = std::move(*m->proc);
      m->proc.reset();
      lock.unlock();
      p.stop(d.opts.stop_grace);
      lock.lock();
      m->state = State::kStopped;
    }
  }
  d.save_request_log(lock, true);
  lock.unlock();
}

namespace {

// A command as /serve/state shows it: the value of a flag that carries a
// secret (llama-server's --api-key, a Hugging Face token) is not repeated.
std::vector<std::string> redact_secrets(const std::vector<std::string> &argv) {
  static const char *const kSecretFlags[] = {"--api-key", "--hf-token", "-hft"};
  std::vector<std::string> out = argv;
  for (size_t i = 0; i < out.size(); ++i) {
    for (const char *flag : kSecretFlags) {
      const std::string f(flag);
      if (out[i] == f && i + 1 < out.size()) {
        out[++i] = "<redacted>";
        break;
      }
      if (out[i].rfind(f + "=", 0) == 0) {
        out[i] = f + "=<redacted>";
        break;
      }
    }
  }
  return out;
}

}  // namespace

json Gateway::state_json() const {
  const Impl &d = *impl_;
  std::lock_guard lock(d.mu);
  json devs = json::array();
  std::vector<uint64_t> held(d.devices.size(), 0);
  for (const auto &m : d.models) {
    if (m->state == State::kLoading || m->state == State::kReady || m->state == State::kEvicting) {
      for (size_t i = 0; i < held.size() && i < m->plan.need_bytes.size(); ++i) {
        held[i] += m->plan.need_bytes[i];
      }
    }
  }
  for (size_t i = 0; i < d.devices.size(); ++i) {
    devs.push_back({{"device", d.devices[i].label},
                    {"budget_bytes", d.devices[i].budget_bytes},
                    {"planned_bytes", held[i]},
                    {"gpu", d.device_gpus[i] >= 0 ? json(d.device_gpus[i]) : json(nullptr)}});
  }
  json models = json::array();
  for (const auto &m : d.models) {
    // How long the request at the head of the queue has waited (0: none waits).
    double oldest_wait = 0;
    for (const auto &entry : m->queued_at) {
      oldest_wait = std::max(oldest_wait, seconds_since(entry.second));
    }
    json j = {{"name", m->cfg.name},
              {"state", state_name(m->state, m->in_flight)},
              {"in_flight", m->in_flight},
              {"queued", m->queue.size()},
              {"oldest_wait_seconds", oldest_wait},
              {"mean_wait_seconds", m->queue_wait_count
                                        ? json(m->queue_wait_sum / static_cast<double>(m->queue_wait_count))
                                        : json(nullptr)},
              {"waits", m->queue_wait_count},
              {"planned_bytes", m->plan.need_bytes},
              {"plan", m->plan.summary},
              {"pinned", m->cfg.pinned},
              {"priority", m->cfg.priority},
              {"ttl_seconds", m->cfg.ttl_seconds},
              {"loads", m->loads},
              {"evictions", m->evictions},
              {"crashes", m->crashes},
              {"preloads", m->preloads},
              {"preload_hits", m->preload_hits},
              {"preload_misses", m->preload_misses},
              {"last_error", m->last_error}};
    if (m->cfg.started_by_gateway()) {
      j["log"] = m->log_path;
      j["command"] = redact_secrets(m->cfg.command);  // as started (${PORT} still in it)
      j["profile_settings"] = m->settings_profile.empty() ? json(nullptr) : json(m->settings_profile);
      if (m->proc) {
        j["pid"] = m->proc->pid();
        j["port"] = m->port;
        if (auto rss = process_rss_bytes(d.opts.proc_root, m->proc->pid())) j["rss_bytes"] = *rss;
      }
    } else {
      j["runtime"] = m->cfg.runtime;
      j["endpoint"] = m->cfg.endpoint;
    }
    models.push_back(j);
  }
  return {{"schema", "ruvector-memopt.serve-state/1"},
          {"listen", d.opts.config.listen},
          {"port", d.bound_port},
          {"devices", devs},
          {"models", models},
          {"preload", d.preload_json()},
          {"handoff", d.handoff_json()},
          {"events", d.events}};
}

std::string Gateway::metrics_text() const {
  const Impl &d = *impl_;
  std::lock_guard lock(d.mu);
  std::string out;
  auto family = [&](const char *name, const char *type, const char *help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  family("ruvector_serve_requests_total", "counter", "Requests by model and outcome.");
  for (const auto &m : d.models) {
    for (const auto &[outcome, n] : m->requests) {
      out += fmt::format("ruvector_serve_requests_total{{model=\"{}\",outcome=\"{}\"}} {}\n",
                         m->cfg.name, outcome, n);
    }
  }
  family("ruvector_serve_queue_wait_seconds", "summary", "Time requests waited for their model.");
  for (const auto &m : d.models) {
    out += fmt::format("ruvector_serve_queue_wait_seconds_sum{{model=\"{}\"}} {:.6f}\n",
                       m->cfg.name, m->queue_wait_sum);
    out += fmt::format("ruvector_serve_queue_wait_seconds_count{{model=\"{}\"}} {}\n", m->cfg.name,
                       m->queue_wait_count);
  }
  family("ruvector_serve_load_seconds", "summary", "Backend start until it answered /health.");
  for (const auto &m : d.models) {
    out += fmt::format("ruvector_serve_load_seconds_sum{{model=\"{}\"}} {:.6f}\n", m->cfg.name,
                       m->load_seconds_sum);
    out += fmt::format("ruvector_serve_load_seconds_count{{model=\"{}\"}} {}\n", m->cfg.name,
                       m->loads);
  }
  family("ruvector_serve_evictions_total", "counter", "Backends stopped to free memory or idle.");
  for (const auto &m : d.models) {
    out += fmt::format("ruvector_serve_evictions_total{{model=\"{}\"}} {}\n", m->cfg.name,
                       m->evictions);
  }
  family("ruvector_serve_swaps_total", "counter", "Loads that evicted other models first.");
  for (const auto &m : d.models) {
    out += fmt::format("ruvector_serve_swaps_total{{model=\"{}\"}} {}\n", m->cfg.name, m->swaps);
  }
  family("ruvector_serve_crashes_total", "counter", "Backends that exited on their own.");
  for (const auto &m : d.models) {
    out +=
        fmt::format("ruvector_serve_crashes_total{{model=\"{}\"}} {}\n", m->cfg.name, m->crashes);
  }
  family("ruvector_serve_queue_length", "gauge", "Requests waiting for their model.");
  for (const auto &m : d.models) {
    out += fmt::format("ruvector_serve_queue_length{{model=\"{}\"}} {}\n", m->cfg.name,
                       m->queue.size());
  }
  family("ruvector_serve_model_state", "gauge", "1 for the state each model is in.");
  for (const auto &m : d.models) {
    out += fmt::format("ruvector_serve_model_state{{model=\"{}\",state=\"{}\"}} 1\n", m->cfg.name,
                       state_name(m->state, m->in_flight));
  }
  family("ruvector_serve_planned_bytes", "gauge", "Planned footprint of each model per device.");
  for (const auto &m : d.models) {
    for (size_t i = 0; i < m->plan.need_bytes.size() && i < d.devices.size(); ++i) {
      out += fmt::format("ruvector_serve_planned_bytes{{model=\"{}\",device=\"{}\"}} {}\n",
                         m->cfg.name, d.devices[i].label, m->plan.need_bytes[i]);
    }
  }
  family("ruvector_serve_budget_bytes", "gauge", "Memory budget per device.");
  for (const auto &dev : d.devices) {
    out += fmt::format("ruvector_serve_budget_bytes{{device=\"{}\"}} {}\n", dev.label,
                       dev.budget_bytes);
  }
  d.preload_metrics(out);
  d.handoff_metrics(out);
  return out;
}

}  // namespace memopt::serve

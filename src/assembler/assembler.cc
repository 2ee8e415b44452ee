#include "assembler/assembler.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <future>
#include <set>

#include "detect/detector.h"
#include "detect/signatures.h"
#include "detect/warnings.h"
#include "estimate/memory_estimate.h"
#include "gguf/model_info.h"
#include "gpu/collect.h"
#include "proc/host_memory.h"
#include "proc/process_scanner.h"
#include "runtimes/ollama.h"

namespace memopt::assembler {
namespace {

using snapshot::CollectorError;
using snapshot::Snapshot;

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the assembler remembers about a loaded model between readings.
struct ModelTrack {
  std::string expires_at;
  double last_active = 0;
  uint64_t kv_peak = 0;
  bool layers_asked = false;
  uint32_t n_layers = 0;
  int readings = 0;
};

struct FixedEndpoint {
  const runtimes::RuntimeDescriptor* runtime;
  runtimes::BaseUrl base;
  // Named by the user (AssembleOptions::endpoints): a failure to read it is
  // reported. A runtime's host variable only says where it would be.
  bool named = false;
  // The key the user's environment holds for its runtime (LLAMA_API_KEY,
  // VLLM_API_KEY: detect::inherited_api_key), read once; "" none.
  std::string key;
};

// Default context when the command line names none: 4096 tokens is
// llama.cpp's common default (-c) and Ollama's default num_ctx since v0.6.
constexpr uint64_t kDefaultContext = 4096;

}  // namespace

void join_gateway(std::vector<snapshot::Workload>& workloads, const snapshot::GatewayStatus& g) {
  for (auto& w : workloads) {
    w.gateway_model.clear();
    for (int pid : w.pids.empty() ? std::vector<int>{w.pid} : w.pids) {
      if (const snapshot::GatewayModel* m = g.find_pid(pid)) {
        w.gateway_model = m->name;
        break;
      }
    }
  }
}

runtimes::HttpOptions AssembleOptions::fast_http() {
  runtimes::HttpOptions http;
  http.connect_timeout = std::chrono::milliseconds(200);
  http.read_timeout = std::chrono::milliseconds(400);
  http.total_timeout = std::chrono::milliseconds(600);
  return http;
}

double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::optional<snapshot::WorkloadEstimate> estimate_workload(const gguf::ModelInfo& info,
                                                            uint64_t ctx, uint64_t parallel,
                                                            bool on_gpu) {
  estimate::RunSettings rs;
  rs.ctx_per_seq = ctx ? ctx : kDefaultContext;
  rs.parallel = static_cast<uint32_t>(std::clamp<uint64_t>(parallel, 1, 256));
  estimate::Placement pl;
  if (on_gpu) {
    pl.n_gpus = 1;
    pl.n_gpu_layers = info.block_count + 1;  // every layer and the output
  }
  auto e = estimate::estimate_memory_requirements(info, rs, pl);
  if (!e) return std::nullopt;
  snapshot::WorkloadEstimate w;
  w.context_tokens = rs.ctx_per_seq;
  for (const auto& d : e->devices) w.weights_bytes += d.weights_bytes;
  w.kv_cache_bytes = e->kv_total_bytes();
  w.total_bytes = e->total_bytes();
  return w;
}

struct SnapshotAssembler::State {
  AssembleOptions o;
  AssemblerSources src;
  gpu::GpuCollector gpus;
  std::vector<FixedEndpoint> fixed;
  std::vector<std::string> fixed_problems;
  bool have_scan = false;
  double last_scan = 0;
  detect::Detection detection;
  std::map<std::string, ModelTrack> tracks;
  std::map<std::string, gguf::ModelInfo> infos;  // this scan's model files, by path

  explicit State(AssembleOptions opts, AssemblerSources s)
      : o(std::move(opts)),
        src(std::move(s)),
        gpus(gpu::GpuRoots{o.proc_root, o.sys_root, o.nvml_library}) {
    for (const runtimes::RuntimeDescriptor* d : runtimes::all_runtimes()) {
      if (!d->has_client() || d->host_env.empty()) continue;
      auto env = o.host_env.find(std::string(d->host_env));
      if (env == o.host_env.end()) continue;
      auto base = runtimes::parse_endpoint(*d, env->second);
      if (base)
        fixed.push_back({d, *base, false, detect::inherited_api_key({}, d)});
      else
        fixed_problems.push_back(std::string(d->host_env) + ": " + base.error().message);
    }
    for (const auto& e : o.endpoints) {
      const auto eq = e.find('=');
      const runtimes::RuntimeDescriptor* d =
          eq == std::string::npos ? nullptr : runtimes::find_runtime(e.substr(0, eq));
      if (d == nullptr || !d->has_client()) {
        fixed_problems.push_back("endpoint '" + e +
                                 "': want RUNTIME=URL with a runtime that has an API");
        continue;
      }
      auto base = runtimes::parse_endpoint(*d, e.substr(eq + 1));
      if (base)
        fixed.push_back({d, *base, true, detect::inherited_api_key({}, d)});
      else
        fixed_problems.push_back("endpoint '" + e + "': " + base.error().message);
    }
  }

  static void run(Snapshot& s, const char* name, const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      s.errors.push_back({name, e.what()});
    } catch (...) {
      s.errors.push_back({name, "unknown failure"});
    }
  }

  void read_gpus(Snapshot& s) {
    gpu::GpuSnapshot g = src.gpus ? src.gpus() : gpus.sample();
    std::set<std::string> backends;
    for (const auto& d : g.gpus) backends.insert(d.backend);
    for (const auto& b : backends) s.gpu_backend += (s.gpu_backend.empty() ? "" : "+") + b;
    if (s.gpu_backend.empty()) s.gpu_backend = "none";
    for (const auto& n : g.notes) {
      // Without GPUs every note says why; with some, only the warnings matter.
      if (g.gpus.empty() || n.warning) s.gpu_error += (s.gpu_error.empty() ? "" : "; ") + n.message;
    }
    if (g.gpus.empty() && s.gpu_error.empty()) s.gpu_error = "no GPU found";
    s.gpus = std::move(g.gpus);
  }

  std::vector<detect::ProcessGpuMemory> gpu_processes(const Snapshot& s) const {
    std::vector<detect::ProcessGpuMemory> out;
    for (const auto& g : s.gpus) {
      for (const auto& [pid, bytes] : gpu::process_memory(g)) {
        out.push_back({static_cast<int>(pid), g.index, bytes});
      }
    }
    return out;
  }

  Status scan(const Snapshot& s, double now) {
    if (have_scan && o.detect_interval_seconds > 0 && now - last_scan < o.detect_interval_seconds) {
      return Ok{};
    }
    detect::DetectorOptions d;
    d.proc_root = o.proc_root;
    d.full_scan = o.full_scan;
    d.probe_ports = o.probe_ports;
    infos.clear();
    if (o.read_models) {
      // Kept for this scan: the runtimes' answers may change the context the
      // estimate is made at (reconcile_estimates).
      d.read_model = [this](const std::string& path) -> Result<gguf::ModelInfo> {
        auto info = src.read_model ? src.read_model(path) : gguf::get_model_info(path);
        if (info && infos.size() < 64) infos[path] = *info;
        return info;
      };
      d.estimate_model = src.estimate_model ? src.estimate_model : estimate_workload;
    }
    auto det = detect::AIWorkloadDetector(std::move(d)).detect(gpu_processes(s));
    if (!det) return det.error();
    detection = std::move(*det);
    have_scan = true;
    last_scan = now;
    return Ok{};
  }

  // `key`: the bearer token the runtime asks for ("" none).
  Result<std::vector<runtimes::LoadedModel>> ask(const runtimes::RuntimeDescriptor& d,
                                                 const runtimes::BaseUrl& base,
                                                 const std::string& key) const {
    if (src.loaded_models) return src.loaded_models(d, base);
    runtimes::HttpOptions http = o.http;
    http.bearer_token = key;
    auto client = d.make_client(base, http);
    return client->loaded_models();
  }

  uint32_t layers_of(const runtimes::BaseUrl& base, const std::string& model) const {
    if (src.ollama_layers) return src.ollama_layers(base, model);
    runtimes::OllamaClient client(base, o.http);
    auto details = client.show(model);
    // llama.cpp offloads block_count repeating layers plus the output layer.
    if (details && details->block_count) return static_cast<uint32_t>(*details->block_count + 1);
    return 0;
  }

  // Asks every runtime endpoint for its models: the fixed ones, then each AI
  // workload's (once per endpoint). Names the workloads by their runtime's
  // models (Ollama's blobs have no readable name).
  // Asks every runtime endpoint for its models: each AI workload's (once per
  // endpoint), then the fixed ones. The endpoints are asked at the same time,
  // so a runtime that hangs costs one timeout per reading, not one each in
  // turn; the answers are then taken in order. Names the workloads by their
  // runtime's models (Ollama's blobs have no readable name).
  void read_models(Snapshot& s, double now) {
    struct Query {
      const runtimes::RuntimeDescriptor* d;
      runtimes::BaseUrl base;
      bool report;  // a failure is one of the reading's errors
      snapshot::Workload* owner;
      std::future<Result<std::vector<runtimes::LoadedModel>>> answer;
      std::string key;  // its bearer token ("" none)
    };
    // A machine runs a handful of runtimes; a hostile process table must
    // not make this start hundreds of threads.
    constexpr size_t kMaxQueries = 32;
    std::vector<Query> queries;
    std::set<std::string> asked;
    auto add = [&](const runtimes::RuntimeDescriptor& d, const runtimes::BaseUrl& base,
                   bool report, snapshot::Workload* owner, std::string key) {
      if (queries.size() >= kMaxQueries || !asked.insert(base.str()).second) return;
      queries.push_back({&d, base, report, owner, {}, std::move(key)});
    };
    for (auto& w : s.workloads) {
      if (!w.is_ai() || w.endpoint.empty()) continue;
      const runtimes::RuntimeDescriptor* d = runtimes::api_runtime(w.runtime, w.flavor);
      if (d == nullptr) continue;
      auto base = runtimes::parse_base_url(w.endpoint, d->api_port());
      // A server started with --api-key answers nothing without it: its
      // key goes to it (detect::sendable_key: where this reader may).
      if (base) add(*d, *base, true, &w, detect::sendable_key(w));
    }
    for (const FixedEndpoint& f : fixed) add(*f.runtime, f.base, f.named, nullptr, f.key);
    for (Query& q : queries) {
      q.answer =
          std::async(std::launch::async,
                     [this, d = q.d, base = q.base, key = q.key] { return ask(*d, base, key); });
    }
    std::set<std::string> present;
    for (Query& q : queries) {
      auto models = q.answer.get();
      if (!models) {
        // A host variable's address answering nothing means that runtime is
        // not running; a runtime the detector saw listening, or one the user
        // named, failing (down, refusing its key) is news.
        if (q.report) s.errors.push_back({"runtimes", models.error().message});
        continue;
      }
      std::string names;
      for (auto& m : *models) {
        if (m.state != "loaded" && m.state != "loading" && m.state != "sleeping") continue;
        if (m.endpoint.empty()) m.endpoint = q.base.str();
        track(m, *q.d, q.base, now);
        present.insert(std::string(runtimes::runtime_name(m.runtime)) + "/" + m.name);
        names += (names.empty() ? "" : ", ") + m.name;
        s.loaded_models.push_back(std::move(m));
      }
      snapshot::Workload* owner = q.owner;
      if (owner != nullptr && !names.empty() &&
          (owner->model.empty() || owner->model.starts_with("sha256-") ||
           owner->runtime == "ollama")) {
        owner->model = names;
      }
    }
    for (auto it = tracks.begin(); it != tracks.end();) {
      it = present.count(it->first) ? std::next(it) : tracks.erase(it);
    }
  }

  // Where a runtime reports the context it holds, the workload's estimate is
  // made at that context and parallel (the runtime's figure beats the command
  // line's), and a model whose runtime gives KV tokens but not bytes gets the
  // estimator's bytes, labelled estimated. Every view then shows the same KV.
  void reconcile_estimates(Snapshot& s) {
    const auto estimate = src.estimate_model ? src.estimate_model : estimate_workload;
    for (auto& w : s.workloads) {
      if (!w.is_ai() || w.endpoint.empty() || w.models.empty()) continue;
      auto info = infos.find(w.models.front().path);
      if (info == infos.end() || info->second.is_projector) continue;
      for (auto& m : s.loaded_models) {
        if (m.endpoint != w.endpoint || !m.context_tokens || *m.context_tokens == 0) continue;
        const uint64_t parallel = std::max<uint64_t>(m.parallel.value_or(1), 1);
        auto est = estimate(info->second, *m.context_tokens, parallel, w.vram_bytes > 0);
        if (!est) continue;
        w.estimate = est;
        if (!m.kv.capacity_bytes.known() && est->kv_cache_bytes > 0) {
          m.kv.capacity_bytes = runtimes::Figure<uint64_t>::estimated(est->kv_cache_bytes);
          m.kv.complete(est->kv_cache_bytes / (*m.context_tokens * parallel));
          if (!m.kv.basis.empty()) m.kv.basis += "; ";
          m.kv.basis += "bytes: the estimator at the runtime's context and parallel";
        }
        break;
      }
    }
  }

  void track(runtimes::LoadedModel& m, const runtimes::RuntimeDescriptor& d,
             const runtimes::BaseUrl& base, double now) {
    const std::string key = std::string(runtimes::runtime_name(m.runtime)) + "/" + m.name;
    auto [it, fresh] = tracks.try_emplace(key);
    ModelTrack& t = it->second;
    const bool busy = m.requests_running.value_or(0) > 0;
    // Ollama moves expires_at forward on every request: a change is use.
    if (fresh || busy || (!m.expires_at.empty() && m.expires_at != t.expires_at))
      t.last_active = now;
    t.expires_at = m.expires_at;
    ++t.readings;
    if (!t.layers_asked && d.kind == runtimes::RuntimeKind::kOllama) {
      t.layers_asked = true;
      t.n_layers = layers_of(base, m.name);
    }
    if (m.n_layers == 0) m.n_layers = t.n_layers;
    // Idle time is known from the second reading on (or at once when busy).
    if (t.readings > 1 || busy) m.idle_seconds = now - t.last_active;
    t.kv_peak = std::max(t.kv_peak, m.kv.used_bytes.value.value_or(0));
    m.kv_peak_bytes = t.kv_peak;
  }
};

SnapshotAssembler::SnapshotAssembler(AssembleOptions options, AssemblerSources sources)
    : st_(std::make_unique<State>(std::move(options), std::move(sources))) {}

SnapshotAssembler::~SnapshotAssembler() = default;

Result<Snapshot> SnapshotAssembler::assemble(double now) {
  State& st = *st_;
  Snapshot s;
  s.taken_at_unix_ms = static_cast<uint64_t>(unix_ms_now());
  // The gateway answers over loopback while the other collectors read.
  std::future<snapshot::GatewayStatus> gateway;
  if (st.o.gateway) {
    gateway = std::async(std::launch::async, [&st] {
      return st.src.gateway_state ? st.src.gateway_state(*st.o.gateway)
                                  : collect_gateway(*st.o.gateway, st.o.http);
    });
  }
  for (const auto& p : st.fixed_problems) s.errors.push_back({"runtimes", p});
  State::run(s, "gpu", [&] { st.read_gpus(s); });
  std::optional<Error> host_error, scan_error;
  State::run(s, "host", [&] {
    auto h = proc::read_host_memory(st.o.proc_root, st.o.sys_root);
    if (!h) {
      host_error = h.error();
      throw std::runtime_error(h.error().message);
    }
    s.host = std::move(*h);
  });
  State::run(s, "detect", [&] {
    if (auto r = st.scan(s, now); !r) {
      scan_error = r.error();
      throw std::runtime_error(r.error().message);
    }
  });
  if (gateway.valid()) {
    State::run(s, "gateway", [&] { s.gateway = gateway.get(); });
  }
  if (st.o.strict && host_error) return *host_error;
  if (st.o.strict && scan_error) return *scan_error;
  s.workloads = st.detection.workloads;
  s.scan = st.detection.scan;
  s.scan.as_root = ::geteuid() == 0;
  if (st.have_scan && st.o.detect_interval_seconds > 0) {
    // Between scans, VRAM per workload is this reading's, not the scan's.
    auto procs = st.gpu_processes(s);
    detect::refresh_vram(s.workloads, procs);
  }
  if (st.o.query_runtimes) {
    State::run(s, "runtimes", [&] {
      st.read_models(s, now);
      if (st.o.read_models) st.reconcile_estimates(s);
    });
  }
  if (s.gateway) join_gateway(s.workloads, *s.gateway);
  std::set<std::string> seen;
  for (const auto& w : s.workloads) seen.insert(w.runtime);
  const bool on_linux = proc::this_platform() == proc::Platform::kLinux;
  for (const runtimes::RuntimeDescriptor* d : runtimes::all_runtimes()) {
    if (on_linux && !d->linux_note.empty() && !seen.count(std::string(d->id()))) {
      s.unsupported.push_back(std::string(d->name) + ": " + std::string(d->linux_note));
    }
  }
  s.warnings = detect::make_warnings(s);
  return s;
}

}  // namespace memopt::assembler

#include "policy/simulator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <sstream>

#include "util/bytes.h"

namespace memopt::policy::sim {
namespace {

// Portable draws: the raw mt19937 sequence is fixed by the standard, the
// std distributions are not.
class Draw {
 public:
  explicit Draw(uint32_t seed, PlannerError e = PlannerError::kMeasured,
                double spread = kRunSpread)
      : planner_error(e), run_spread(spread), rng_(seed) {}
  const PlannerError planner_error;
  const double run_spread;  // simulator.h: kRunSpread
  // One run's scale against the program's nominal curve.
  double run_scale() { return real(1 - run_spread, 1 + run_spread); }
  double real(double lo, double hi) { return lo + (hi - lo) * (rng_() / 4294967296.0); }
  bool chance(double p) { return real(0, 1) < p; }
  int pick(int n) { return std::min(n - 1, static_cast<int>(real(0, n))); }
  uint64_t gib(double lo, double hi) {
    return static_cast<uint64_t>(real(lo, hi) * static_cast<double>(kGiB));
  }

 private:
  std::mt19937 rng_;
};

constexpr const char* kOllamaEndpoint = "http://127.0.0.1:11434";
constexpr const char* kLlamaServerEndpoint = "http://127.0.0.1:8080";
constexpr double kStep = 0.05;  // a step in a curve: two points one world step apart
const uint64_t kGpuSizesGiB[] = {8, 12, 16, 24, 48};

using Curve = std::vector<std::pair<double, uint64_t>>;

uint64_t scale(uint64_t b, double f) {
  return static_cast<uint64_t>(static_cast<double>(b) * std::max(f, 0.0));
}

uint64_t curve_at(const Curve& c, double t) {
  if (c.empty()) return 0;
  if (t <= c.front().first) return t < c.front().first ? 0 : c.front().second;
  for (size_t i = 1; i < c.size(); ++i) {
    if (t < c[i].first) {
      const auto& [t0, b0] = c[i - 1];
      const auto& [t1, b1] = c[i];
      const double f = (t - t0) / std::max(t1 - t0, 1e-9);
      return static_cast<uint64_t>(static_cast<double>(b0) +
                                   f * (static_cast<double>(b1) - static_cast<double>(b0)));
    }
  }
  return c.back().second;
}

void step_to(Curve& c, double t, uint64_t bytes) {
  c.push_back({t, c.empty() ? 0 : c.back().second});
  c.push_back({t + kStep, bytes});
}

// llama.cpp's load (and Ollama's runner, which is llama.cpp): the weights
// stream in from disk, then the whole context's KV is allocated at once,
// then the compute buffer (src/estimate: the same three parts). `kv_end`,
// when given, gets the bytes in use once the KV cache is in (weights + KV).
Curve step_load(Draw& d, uint64_t total, uint64_t* kv_end = nullptr) {
  const double w_share = d.real(0.75, 0.9);
  const uint64_t weights = scale(total, w_share);
  const uint64_t kv = scale(total - weights, d.real(0.55, 0.85));
  if (kv_end) *kv_end = weights + kv;
  const double read_seconds = static_cast<double>(weights) / (d.real(0.8, 3.0) * 1e9);
  Curve c = {{0, 0}, {std::max(read_seconds, 0.2), weights}};
  const double t = c.back().first + d.real(0.1, 0.6);
  step_to(c, t, weights + kv);
  step_to(c, t + d.real(0.2, 1.0), total);
  return c;
}

// The planner's estimate of a llama.cpp load of `total` bytes whose weights
// and KV cache come to `kv_end` (one draw either way, so the traces are the
// same under both models). kMeasured: what docs/estimate-accuracy.md
// measured against llama.cpp's own allocation (weights and KV to the byte,
// the compute buffer +0..+10 %); kTotal6: the whole figure up to 6 % over
// (a backend whose buffers were not checked, e.g. CUDA's).
uint64_t planner_estimate(Draw& d, uint64_t total, uint64_t kv_end) {
  if (d.planner_error == PlannerError::kTotal6) return scale(total, d.real(1.0, 1.06));
  return kv_end + scale(total - kv_end, d.real(1.0, 1.10));
}

// PyTorch's caching allocator: reserved memory climbs in segments (a step
// each time a batch needs more), and may fall back on empty_cache() between
// phases (evaluation, a new epoch) before climbing again.
Curve staircase(Draw& d, uint64_t peak) {
  Curve c = {{0, 0}};
  double t = d.real(0.5, 2.0);  // CUDA context and imports first
  const bool frees = d.chance(0.4);
  uint64_t level = 0;
  bool freed = false;
  while (level < peak) {
    level = std::min(peak, level + d.gib(0.2, 1.5));
    step_to(c, t, level);
    t += d.real(0.3, 2.5);
    if (frees && !freed && level > peak / 2) {
      freed = true;
      level = scale(level, d.real(0.5, 0.7));
      step_to(c, t, level);
      t += d.real(1, 4);
    }
  }
  return c;
}

// A ComfyUI workflow: each node loads its model (checkpoint, then an
// upscaler), sampling needs activations, the VAE decode a spike that is
// freed after; models stay cached.
Curve comfy_workflow(Draw& d, uint64_t peak) {
  const double ckpt = d.real(0.45, 0.6), act = d.real(0.1, 0.2), vae = d.real(0.15, 0.25);
  const double up = 1 - ckpt - act - vae;
  Curve c = {{0, 0}};
  double t = d.real(0.5, 1.5);
  c.push_back({t + d.real(1, 3), scale(peak, ckpt)});
  t = c.back().first + d.real(0.2, 1);
  step_to(c, t, scale(peak, ckpt + act));
  t += d.real(3, 12);  // sampling steps
  step_to(c, t, scale(peak, ckpt + act + vae));
  t += d.real(0.5, 2);
  step_to(c, t, scale(peak, ckpt));  // activations and decode freed
  t += d.real(0.2, 1);
  step_to(c, t, scale(peak, ckpt + up));  // the upscaler node loads its model
  step_to(c, t + d.real(1, 3), peak);
  return c;
}

// A game: loading screens stream textures in a few steps, a later level
// loads more.
Curve game_load(Draw& d, uint64_t peak) {
  Curve c = {{0, 0}};
  double t = d.real(1, 3);
  const int steps = 3 + d.pick(4);
  const uint64_t first = scale(peak, d.real(0.6, 0.85));
  for (int i = 1; i <= steps; ++i) {
    step_to(c, t, first / static_cast<uint64_t>(steps) * static_cast<uint64_t>(i));
    t += d.real(1, 5);
  }
  step_to(c, t + d.real(10, 30), peak);
  return c;
}

Curve jitter(const Curve& c, double f) {
  Curve out = c;
  for (auto& p : out) p.second = scale(p.second, f);
  return out;
}

SimProcess ollama_model(const std::string& name, uint64_t bytes, bool busy, Draw& d) {
  SimProcess p;
  p.name = name;
  p.runtime = "ollama";
  p.command = "ollama";
  p.model_file = "sha256-" + name;
  p.api_model = true;
  p.endpoint = kOllamaEndpoint;
  p.n_layers = 29 + static_cast<uint32_t>(d.pick(52));
  p.curve = {{0, bytes}};
  p.busy = busy;
  p.request_every = d.real(3, 20);
  p.idle_at_start = busy ? 0 : d.real(40, 900);
  p.actionable = true;
  p.planner_bytes = scale(bytes, d.real(1.0, 1.06));
  return p;
}

struct Setup {
  Trace t;
  uint64_t free_bytes = 0;  // what is left for the newcomer
};

// The GPU, its base, and the models already loaded: none, one or two idle
// ones someone left, and often a model in use (Ollama: reloadable with
// fewer layers). What can be freed varies; sometimes nothing can.
Setup residents(Draw& d, const std::string& kind) {
  Setup s;
  s.t.kind = kind;
  s.t.gpu_total_bytes = kGpuSizesGiB[d.pick(5)] * kGiB;
  const double total = static_cast<double>(s.t.gpu_total_bytes);
  s.t.base_bytes = static_cast<uint64_t>(total * d.real(0.03, 0.08));
  const double r = d.real(0, 1);
  const int idle = r < 0.15 ? 0 : r < 0.7 ? 1 : 2;
  double used = static_cast<double>(s.t.base_bytes);
  int64_t pid = 4100;
  for (int i = 0; i < idle; ++i) {
    auto m = ollama_model("idle" + std::to_string(i),
                          static_cast<uint64_t>(total * d.real(0.1, 0.22)), false, d);
    m.pid = pid++;
    used += static_cast<double>(m.curve.back().second);
    s.t.procs.push_back(m);
  }
  if (d.chance(0.6)) {
    auto m = ollama_model("chat", static_cast<uint64_t>(total * d.real(0.12, 0.25)), true, d);
    m.pid = pid++;
    used += static_cast<double>(m.curve.back().second);
    s.t.procs.push_back(m);
  }
  s.free_bytes = static_cast<uint64_t>(std::max(total - used, total * 0.1));
  return s;
}

// Samples a run the way the daemon would (1 Hz, the process's VRAM) and
// learns it, for a program `runs` earlier runs of which are in the history.
void learn_runs(Trace& t, const SimProcess& p, const Curve& nominal, int runs, Draw& d,
                const WorkloadSignature& sig) {
  for (int r = 0; r < runs; ++r) {
    const Curve c = jitter(nominal, d.run_scale());
    WorkloadRun run;
    run.signature = sig;
    run.gpu = 0;
    const double end = c.back().first + 5;
    for (double x = d.real(0, 1); x <= end; x += 1) run.samples.push_back({x, curve_at(c, x)});
    learn(t.profiles, run);
  }
  (void)p;
}

snapshot::Workload workload_of(const SimProcess& p, uint64_t vram);

// A program whose signature may be in the history: it is known when the
// daemon learned it before (and the signature names one program).
void maybe_known(Trace& t, SimProcess& p, const Curve& nominal, Draw& d, double known_share) {
  const WorkloadSignature sig = signature_of(workload_of(p, 0));
  if (sig.specific() && d.chance(known_share)) {
    WorkloadSignature earlier = sig;
    // Seen with other arguments or in another container: nearest neighbour.
    if (d.chance(0.2)) earlier.container = "c0ffee";
    learn_runs(t, p, nominal, 1 + d.pick(8), d, earlier);
    t.known_by = "profile";
  }
}

Trace ollama_load(Draw& d) {
  Setup s = residents(d, "ollama_load");
  Trace& t = s.t;
  auto p = ollama_model("new", 0, true, d);
  p.pid = 4200;
  p.start_at = d.real(8, 25);
  const uint64_t total = scale(s.free_bytes, d.real(0.5, 1.4));
  uint64_t kv_end = 0;
  p.curve = step_load(d, total, &kv_end);
  p.listed_after = d.real(0.3, 1.5);
  p.planner_bytes = planner_estimate(d, total, kv_end);
  p.gateway = d.chance(0.3);
  t.known_by = p.gateway ? "gateway" : "planner";
  t.observes =
      "Ollama lists the runner as loading 0.3-1.5 s after it starts (/api/ps), the planner's "
      "estimate of its file; the gateway's admission for 30 % of loads; per-process VRAM; no busy "
      "flag (Ollama has none)";
  t.procs.push_back(p);
  return t;
}

Trace llama_server_start(Draw& d) {
  Setup s = residents(d, "llama_server_start");
  Trace& t = s.t;
  SimProcess p;
  p.name = "model.gguf";
  p.runtime = "llama.cpp";
  p.command = "llama-server";
  p.model_file = "/models/m" + std::to_string(d.pick(1000)) + ".gguf";
  p.ctx = 4096u << d.pick(4);
  p.parallel = 1u << d.pick(3);
  p.pid = 4300;
  p.start_at = d.real(8, 25);
  const uint64_t total = scale(s.free_bytes, d.real(0.5, 1.4));
  uint64_t kv_end = 0;
  p.curve = step_load(d, total, &kv_end);
  p.api_model = true;
  p.endpoint = kLlamaServerEndpoint;
  p.n_layers = 33;
  p.listed_after = p.curve.back().first;  // /health answers 503 until loaded
  p.busy = true;
  p.planner_bytes = planner_estimate(d, total, kv_end);
  p.estimate_in_workload = true;
  t.known_by = "planner";
  t.observes =
      "the llama-server process from its start (command line: model file, -c, -np; VRAM per "
      "process), the assembler's estimate of it; its API only once loaded, then busy flags "
      "(/slots is_processing)";
  t.procs.push_back(p);
  return t;
}

Trace pytorch_staircase(Draw& d) {
  Setup s = residents(d, "pytorch_staircase");
  Trace& t = s.t;
  SimProcess p;
  p.name = "pytorch";
  p.runtime = "pytorch";
  p.command = "python3";
  // An inference script opens its weights (the detector sees the file); a
  // training script from scratch opens none and is just "python3".
  if (d.chance(0.6)) p.model_file = "/data/model" + std::to_string(d.pick(50)) + ".safetensors";
  p.pid = 4400;
  p.start_at = d.real(5, 20);
  const Curve nominal = staircase(d, scale(s.free_bytes, d.real(0.5, 1.4)));
  p.curve = jitter(nominal, d.run_scale());
  t.known_by = "none";
  maybe_known(t, p, nominal, d, 0.7);
  t.observes =
      "GPU used, the process's VRAM and command line, its open model file if any; no runtime "
      "API; a learned profile when the same script and model ran before";
  t.procs.push_back(p);
  return t;
}

Trace comfyui_workflow(Draw& d) {
  Setup s = residents(d, "comfyui_workflow");
  Trace& t = s.t;
  SimProcess p;
  p.name = "comfyui";
  p.runtime = "comfyui";
  p.command = "python3";
  p.model_file = "/ComfyUI/models/checkpoints/ckpt" + std::to_string(d.pick(20)) + ".safetensors";
  p.pid = 4500;
  p.start_at = d.real(5, 20);
  const Curve nominal = comfy_workflow(d, scale(s.free_bytes, d.real(0.5, 1.4)));
  p.curve = jitter(nominal, d.run_scale());
  t.known_by = "none";
  maybe_known(t, p, nominal, d, 0.7);
  t.observes =
      "ComfyUI's process: VRAM, the checkpoint it opened; the policy input carries no ComfyUI "
      "queue (to_policy_input fills no image_gen), so its cache is not freed; a learned profile of "
      "the workflow's checkpoint";
  t.procs.push_back(p);
  return t;
}

Trace second_user(Draw& d) {
  Setup s = residents(d, "second_user");
  Trace& t = s.t;
  SimProcess p;
  p.name = "other-user";
  p.runtime = "other";
  p.command = "python3";
  p.uid = 1001;
  p.maps_readable = false;
  p.pid = 4600;
  p.start_at = d.real(5, 20);
  const uint64_t peak = scale(s.free_bytes, d.real(0.5, 1.4));
  p.curve = d.chance(0.5) ? staircase(d, peak) : step_load(d, peak);
  t.known_by = "none";
  t.observes =
      "another user's process: GPU used and its VRAM (NVML lists every process); its maps and "
      "files are unreadable, so no model file and no profile";
  t.procs.push_back(p);
  return t;
}

Trace game_start(Draw& d) {
  Setup s = residents(d, "game_start");
  Trace& t = s.t;
  SimProcess p;
  static const char* const kGames[] = {"Cyberpunk2077.exe", "eldenring.exe", "bg3", "hl2_linux"};
  p.name = "game";
  p.runtime = "other";
  p.command = kGames[d.pick(4)];
  p.pid = 4700;
  p.start_at = d.real(5, 20);
  const Curve nominal = game_load(d, scale(s.free_bytes, d.real(0.5, 1.4)));
  p.curve = jitter(nominal, d.run_scale());
  t.known_by = "none";
  maybe_known(t, p, nominal, d, 0.7);
  t.observes = "a game's process: its VRAM and executable; a learned profile when played before";
  t.procs.push_back(p);
  return t;
}

// The world's state of one process during a run.
struct Live {
  const SimProcess* spec;
  bool present = true;
  uint32_t dropped_layers = 0;
  // A reload: the old runner's memory came back at `reloaded_at`; the new
  // one grows to its smaller size over `regrow_seconds`.
  double reloaded_at = -1;
  double regrow_seconds = 0;
};

uint64_t live_bytes(const Live& l, double t) {
  const SimProcess& p = *l.spec;
  if (!l.present) return 0;
  uint64_t b = p.start_at < 0   ? p.curve.back().second
               : t < p.start_at ? 0
                                : curve_at(p.curve, t - p.start_at);
  if (l.dropped_layers && p.n_layers) {
    const uint64_t off = p.curve.back().second / p.n_layers * l.dropped_layers;
    b = b > off ? b - off : 0;
  }
  if (l.reloaded_at >= 0 && t < l.reloaded_at + l.regrow_seconds) {
    b = scale(b, (t - l.reloaded_at) / std::max(l.regrow_seconds, 1e-9));
  }
  return b;
}

bool started(const SimProcess& p, double t) { return p.start_at < 0 || t >= p.start_at; }

// Deterministic sample noise, as the driver's counters wobble by a few MiB
// (splitmix64's finaliser of the sample time: a plain hash of consecutive
// times is a sawtooth, which a line fit reads as a slope).
uint64_t noise(double t, uint64_t amplitude) {
  uint64_t h = static_cast<uint64_t>(std::llround(t * 1000.0)) + 0x9E3779B97F4A7C15ULL;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
  h ^= h >> 31;
  return amplitude ? h % amplitude : 0;
}

runtimes::RuntimeKind kind_of(const std::string& runtime) {
  return runtime == "ollama" ? runtimes::RuntimeKind::kOllama : runtimes::RuntimeKind::kLlamaCpp;
}

// What the world shows at `t`: the Snapshot the assembler would build, and
// what the daemon knows beside it.
struct Shown {
  snapshot::Snapshot snapshot;
  DaemonKnowledge knowledge;
};

Shown show(const Trace& tr, const std::vector<Live>& live, double t, uint64_t used,
           const Simulation& s) {
  Shown out;
  auto& snap = out.snapshot;
  snap.host.meminfo.total_bytes = 64 * kGiB;
  snap.host.meminfo.available_bytes = 40 * kGiB;
  gpu::GpuDevice g;
  g.index = 0;
  g.memory_total_bytes = tr.gpu_total_bytes;
  g.memory_used_bytes = std::min(tr.gpu_total_bytes, used + noise(t, s.sample_noise_bytes));
  snap.gpus = {g};
  snapshot::Workload ollama;
  for (const auto& l : live) {
    const SimProcess& p = *l.spec;
    if (!started(p, t) || !l.present) continue;
    const uint64_t vram = live_bytes(l, t);
    if (p.runtime == "ollama") {
      // The server and its runners are one workload (the detector groups them).
      if (ollama.pids.empty()) {
        ollama = workload_of(p, 0);
        ollama.model_files.clear();
        ollama.vram = {{0, 0}};
      }
      ollama.pids.push_back(p.pid);
      ollama.vram[0].used_bytes += vram;
      ollama.vram_bytes += vram;
    } else {
      snapshot::Workload w = workload_of(p, vram);
      if (p.estimate_in_workload)
        w.estimate = snapshot::WorkloadEstimate{p.ctx, 0, 0, p.planner_bytes};
      snap.workloads.push_back(w);
    }
    const double since = p.start_at < 0 ? 1e9 : t - p.start_at;
    if (p.api_model && since >= p.listed_after) {
      runtimes::LoadedModel m;
      m.runtime = kind_of(p.runtime);
      m.endpoint = p.endpoint;
      m.name = p.name;
      const bool loading = since < p.curve.back().first;
      m.state = loading ? "loading" : "loaded";
      // Ollama's size_vram is its plan, listed from the start of the load.
      Live final = l;
      final.reloaded_at = -1;
      const uint64_t planned = live_bytes(final, 1e9);
      m.size_bytes = planned;
      m.vram_bytes = planned;
      m.n_layers = p.n_layers;
      // Only llama.cpp's /slots says whether a request is running.
      if (p.runtime == "llama.cpp") m.requests_running = p.busy ? 1 : 0;
      // The assembler's idle time: since the last sign of use (a request
      // starting moves Ollama's expiry).
      m.idle_seconds = p.busy ? std::fmod(t, p.request_every) : p.idle_at_start + t;
      snap.loaded_models.push_back(m);
      if (p.planner_bytes) {
        AnnouncedLoad a;
        a.runtime = p.runtime;
        a.model = p.name;
        a.endpoint = p.endpoint;
        a.gpu = 0;
        a.bytes = p.planner_bytes;
        out.knowledge.planned.push_back(a);
      }
    }
  }
  if (!ollama.pids.empty()) snap.workloads.insert(snap.workloads.begin(), ollama);
  // The gateway announces a load it admits just before it starts it.
  for (const auto& l : live) {
    const SimProcess& p = *l.spec;
    if (!p.gateway || p.start_at < 0 || t < p.start_at - 0.5 || !l.present) continue;
    AnnouncedLoad a;
    a.source = "gateway";
    a.runtime = p.runtime;
    a.model = p.name;
    a.endpoint = p.endpoint;
    a.gpu = 0;
    a.bytes = p.planner_bytes;
    a.announced_at_seconds = p.start_at - 0.5;
    out.knowledge.gateway.push_back(a);
  }
  out.knowledge.delays = s.learned;
  out.knowledge.profiles = tr.profiles;
  return out;
}

snapshot::Workload workload_of(const SimProcess& p, uint64_t vram) {
  snapshot::Workload w;
  w.runtime = p.runtime;
  w.runtime_name = p.command;
  w.command = p.command;
  w.pid = static_cast<int>(p.pid);
  w.pids = {static_cast<int>(p.pid)};
  w.uid = p.uid;
  w.container_id = p.container;
  w.endpoint = p.api_model ? p.endpoint : "";
  w.model = p.name;
  if (p.maps_readable && !p.model_file.empty()) w.model_files = {p.model_file};
  w.context_tokens = p.ctx;
  w.parallel = p.parallel;
  if (vram) w.vram = {{0, vram}};
  w.vram_bytes = vram;
  return w;
}

// What every action the policy may take would free, at the worst moment.
uint64_t freeable(const Trace& tr) {
  uint64_t b = 0;
  for (const auto& p : tr.procs) {
    if (p.actionable && (p.start_at < 0)) b += p.curve.back().second;
  }
  return b;
}

}  // namespace

double draw_delay(const DelayModel& m, ActionKind kind, uint64_t bytes, uint32_t& state) {
  std::mt19937 rng(state);
  state = rng();
  auto u = [&] { return (rng() + 0.5) / 4294967296.0; };
  const double gib = static_cast<double>(bytes) / static_cast<double>(kGiB);
  const double median = m.unload_base_seconds + m.unload_seconds_per_gib * gib +
                        (kind == ActionKind::kUnload ? 0 : m.reload_extra_seconds);
  // Box-Muller normal for the lognormal spread.
  const double z = std::sqrt(-2 * std::log(u())) * std::cos(2 * M_PI * u());
  double x = median * std::exp(m.sigma * z);
  if (u() < m.tail_probability) x *= std::min(10.0, 1.5 / std::pow(u(), 1 / m.tail_alpha));
  return x * m.mismatch;
}

std::vector<ActionDelayStats> learn_delays(const DelayModel& m, uint32_t seed, int per_class) {
  // Size classes as the daemon keeps them: small, medium, large models.
  const uint64_t edges[] = {0, 4 * kGiB, 16 * kGiB, UINT64_MAX};
  std::vector<ActionDelayStats> out;
  uint32_t state = seed;
  Draw d(seed);
  for (ActionKind k : {ActionKind::kUnload, ActionKind::kReloadFewerLayers}) {
    for (int c = 0; c < 3; ++c) {
      std::vector<double> v;
      const double lo = static_cast<double>(edges[c]) / static_cast<double>(kGiB);
      const double hi =
          c == 2 ? 48.0 : static_cast<double>(edges[c + 1]) / static_cast<double>(kGiB);
      for (int i = 0; i < per_class; ++i) v.push_back(draw_delay(m, k, d.gib(lo, hi), state));
      std::sort(v.begin(), v.end());
      ActionDelayStats st;
      st.runtime = "ollama";
      st.action = action_kind_name(k);
      st.min_model_bytes = edges[c];
      st.max_model_bytes = edges[c + 1];
      st.p50_seconds = v[v.size() / 2];
      st.p90_seconds = v[std::min(v.size() - 1, v.size() * 9 / 10)];
      st.count = static_cast<uint32_t>(v.size());
      out.push_back(st);
    }
  }
  return out;
}

std::vector<std::string> trace_kinds() {
  return {"ollama_load",      "llama_server_start", "pytorch_staircase",
          "comfyui_workflow", "second_user",        "game_start"};
}

std::vector<Trace> make_traces(int count_per_kind, uint32_t seed, PlannerError planner_error,
                               double run_spread) {
  Draw d(seed, planner_error, run_spread);
  std::vector<Trace> out;
  Trace (*makers[])(Draw&) = {ollama_load,      llama_server_start, pytorch_staircase,
                              comfyui_workflow, second_user,        game_start};
  for (auto* make : makers) {
    for (int i = 0; i < count_per_kind; ++i) out.push_back(make(d));
  }
  return out;
}

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kNothing:
      return "nothing";
    case Mode::kThresholdOnly:
      return "threshold-only";
    case Mode::kPredictive:
      return "predictive";
  }
  return "?";
}

std::set<std::string> input_fields(const PolicyInput& in) {
  std::set<std::string> f;
  auto add = [&](bool set, const std::string& name) {
    if (set) f.insert(name);
  };
  add(in.host.total_bytes, "host.total_bytes");
  add(in.host.available_bytes, "host.available_bytes");
  for (const auto& g : in.gpus) {
    add(true, "gpus.index");
    add(!g.name.empty(), "gpus.name");
    add(g.used_bytes, "gpus.used_bytes");
    add(g.total_bytes, "gpus.total_bytes");
    add(g.throttling, "gpus.throttling");
    add(!g.throttle_reason.empty(), "gpus.throttle_reason");
  }
  for (const auto& m : in.models) {
    const std::string at = "@" + m.runtime;
    add(!m.runtime.empty(), "models.runtime" + at);
    add(!m.name.empty(), "models.name" + at);
    add(!m.endpoint.empty(), "models.endpoint" + at);
    add(m.pid, "models.pid" + at);
    add(m.gpu >= 0, "models.gpu" + at);
    add(m.size_bytes, "models.size_bytes" + at);
    add(m.vram_bytes, "models.vram_bytes" + at);
    add(m.context_length, "models.context_length" + at);
    add(m.parallel_slots != 1, "models.parallel_slots" + at);
    add(m.kv_capacity_bytes, "models.kv_capacity_bytes" + at);
    add(m.kv_used_bytes, "models.kv_used_bytes" + at);
    add(m.kv_peak_bytes, "models.kv_peak_bytes" + at);
    add(m.idle_seconds != 0, "models.idle_seconds" + at);
    add(m.busy, "models.busy" + at);
    add(m.pinned, "models.pinned" + at);
    add(m.n_layers, "models.n_layers" + at);
    add(m.gpu_layers, "models.gpu_layers" + at);
    add(m.gpu_layer_bytes, "models.gpu_layer_bytes" + at);
  }
  for (const auto& ig : in.image_gen) add(!ig.runtime.empty(), "image_gen@" + ig.runtime);
  for (const auto& a : in.announced) add(true, "announced@" + a.source);
  add(!in.delays.empty(), "delays");
  return f;
}

TraceResult run_trace(const Trace& tr, Mode mode, const Profile& profile, const Simulation& s,
                      const PolicyTuning& tuning_in, std::vector<std::string>* log,
                      bool collect_fields) {
  PolicyTuning tuning = tuning_in;
  tuning.predict = mode == Mode::kPredictive;
  tuning.sample_interval_seconds = s.tick_seconds;
  Profile p = profile;
  p.idle_unload_seconds = 0;  // judged here: OOM prevention only
  std::vector<Live> live;
  for (const auto& proc : tr.procs) live.push_back({&proc});
  TraceResult r;
  r.freeable_bytes = freeable(tr);
  PolicyState state;
  std::deque<PolicyInput> history;
  struct Pending {
    double at;
    Action action;
  };
  std::vector<Pending> pending;
  uint32_t delay_rng = static_cast<uint32_t>(tr.gpu_total_bytes >> 20) * 2654435761u +
                       static_cast<uint32_t>(tr.procs.size());
  const double dt = s.world_step_seconds;
  const long steps = static_cast<long>(std::llround(tr.duration_seconds / dt));
  double next_sample = 0;
  for (long i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) * dt;
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->at > t + 1e-9) {
        ++it;
        continue;
      }
      for (auto& l : live) {
        const SimProcess& sp = *l.spec;
        if (!sp.actionable || sp.name != it->action.model || !l.present) continue;
        if (it->action.kind == ActionKind::kUnload) l.present = false;
        if (it->action.kind == ActionKind::kReloadFewerLayers ||
            it->action.kind == ActionKind::kRestoreLayers) {
          l.dropped_layers = sp.n_layers - std::min(sp.n_layers, it->action.gpu_layers);
          l.reloaded_at = t;
          const double gib = static_cast<double>(live_bytes(l, 1e9)) / static_cast<double>(kGiB);
          l.regrow_seconds = gib / s.world_delays.reload_gib_per_second;
        }
      }
      it = pending.erase(it);
    }
    uint64_t used = tr.base_bytes;
    for (const auto& l : live) used += live_bytes(l, t);
    r.peak_demand_bytes = std::max(r.peak_demand_bytes, used);
    if (used > tr.gpu_total_bytes && !r.oom) {
      r.oom = true;
      r.oom_at_seconds = t;
      // Nothing mode goes on to measure the whole demand; the others stop.
      if (mode != Mode::kNothing) return r;
    }
    if (mode == Mode::kNothing || t + 1e-9 < next_sample) continue;
    const Shown shown = show(tr, live, t, used, s);
    PolicyInput in = to_policy_input(shown.snapshot, t, shown.knowledge);
    if (collect_fields) {
      const auto f = input_fields(in);
      r.fields.insert(f.begin(), f.end());
    }
    std::vector<PolicyInput> hist(history.begin(), history.end());
    Decision d = decide(in, p, hist, state, tuning);
    if (log && s.log_samples) {
      std::ostringstream os;
      os << "t=" << t << " sample used=" << format_bytes(used)
         << " shown=" << format_bytes(in.gpus.empty() ? 0 : in.gpus[0].used_bytes);
      for (const auto& f : d.forecasts) {
        os << " slope=" << format_bytes(static_cast<uint64_t>(std::max(0.0, f.growth.slope_bytes_per_s)))
           << "/s hi=" << format_bytes(static_cast<uint64_t>(std::max(0.0, f.growth.slope_upper_bytes_per_s)))
           << "/s valid=" << f.growth.valid << " growing=" << f.still_growing;
      }
      for (const auto& a : in.announced) os << " announced " << a.source << " " << format_bytes(a.remaining_bytes());
      for (const auto& n : d.notes) os << " | " << n;
      log->push_back(os.str());
    }
    for (auto& a : d.actions) {
      uint64_t bytes = a.expected_bytes;
      for (const auto& l : live) {
        if (l.spec->name == a.model) bytes = live_bytes(l, t);
      }
      const double delay = draw_delay(s.world_delays, a.kind, bytes, delay_rng);
      if (log) {
        std::ostringstream os;
        os << "t=" << t << " used=" << format_bytes(used) << " " << action_kind_name(a.kind) << " "
           << a.model << " lands in " << delay << " s: " << a.reason;
        log->push_back(os.str());
      }
      ++r.actions_by_kind[action_kind_name(a.kind)];
      pending.push_back({t + delay, a});
      ++r.actions;
    }
    const double interval = d.next_sample_seconds > 0
                                ? std::min(d.next_sample_seconds, s.tick_seconds)
                                : s.tick_seconds;
    ++r.samples;
    if (interval < s.tick_seconds) ++r.fast_samples;
    next_sample = t + interval;
    history.push_back(std::move(in));
    // The daemon keeps the last 30 s of inputs (daemon.cc).
    while (!history.empty() && t - history.front().now_seconds > 30) history.pop_front();
  }
  return r;
}

double Row::prevented_percent() const {
  const int preventable = oom_without_policy - unpreventable;
  return preventable ? 100.0 * prevented / preventable : 100.0;
}

double Row::wasted_percent() const { return actions ? 100.0 * wasted_actions / actions : 0.0; }

Interval wilson95(int k, int n) {
  if (n <= 0 || k < 0 || k > n) return {};
  constexpr double z = 1.96;
  const double nn = n, p = k / nn, z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
  return {100.0 * std::max(0.0, centre - half), 100.0 * std::min(1.0, centre + half)};
}

Interval Row::prevented_interval() const {
  const int preventable = oom_without_policy - unpreventable;
  return wilson95(prevented, preventable);  // none to prevent: 0-100, nothing is known
}

Interval Row::wasted_interval() const {
  return actions ? wilson95(wasted_actions, actions) : Interval{0, 0};
}

std::vector<Row> evaluate(const std::vector<Trace>& traces, const Profile& profile,
                          const Simulation& s, const PolicyTuning& tuning,
                          const std::vector<double>& mismatches) {
  struct Run {
    Mode mode;
    double mismatch;
  };
  std::vector<Run> runs = {{Mode::kNothing, 1}, {Mode::kThresholdOnly, 1}};
  for (double m : mismatches) runs.push_back({Mode::kPredictive, m});
  std::vector<std::string> groups = trace_kinds();
  for (const char* k : {"planner", "gateway", "profile", "none"})
    groups.push_back(std::string("known by ") + k);
  groups.push_back("all");
  std::vector<Row> rows;
  for (const auto& g : groups) {
    for (const auto& run : runs) {
      Row row;
      row.group = g;
      row.mode = run.mode;
      row.mismatch = run.mismatch;
      rows.push_back(row);
    }
  }
  for (const auto& tr : traces) {
    const TraceResult base = run_trace(tr, Mode::kNothing, profile, s, tuning);
    const bool unpreventable =
        base.oom && base.peak_demand_bytes > tr.gpu_total_bytes + base.freeable_bytes;
    const double margin = tuning.oom_margin_bytes(tr.gpu_total_bytes);
    const bool near_full = !base.oom && static_cast<double>(base.peak_demand_bytes) >
                                            static_cast<double>(tr.gpu_total_bytes) - margin;
    for (size_t ri = 0; ri < runs.size(); ++ri) {
      Simulation sm = s;
      sm.world_delays.mismatch = s.world_delays.mismatch * runs[ri].mismatch;
      const TraceResult res = runs[ri].mode == Mode::kNothing
                                  ? base
                                  : run_trace(tr, runs[ri].mode, profile, sm, tuning);
      for (auto& row : rows) {
        if (row.mode != runs[ri].mode || row.mismatch != runs[ri].mismatch) continue;
        if (row.group != "all" && row.group != tr.kind && row.group != "known by " + tr.known_by)
          continue;
        ++row.traces;
        row.oom_without_policy += base.oom;
        row.unpreventable += unpreventable;
        row.ooms += res.oom;
        row.prevented += base.oom && !unpreventable && !res.oom;
        row.actions += res.actions;
        if (!base.oom) {
          row.wasted_actions += res.actions;
          if (near_full) row.wasted_near_full += res.actions;
          for (const auto& [k, n] : res.actions_by_kind) row.wasted_by_kind[k] += n;
        }
      }
    }
  }
  return rows;
}

std::string format_table(const std::vector<Row>& rows) {
  std::ostringstream os;
  os << "| traces | policy | delays | n | OOM if nothing done | of which unpreventable | OOMs | "
        "prevented | actions | wasted | of which near full | wasted by kind |\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  os.setf(std::ios::fixed);
  for (const auto& r : rows) {
    os.precision(1);
    os << "| " << r.group << " | " << mode_name(r.mode) << " | " << r.mismatch << "x | " << r.traces
       << " | " << r.oom_without_policy << " | " << r.unpreventable << " | " << r.ooms << " | "
       << r.prevented << " (" << r.prevented_percent() << "%; " << r.prevented_interval().low
       << "-" << r.prevented_interval().high << ") | " << r.actions << " | " << r.wasted_actions
       << " (" << r.wasted_percent() << "%; " << r.wasted_interval().low << "-"
       << r.wasted_interval().high << ") | " << r.wasted_near_full << " |";
    const char* sep = " ";
    for (const auto& [k, n] : r.wasted_by_kind) {
      os << sep << k << " " << n;
      sep = ", ";
    }
    os << " |\n";
  }
  return os.str();
}

double DayResult::efficiency_percent() const {
  return held_byte_seconds > 0 ? 100.0 * serving_byte_seconds / held_byte_seconds : 0.0;
}

DayResult replay_day(uint32_t seed, const Profile& profile, bool with_policy,
                     const DayReplay& day, std::set<std::string>* fields) {
  Draw d(seed);
  struct Request {
    double start, end;
  };
  struct DayModel {
    std::string name;
    uint64_t bytes = 0;
    double weight = 1;  // how often users open a session with it
    std::vector<Request> requests;
    bool loaded = false;
    double last_start = -1e9, last_end = -1e9;
    size_t next = 0;  // the next request to start
  };
  // A chat model, a coder, a large one for hard questions, an embedder.
  std::vector<DayModel> models(4);
  const double gib[] = {4.5, 7, 12, 0.6};
  const double weight[] = {1.0, 0.6, 0.25, 0.8};
  const char* names[] = {"chat", "coder", "large", "embed"};
  for (size_t i = 0; i < models.size(); ++i) {
    models[i].name = names[i];
    models[i].bytes = static_cast<uint64_t>(gib[i] * d.real(0.9, 1.1) * static_cast<double>(kGiB));
    models[i].weight = weight[i];
  }
  const double end = day.hours * 3600;
  // Sessions: 2 an hour at weight 1 from 8 to 20 h, 0.1 an hour at night;
  // each 1-10 requests of 2-25 s, 15-180 s apart.
  for (auto& m : models) {
    for (double t = 0; t < end;) {
      const double hour = std::fmod(t / 3600, 24);
      const double rate = m.weight * (hour >= 8 && hour < 20 ? 2.0 : 0.1) / 3600;
      t += -std::log(1 - d.real(0, 0.999999)) / rate;
      double r = t;
      const int n = 1 + d.pick(10);
      for (int k = 0; k < n && r < end; ++k) {
        const double len = d.real(2, 25);
        m.requests.push_back({r, r + len});
        r += len + d.real(15, 180);
      }
      t = std::max(t, r);
    }
  }
  DayResult out;
  PolicyTuning tuning;
  tuning.sample_interval_seconds = day.step_seconds;
  PolicyState state;
  const std::vector<PolicyInput> no_history;
  auto used = [&] {
    uint64_t u = day.base_bytes;
    for (const auto& m : models) u += m.loaded ? m.bytes : 0;
    return u;
  };
  for (double t = 0; t < end; t += day.step_seconds) {
    // Requests that start in this step: Ollama loads the model first,
    // evicting the least recently used idle one while it does not fit.
    for (auto& m : models) {
      while (m.next < m.requests.size() && m.requests[m.next].start <= t) {
        const Request& r = m.requests[m.next++];
        ++out.requests;
        if (!m.loaded) {
          ++out.loads;
          while (used() + m.bytes > day.gpu_total_bytes) {
            DayModel* lru = nullptr;
            for (auto& o : models) {
              if (o.loaded && o.last_end < t && (!lru || o.last_end < lru->last_end)) lru = &o;
            }
            if (!lru) break;
            lru->loaded = false;
          }
          m.loaded = true;
        }
        m.last_start = r.start;
        m.last_end = std::max(m.last_end, r.end);
      }
      // keep_alive runs from the end of the last request.
      if (m.loaded && m.last_end < t && t - m.last_end >= day.keep_alive_seconds) m.loaded = false;
    }
    if (with_policy) {
      snapshot::Snapshot snap;
      snap.host.meminfo.total_bytes = 64 * kGiB;
      snap.host.meminfo.available_bytes = 40 * kGiB;
      gpu::GpuDevice g;
      g.index = 0;
      g.memory_total_bytes = day.gpu_total_bytes;
      g.memory_used_bytes = used();
      snap.gpus = {g};
      for (const auto& m : models) {
        if (!m.loaded) continue;
        runtimes::LoadedModel lm;
        lm.runtime = runtimes::RuntimeKind::kOllama;
        lm.endpoint = kOllamaEndpoint;
        lm.name = m.name;
        lm.state = "loaded";
        lm.size_bytes = m.bytes;
        lm.vram_bytes = m.bytes;
        // The assembler's idle time: since the last sign of use (a request
        // starting or ending moves Ollama's expiry).
        lm.idle_seconds = t - std::max(m.last_start, std::min(m.last_end, t));
        snap.loaded_models.push_back(lm);
      }
      const PolicyInput in = to_policy_input(snap, t);
      if (fields) {
        const auto f = input_fields(in);
        fields->insert(f.begin(), f.end());
      }
      const Decision dec = decide(in, profile, no_history, state, tuning);
      for (const auto& a : dec.actions) {
        if (a.kind != ActionKind::kUnload) continue;
        for (auto& m : models) {
          if (m.name == a.model && m.loaded) {
            m.loaded = false;
            ++out.policy_unloads;
          }
        }
      }
    }
    for (const auto& m : models) {
      if (!m.loaded) continue;
      const double b = static_cast<double>(m.bytes) * day.step_seconds;
      out.held_byte_seconds += b;
      const bool busy = m.last_start <= t && t < m.last_end;
      if (busy || (m.last_end <= t && t - m.last_end <= day.serving_window_seconds))
        out.serving_byte_seconds += b;
    }
  }
  return out;
}

}  // namespace memopt::policy::sim

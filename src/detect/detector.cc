// The generic matcher over the signature table, and workload grouping.
#include "detect/detector.h"

#include "proc/process_scanner.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>
#include <set>
#include <unordered_map>

namespace memopt::detect {
namespace {

using proc::path_basename;
using proc::ProcessInfo;

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

bool is_python_name(std::string_view base) {
  // python, python3, python3.12, python3.12d, pythonw: the CPython launchers.
  return base.starts_with("python");
}

void add_program(CommandView& v, std::string_view name) {
  // Windows names a program with its extension (ollama.exe); the signature
  // table names programs without one.
  if (name.size() > 4 && (name.ends_with(".exe") || name.ends_with(".EXE"))) name.remove_suffix(4);
  if (name.empty()) return;
  if (std::find(v.programs.begin(), v.programs.end(), name) == v.programs.end()) {
    v.programs.emplace_back(name);
  }
}

const char* signal_name(runtimes::Signal s) {
  using runtimes::Signal;
  switch (s) {
    case Signal::kProgram: return "program";
    case Signal::kProgramSuffix: return "program";
    case Signal::kCommand: return "command";
    case Signal::kPythonModule: return "python-module";
    case Signal::kScriptPath: return "script";
    case Signal::kPythonCwd: return "working-directory";
    case Signal::kCommPrefix: return "process-title";
    case Signal::kLibraryPrefix: return "library";
    case Signal::kLibraryPath: return "library-path";
    case Signal::kExePath: return "executable-path";
  }
  return "?";
}

// Returns what matched, or "" when the rule does not match.
std::string match_rule(const runtimes::SignalRule& r, const ProcessInfo& p, const CommandView& v) {
  using runtimes::Signal;
  switch (r.signal) {
    case Signal::kProgram:
      for (const auto& prog : v.programs)
        if (prog == r.pattern) return prog;
      return {};
    case Signal::kProgramSuffix:
      for (const auto& prog : v.programs)
        if (prog.size() > r.pattern.size() && std::string_view(prog).ends_with(r.pattern)) return prog;
      return {};
    case Signal::kCommand: {
      size_t sp = r.pattern.find(' ');
      std::string_view prog = r.pattern.substr(0, sp);
      std::string_view sub = r.pattern.substr(sp + 1);
      if (v.args.empty() || v.args[0] != sub) return {};
      for (const auto& pr : v.programs)
        if (pr == prog) return std::string(r.pattern);
      return {};
    }
    case Signal::kPythonModule:
      if (v.module == r.pattern ||
          (v.module.size() > r.pattern.size() && std::string_view(v.module).starts_with(r.pattern) &&
           v.module[r.pattern.size()] == '.')) {
        return "-m " + v.module;
      }
      return {};
    case Signal::kScriptPath:
      if (!v.script.empty() && icontains(v.script, r.pattern)) return v.script;
      return {};
    case Signal::kPythonCwd:
      if (v.python && !p.cwd.empty() && icontains(p.cwd, r.pattern)) return p.cwd;
      return {};
    case Signal::kCommPrefix:
      if (std::string_view(p.comm).starts_with(r.pattern)) return p.comm;
      if (!p.argv.empty() && std::string_view(p.argv[0]).starts_with(r.pattern)) {
        return p.argv[0].substr(0, p.argv[0].find(' '));
      }
      return {};
    case Signal::kLibraryPrefix: {
      // Every matching library (up to 4) names the evidence: the provider libs
      // of ONNX Runtime say as much as the core one.
      std::string found;
      int n = 0;
      for (const auto& lib : p.libraries) {
        if (!path_basename(lib).starts_with(r.pattern)) continue;
        if (++n > 4) {
          found += ", ...";
          break;
        }
        found += (found.empty() ? "" : ", ") + std::string(path_basename(lib));
      }
      return found;
    }
    case Signal::kLibraryPath:
      for (const auto& lib : p.libraries)
        if (lib.find(r.pattern) != std::string::npos) return lib;
      return {};
    case Signal::kExePath:
      if (p.exe.find(r.pattern) != std::string::npos) return p.exe;
      return {};
  }
  return {};
}

int kind_rank(runtimes::RuntimeRole k) {
  switch (k) {
    case runtimes::RuntimeRole::kServer: return 2;
    case runtimes::RuntimeRole::kEngine: return 1;
    case runtimes::RuntimeRole::kFramework: return 0;
  }
  return 0;
}

struct Candidate {
  const runtimes::RuntimeDescriptor* sig;
  size_t order;
  double score;
  std::string flavor;
  std::vector<Evidence> evidence;
};

bool is_probeable_address(const proc::ListeningSocket& s) {
  return s.address == "127.0.0.1" || s.address == "0.0.0.0" || s.address == "::" ||
         s.address == "::1" || s.address == "::ffff:127.0.0.1" || s.address.starts_with("127.");
}

std::string probe_host(const proc::ListeningSocket& s) {
  if (!s.ipv6) return s.address == "0.0.0.0" ? "127.0.0.1" : s.address;
  if (s.address == "::ffff:127.0.0.1") return "127.0.0.1";
  return "::1";
}

std::string endpoint_url(const proc::ListeningSocket& s) {
  std::string host = probe_host(s);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(s.port);
}

bool is_live(const ProcessInfo& p) { return !p.kernel_thread && p.state != 'Z'; }

}  // namespace

CommandView command_view(const ProcessInfo& p) {
  CommandView v;
  std::string_view exe_base = path_basename(p.exe);
  std::string_view arg0 = p.argv.empty() ? std::string_view{} : std::string_view(p.argv[0]);
  std::string_view arg0_base = path_basename(arg0);
  v.python = is_python_name(exe_base) || is_python_name(arg0_base);
  size_t i = 1;
  if (v.python && !p.argv.empty()) {
    add_program(v, arg0_base);
    add_program(v, exe_base);
    // Interpreter options come first; -X/-W/-Q take a value; -c ends it.
    while (i < p.argv.size()) {
      std::string_view a = p.argv[i];
      if (a == "-m" && i + 1 < p.argv.size()) {
        v.module = p.argv[i + 1];
        i += 2;
        break;
      }
      if (a.starts_with("-m") && a.size() > 2) {  // -mvllm.x
        v.module = std::string(a.substr(2));
        ++i;
        break;
      }
      if (a == "-c") {
        i = p.argv.size();
        break;
      }
      if (a == "-X" || a == "-W" || a == "-Q") {
        i += 2;
        continue;
      }
      if (a.starts_with("-") && a != "-") {
        ++i;
        continue;
      }
      v.script = std::string(a);
      add_program(v, path_basename(a));
      ++i;
      break;
    }
  } else {
    add_program(v, exe_base);
    // A process title rewritten with spaces ("ollama runner --model x") keeps
    // the program in its first word.
    add_program(v, path_basename(arg0.substr(0, arg0.find(' '))));
  }
  for (; i < p.argv.size(); ++i) v.args.push_back(p.argv[i]);
  return v;
}

std::optional<std::string> flag_value(std::span<const std::string> args,
                                      std::span<const std::string_view> flags) {
  std::optional<std::string> value;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    for (std::string_view f : flags) {
      if (a == f && i + 1 < args.size()) {
        value = args[++i];
        break;
      }
      if (f.starts_with("--") && a.size() > f.size() && a.starts_with(f) && a[f.size()] == '=') {
        value = std::string(a.substr(f.size() + 1));
        break;
      }
    }
  }
  return value;
}

std::optional<std::string> flag_value(std::span<const std::string> args,
                                      std::initializer_list<std::string_view> flags) {
  return flag_value(args, std::span<const std::string_view>(flags.begin(), flags.size()));
}

std::string model_from_args(const CommandView& view) {
  static constexpr std::string_view kFlags[] = {"--model", "-m", "--model-path", "--model_path",
                                                "--model-id", "--model_id", "--ckpt"};
  const auto& a = view.args;
  if (auto m = flag_value(a, kFlags); m && !m->empty()) return *m;
  // "vllm serve <model>", "text-generation-server serve <model>".
  if (a.size() >= 2 && a[0] == "serve" && !a[1].starts_with("-")) return a[1];
  return {};
}

namespace {

// The value `flags` give (flag_value: the last one, as the server takes it)
// when it is a number no larger than `max`; 0 otherwise. A value beyond
// `max` is no real setting and is ignored rather than let a hostile command
// line drive an estimate.
uint64_t numeric_flag(const CommandView& view, std::span<const std::string_view> flags, uint64_t max) {
  const std::optional<std::string> v = flag_value(view.args, flags);
  if (!v || v->empty()) return 0;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  return ec == std::errc() && p == v->data() + v->size() && n <= max ? n : 0;
}

}  // namespace

uint64_t context_from_args(const CommandView& view) {
  static constexpr std::string_view kFlags[] = {"-c", "--ctx-size", "--ctx_size", "--max-model-len",
                                                "--max_model_len", "--context-length", "--n_ctx"};
  return numeric_flag(view, kFlags, 1ull << 24);
}

uint64_t parallel_from_args(const CommandView& view) {
  // llama-server -np / --parallel; vLLM --max-num-seqs is a batch limit, not
  // a split of the context, so it is not read here.
  static constexpr std::string_view kFlags[] = {"-np", "--parallel"};
  return numeric_flag(view, kFlags, 1024);
}

std::string api_key_from_args(std::span<const std::string> args, bool* unusable) {
  const std::string keys = flag_value(args, {"--api-key"}).value_or("");
  std::string key = keys.substr(0, keys.find(','));
  const bool bad = !runtimes::header_token_safe(key);
  if (unusable) *unusable = bad;
  return bad ? std::string() : key;
}

std::string api_key_file_from_args(std::span<const std::string> args) {
  return flag_value(args, {"--api-key-file"}).value_or("");
}

std::string api_key_for(std::span<const std::string> args,
                        std::span<const std::pair<std::string, std::string>> env,
                        const runtimes::RuntimeDescriptor* runtime, bool* unusable) {
  bool flag_bad = false;
  const std::string flag = api_key_from_args(args, &flag_bad);
  std::string from_env;
  bool env_bad = false;
  if (runtime && !runtime->api_key_env.empty()) {
    for (const auto& [name, value] : env) {
      if (name != runtime->api_key_env) continue;
      from_env = runtime->api_key_env_list ? value.substr(0, value.find(',')) : value;
      env_bad = !runtimes::header_token_safe(from_env);
      if (env_bad) from_env.clear();
      break;  // the first entry of a name, as getenv takes it
    }
  }
  const std::string& key = flag.empty() ? from_env : flag;
  if (unusable) *unusable = key.empty() && (flag_bad || env_bad);
  return key;
}

std::string inherited_api_key(std::span<const std::string> args,
                              const runtimes::RuntimeDescriptor* runtime, bool* unusable) {
  std::vector<std::pair<std::string, std::string>> env;
  if (runtime && !runtime->api_key_env.empty()) {
    const std::string name(runtime->api_key_env);
    if (const char* v = std::getenv(name.c_str())) env.emplace_back(name, v);
  }
  return api_key_for(args, env, runtime, unusable);
}

bool may_send_key(uint32_t reader_uid, uint32_t owner_uid) {
  return reader_uid == 0 || reader_uid == owner_uid;
}

std::string sendable_key(const snapshot::Workload& w) {
  return may_send_key(static_cast<uint32_t>(::geteuid()), w.uid) ? w.api_key : std::string();
}

std::map<std::string, std::string> sendable_keys(const snapshot::Snapshot& s) {
  std::map<std::string, std::string> out;
  for (const auto& w : s.workloads) {
    const std::string key = sendable_key(w);
    if (key.empty() || w.endpoint.empty()) continue;
    if (auto base = runtimes::parse_base_url(w.endpoint, 80)) out.emplace(base->str(), key);
  }
  return out;
}

Classification classify_process(const ProcessInfo& p, std::span<const ProbeResult> probes) {
  Classification out;
  if (!is_live(p)) return out;
  CommandView view = command_view(p);
  std::vector<Candidate> cands;
  auto sigs = runtimes::all_runtimes();
  for (size_t si = 0; si < sigs.size(); ++si) {
    const runtimes::RuntimeDescriptor& sig = *sigs[si];
    Candidate c{&sig, si, 0, {}, {}};
    double miss = 1.0;  // noisy-or: P(no signal is right) = prod(1 - c_i)
    double flavor_conf = 0;
    for (const runtimes::SignalRule& r : sig.rules) {
      std::string what = match_rule(r, p, view);
      if (what.empty()) continue;
      miss *= 1.0 - r.confidence;
      c.evidence.push_back({p.pid, signal_name(r.signal), what, r.confidence});
      if (!r.flavor.empty() && r.confidence > flavor_conf) {
        flavor_conf = r.confidence;
        c.flavor = std::string(r.flavor);
      }
    }
    for (const ProbeResult& pr : probes) {
      if (pr.pid != p.pid || pr.runtime != sig.id() || !pr.matched) continue;
      constexpr double kProbeConfidence = 0.9;  // the runtime's own endpoint answered
      miss *= 1.0 - kProbeConfidence;
      c.evidence.push_back({p.pid, "http-probe",
                            "GET :" + std::to_string(pr.port) + pr.path + " answered as " +
                                std::string(sig.name),
                            kProbeConfidence});
    }
    if (c.evidence.empty()) continue;
    out.any_signal = true;
    c.score = std::min(0.99, 1.0 - miss);
    if (c.score >= kMinimumScore) cands.push_back(std::move(c));
  }
  if (cands.empty()) return out;
  // A server's or engine's own signals outrank a framework it happens to load
  // (vLLM maps torch; Ollama's runner maps libggml): kind first, then score,
  // then table order.
  auto better = [](const Candidate& a, const Candidate& b) {
    if (kind_rank(a.sig->role) != kind_rank(b.sig->role)) return kind_rank(a.sig->role) > kind_rank(b.sig->role);
    if (a.score != b.score) return a.score > b.score;
    return a.order < b.order;
  };
  std::sort(cands.begin(), cands.end(), better);
  Candidate& best = cands.front();
  out.signature = best.sig;
  out.score = best.score;
  out.flavor = best.flavor;
  out.evidence = std::move(best.evidence);
  for (size_t i = 1; i < cands.size(); ++i) {
    out.also.emplace_back(cands[i].sig->name);
    for (auto& e : cands[i].evidence) {
      e.detail += " (" + std::string(cands[i].sig->name) + ")";
      out.evidence.push_back(std::move(e));
    }
  }
  return out;
}

bool may_be_ai_work(const ProcessInfo& p, std::span<const int> gpu_pids) {
  if (!is_live(p)) return false;
  if (!p.model_files.empty() || !p.gpu_devices.empty() || !p.listening.empty()) return true;
  if (p.rss_bytes >= kMapsRssFloorBytes) return true;
  if (std::binary_search(gpu_pids.begin(), gpu_pids.end(), p.pid)) return true;
  // Interpreters: the engine is a library the script loads, so the command
  // line may name nothing the signature table knows (node app.mjs).
  static constexpr std::string_view kInterpreters[] = {"python", "node", "java", "bun", "deno",
                                                       "dotnet"};
  for (std::string_view path : {std::string_view(p.exe),
                                p.argv.empty() ? std::string_view() : std::string_view(p.argv[0])}) {
    std::string_view base = proc::path_basename(path);
    for (std::string_view interp : kInterpreters) {
      if (base.starts_with(interp)) return true;
    }
  }
  return classify_process(p).any_signal;
}

std::vector<ProbeRequest> plan_probes(const proc::ScanResult& scan, size_t max_probes) {
  std::vector<ProbeRequest> out;
  for (const ProcessInfo& p : scan.processes) {
    if (!is_live(p) || p.listening.empty()) continue;
    Classification c = classify_process(p);
    if (c.signature && c.score >= kConfidentScore) continue;  // already sure
    // A port alone is no evidence: only processes that show some AI signal,
    // or a python process with a GPU open, are worth a probe.
    bool worth = c.any_signal || (command_view(p).python && !p.gpu_devices.empty());
    if (!worth) continue;
    std::set<std::pair<uint16_t, std::string_view>> done;
    for (const auto& sock : p.listening) {
      if (!is_probeable_address(sock)) continue;
      for (const runtimes::RuntimeDescriptor* d : runtimes::all_runtimes()) {
        const runtimes::RuntimeDescriptor& sig = *d;
        for (const runtimes::HttpProbe& probe : sig.probes) {
          // With some evidence any probe-able runtime is tried; with only a GPU
          // open, only those whose default port this is.
          bool default_port = std::find(sig.default_ports.begin(), sig.default_ports.end(),
                                        sock.port) != sig.default_ports.end();
          if (!c.any_signal && !default_port) continue;
          if (!done.insert({sock.port, sig.id()}).second) continue;
          if (out.size() >= max_probes) return out;
          out.push_back({p.pid, probe_host(sock), sock.port, std::string(sig.id()),
                         std::string(probe.path), std::string(probe.expect)});
        }
      }
    }
  }
  return out;
}

namespace {

using ByPid = std::unordered_map<int, const ProcessInfo*>;
using Classes = std::unordered_map<int, Classification>;

// Groups classified processes (and unclassified children holding VRAM) under
// their topmost adopting ancestor: a server owns its model runners, an engine
// its own kind. Returns member pid -> root pid.
std::map<int, int> group_processes(const ByPid& by_pid, Classes& classes,
                                   const std::unordered_map<int, uint64_t>& vram_by_pid) {
  // Nearest classified ancestor that may adopt `pid` (bounded walk: a hostile
  // tree may contain a ppid cycle).
  auto adopter = [&](int pid, const runtimes::RuntimeDescriptor* own) -> int {
    auto start = by_pid.find(pid);
    const ProcessInfo* p = start == by_pid.end() ? nullptr : start->second;
    for (int steps = 0; p && steps < 64; ++steps) {
      int parent = p->ppid;
      if (parent <= 0 || parent == pid) return 0;
      auto it = classes.find(parent);
      if (it != classes.end()) {
        const runtimes::RuntimeDescriptor* anc = it->second.signature;
        if (own == nullptr || anc->role == runtimes::RuntimeRole::kServer || anc == own) return parent;
      }
      auto pit = by_pid.find(parent);
      p = pit == by_pid.end() ? nullptr : pit->second;
    }
    return 0;
  };
  auto find_root = [&](int pid, const runtimes::RuntimeDescriptor* own) {
    int r = pid;
    for (int steps = 0; steps < 64; ++steps) {
      auto it = classes.find(r);
      int up = adopter(r, it == classes.end() ? own : it->second.signature);
      if (up == 0) break;
      r = up;
    }
    return r;
  };
  std::map<int, int> root_of;
  for (const auto& [pid, c] : classes) root_of[pid] = find_root(pid, c.signature);
  // Unclassified VRAM holders join the workload of an ancestor when one exists.
  for (const auto& [pid, bytes] : vram_by_pid) {
    if (classes.count(pid) || bytes == 0) continue;
    int up = adopter(pid, nullptr);
    if (up != 0) root_of[pid] = find_root(up, classes[up].signature);
  }
  return root_of;
}

// The group's identity (from its root) and each member's evidence.
std::map<int, Workload> name_groups(const std::map<int, int>& root_of, const ByPid& by_pid,
                                    const Classes& classes) {
  std::map<int, Workload> groups;  // by root pid
  for (const auto& [pid, root] : root_of) {
    const Classification& rc = classes.at(root);
    Workload& w = groups[root];
    if (w.pids.empty()) {
      const ProcessInfo& rp = *by_pid.at(root);
      w.runtime = std::string(rc.signature->id());
      w.runtime_name = std::string(rc.signature->name);
      w.flavor = rc.flavor;
      w.also = rc.also;
      w.pid = root;
      w.command = rp.comm;
      w.container_id = rp.container_id;
      w.uid = rp.uid;
      w.confidence = rc.score;
      if (proc::this_platform() == proc::Platform::kLinux) {
        w.note = std::string(rc.signature->linux_note);
      }
    }
    w.pids.push_back(pid);
    auto cit = classes.find(pid);
    if (cit != classes.end()) {
      if (pid != root && w.flavor.empty()) w.flavor = cit->second.flavor;
      for (const auto& e : cit->second.evidence) w.evidence.push_back(e);
    } else {
      w.evidence.push_back({pid, "child-holds-vram",
                            "child of pid " + std::to_string(by_pid.at(pid)->ppid) + " (" +
                                by_pid.at(pid)->comm + ") holds VRAM",
                            0.8});
    }
  }
  return groups;
}

// What the members of a group hold and ask for: memory, accelerators, model
// files and flags, the API endpoint (and whether a probe confirmed it).
void describe_group(Workload& w, const ByPid& by_pid, std::span<const ProcessGpuMemory> vram,
                    std::span<const ProbeResult> probes) {
  std::sort(w.pids.begin(), w.pids.end());
  const runtimes::RuntimeDescriptor* sig = runtimes::find_runtime(w.runtime);
  std::set<std::string> accels;
  std::set<std::string> files_seen;
  const proc::ListeningSocket* chosen = nullptr;
  bool chosen_default = false, chosen_root = false;
  for (int pid : w.pids) {
    const ProcessInfo& p = *by_pid.at(pid);
    w.rss_bytes += p.rss_bytes;
    w.swap_bytes += p.swap_bytes;
    for (const auto& lib : p.libraries) {
      std::string_view base = path_basename(lib);
      for (const auto& a : accelerator_rules())
        if (base.starts_with(a.library_prefix)) accels.insert(std::string(a.accelerator));
    }
    for (const auto& f : p.model_files)
      if (files_seen.insert(f).second) w.model_files.push_back(f);
    CommandView pv = command_view(p);
    if (w.model.empty()) w.model = model_from_args(pv);
    if (w.context_tokens == 0) w.context_tokens = context_from_args(pv);
    if (w.parallel == 0) w.parallel = parallel_from_args(pv);
    // Only a process of the workload's own user gives it a key: the key is
    // sent as that user's (sendable_key).
    if (w.api_key.empty() && p.uid == w.uid) w.api_key = api_key_for(pv.args, p.env, sig);
    for (const auto& s : p.listening) {
      // Prefer the runtime's default port, then the top process's port
      // (Ollama's runner port is internal), then any.
      bool is_default = sig && std::find(sig->default_ports.begin(), sig->default_ports.end(),
                                         s.port) != sig->default_ports.end();
      bool is_root = pid == w.pid;
      bool better = !chosen || (is_default && !chosen_default) ||
                    (is_default == chosen_default && is_root && !chosen_root);
      if (better) {
        chosen = &s;
        chosen_default = is_default;
        chosen_root = is_root;
      }
    }
  }
  refresh_vram(std::span<Workload>(&w, 1), vram);
  w.accelerators.assign(accels.begin(), accels.end());
  if (chosen) {
    w.endpoint = endpoint_url(*chosen);
    for (const auto& pr : probes) {
      if (pr.matched && pr.port == chosen->port && pr.runtime == w.runtime &&
          std::binary_search(w.pids.begin(), w.pids.end(), pr.pid)) {
        w.endpoint_confirmed = true;
      }
    }
  }
  if (w.model.empty() && !w.model_files.empty()) {
    // Prefer a GGUF over other files (a projector or tokenizer may be open too).
    std::string pick = w.model_files.front();
    for (const auto& f : w.model_files)
      if (f.ends_with(".gguf")) {
        pick = f;
        break;
      }
    w.model = std::string(path_basename(pick));
  } else if (!w.model.empty() && w.model.find('/') != std::string::npos && w.model.front() == '/') {
    w.model = std::string(path_basename(w.model));
  }
}

// Non-AI processes that hold VRAM, largest first: users ask who is eating it.
std::vector<Workload> vram_holders(const ByPid& by_pid, std::span<const ProcessGpuMemory> vram,
                                   const std::set<int>& in_workload) {
  std::map<int, Workload> others;
  for (const auto& v : vram) {
    if (v.used_bytes == 0 || in_workload.count(v.pid)) continue;
    Workload& w = others[v.pid];
    if (w.pids.empty()) {
      w.runtime = "other";
      w.pid = v.pid;
      w.pids = {v.pid};
      auto it = by_pid.find(v.pid);
      if (it != by_pid.end()) {
        w.command = it->second->comm;
        w.rss_bytes = it->second->rss_bytes;
        w.swap_bytes = it->second->swap_bytes;
        w.uid = it->second->uid;
        w.container_id = it->second->container_id;
      } else {
        w.command = "pid " + std::to_string(v.pid);  // e.g. a host pid seen from a container
      }
      w.runtime_name = w.command;
    }
  }
  std::vector<Workload> out;
  for (auto& [pid, w] : others) out.push_back(std::move(w));
  refresh_vram(out, vram);
  std::stable_sort(out.begin(), out.end(),
                   [](const Workload& a, const Workload& b) { return a.vram_bytes > b.vram_bytes; });
  return out;
}

}  // namespace

void refresh_vram(std::span<Workload> workloads, std::span<const ProcessGpuMemory> vram) {
  for (Workload& w : workloads) {
    std::map<uint32_t, uint64_t> per_gpu;
    for (const auto& v : vram) {
      if (std::binary_search(w.pids.begin(), w.pids.end(), v.pid)) per_gpu[v.gpu_index] += v.used_bytes;
    }
    w.vram.clear();
    w.vram_bytes = 0;
    for (const auto& [gpu, bytes] : per_gpu) {
      w.vram.push_back({gpu, bytes});
      w.vram_bytes += bytes;
    }
  }
}

std::vector<Workload> detect_workloads(const proc::ScanResult& scan,
                                       std::span<const ProcessGpuMemory> vram,
                                       std::span<const ProbeResult> probes) {
  ByPid by_pid;
  for (const auto& p : scan.processes) by_pid[p.pid] = &p;
  Classes classes;
  for (const auto& p : scan.processes) {
    Classification c = classify_process(p, probes);
    if (c.signature) classes.emplace(p.pid, std::move(c));
  }
  std::unordered_map<int, uint64_t> vram_by_pid;
  for (const auto& v : vram) vram_by_pid[v.pid] += v.used_bytes;

  std::map<int, Workload> groups = name_groups(group_processes(by_pid, classes, vram_by_pid), by_pid, classes);
  std::vector<Workload> out;
  std::set<int> in_workload;
  for (auto& [root, w] : groups) {
    describe_group(w, by_pid, vram, probes);
    in_workload.insert(w.pids.begin(), w.pids.end());
    out.push_back(std::move(w));
  }
  for (auto& w : vram_holders(by_pid, vram, in_workload)) out.push_back(std::move(w));
  return out;
}

}  // namespace memopt::detect

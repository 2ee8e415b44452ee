#include "detect/workload_detector.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "detect/detector.h"
#include "detect/warnings.h"
#include "runtimes/http.h"
#include "runtimes/registry.h"
#include "proc/process_scanner.h"

namespace memopt::detect {

Result<std::string> key_from_key_file(const std::string& proc_root, int pid, uint32_t uid,
                                      const std::string& file) {
  auto keys = proc::read_process_key_file(proc_root, pid, uid, file);
  if (!keys) return keys.error();
  for (const auto& k : *keys) {
    if (runtimes::header_token_safe(k)) return k;
  }
  return make_error(file + ": no key a header can carry (a space or control character in each)");
}

namespace {

namespace fs = std::filesystem;

struct Detected {
  proc::ScanResult scan;
  std::vector<Workload> workloads;
};

std::vector<ProbeResult> run_probes(const std::vector<ProbeRequest>& reqs, std::chrono::milliseconds timeout) {
  std::vector<ProbeResult> out;
  for (const auto& r : reqs) out.push_back({r.pid, r.port, r.runtime, r.path, probe_answers(r, timeout)});
  return out;
}

// A llama-server whose command line and environment give no key but whose
// --api-key-file does: the file's first key a header can carry (the server
// takes every line), read by proc::read_process_key_file only when this
// process runs as the server's own user: the path is resolved and the file
// opened with this process's rights, so as root it would read for a user
// what that user could not (links inside the path, directories the user
// cannot enter, another root's files). As root for another user's server
// it is not read and the note says so. One that cannot be used is said in
// the workload's note; the server then answers 401.
void read_key_file(const std::string& proc_root, const proc::ScanResult& scan, Workload& w) {
  if (!w.api_key.empty() || w.runtime != runtimes::RuntimeKind::kLlamaCpp.id()) return;
  const auto me = static_cast<uint32_t>(::geteuid());
  if (!may_send_key(me, w.uid)) return;  // its key would not be sent anyway
  for (const proc::ProcessInfo& p : scan.processes) {
    if (p.uid != w.uid || !std::binary_search(w.pids.begin(), w.pids.end(), p.pid)) continue;
    const std::string file = api_key_file_from_args(p.argv);
    if (file.empty()) continue;
    std::string why;
    if (me != p.uid) {
      why = file + ": not read as root (a key file is read only as the server's user: run as uid " +
            std::to_string(p.uid) + ", or give the key in LLAMA_API_KEY)";
    } else if (auto key = key_from_key_file(proc_root, p.pid, p.uid, file); !key) {
      why = key.error().message;
    } else {
      w.api_key = *key;
      return;
    }
    w.note += (w.note.empty() ? "" : "; ") + ("--api-key-file " + why + ": its API is not read");
    return;
  }
}

Result<Detected> detect(const DetectorOptions& o, std::span<const ProcessGpuMemory> vram) {
  // Container ids are read for the workloads only (one cgroup read per
  // workload instead of one per process).
  proc::ScanOptions so;
  so.read_cgroup = false;
  // A server's API key may be in its environment rather than on its
  // command line (LLAMA_API_KEY, VLLM_API_KEY): those names only.
  so.env_names = runtimes::api_key_env_names();
  std::vector<int> gpu_pids;
  for (const auto& v : vram) gpu_pids.push_back(v.pid);
  std::sort(gpu_pids.begin(), gpu_pids.end());
  auto candidate = [&gpu_pids](const proc::ProcessInfo& p) { return may_be_ai_work(p, gpu_pids); };
  if (!o.full_scan) so.wants_maps = candidate;
  so.wants_env = candidate;  // also in a full scan: never every process's environment
  auto scan = proc::scan_processes(o.proc_root, so);
  if (!scan) return scan.error();
  std::vector<ProbeResult> probes;
  if (o.probe_ports) probes = run_probes(plan_probes(*scan, o.max_probes), o.probe_timeout);
  Detected d{std::move(*scan), {}};
  d.workloads = detect_workloads(d.scan, vram, probes);
  for (auto& w : d.workloads) {
    w.container_id = proc::read_container_id(o.proc_root, w.pid);
    if (!w.is_ai()) continue;
    read_key_file(o.proc_root, d.scan, w);
    bool ollama = w.runtime == "ollama";
    size_t described = 0;
    for (const auto& f : w.model_files) {
      bool is_blob = proc::path_basename(f).starts_with("sha256-");
      if (ollama && is_blob && (w.model.empty() || w.model.starts_with("sha256-"))) {
        std::string name = ollama_model_name_for_blob(f);
        if (!name.empty()) w.model = name;
      }
      if (!o.read_model || described >= 8) continue;
      if (!(f.ends_with(".gguf") || is_blob)) continue;
      ++described;
      auto info = o.read_model(f);
      if (info) {
        w.models.push_back(summarize_model(*info));
        if (!w.estimate && o.estimate_model && !info->is_projector) {
          w.estimate = o.estimate_model(*info, w.context_tokens, w.parallel, w.vram_bytes > 0);
        }
      } else if (!is_blob) {  // blobs include non-GGUF layers (license, template)
        ModelSummary m;
        m.path = f;
        m.error = info.error().message;
        w.models.push_back(std::move(m));
      }
    }
  }
  return d;
}

}  // namespace

ModelSummary summarize_model(const gguf::ModelInfo& info) {
  ModelSummary m;
  m.path = info.path;
  m.file_bytes = info.file_bytes;
  m.architecture = info.architecture;
  m.name = info.name;
  m.file_type_name = info.file_type_name;
  m.parameter_count = info.parameter_count;
  m.weight_bytes = info.weight_bytes;
  m.context_length = info.context_length;
  m.block_count = info.block_count;
  return m;
}

std::string ollama_model_name_for_blob(const std::string& blob_path) {
  fs::path blob(blob_path);
  std::string base = blob.filename().string();
  if (!base.starts_with("sha256-") || blob.parent_path().filename() != "blobs") return {};
  std::string digest = "sha256:" + base.substr(7);
  fs::path manifests = blob.parent_path().parent_path() / "manifests";
  std::error_code ec;
  // Layout (ollama types/model/name.go): manifests/<host>/<namespace>/<model>/<tag>.
  // Bounded walk: a models folder with thousands of files must not stall a scan.
  fs::recursive_directory_iterator it(manifests, fs::directory_options::skip_permission_denied, ec);
  int visited = 0;
  for (; !ec && it != fs::recursive_directory_iterator() && visited < 4096; it.increment(ec), ++visited) {
    if (it.depth() > 4) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || it->file_size(ec) > (1u << 20)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find(digest) == std::string::npos) continue;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.contains("layers") || !j["layers"].is_array()) continue;
    bool model_layer = false;
    for (const auto& l : j["layers"]) {
      if (l.is_object() && l.value("digest", "") == digest &&
          l.value("mediaType", "") == "application/vnd.ollama.image.model") {
        model_layer = true;
      }
    }
    if (!model_layer) continue;
    fs::path rel = fs::relative(it->path(), manifests, ec);
    std::vector<std::string> parts;
    for (const auto& p : rel) parts.push_back(p.string());
    if (parts.size() != 4) continue;
    std::string name = parts[2] + ":" + parts[3];
    bool default_host = parts[0] == "registry.ollama.ai";
    if (!(default_host && parts[1] == "library")) name = parts[1] + "/" + name;
    if (!default_host) name = parts[0] + "/" + name;
    return name;
  }
  return {};
}

bool is_loopback_host(std::string_view host) {
  if (host == "::1" || host == "[::1]") return true;
  in_addr a{};
  const std::string h(host);
  return ::inet_pton(AF_INET, h.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool probe_answers(const ProbeRequest& r, std::chrono::milliseconds timeout) {
  // Probes stay on loopback: the planner only asks for loopback hosts, and
  // this refuses anything else before a socket is opened.
  if (!is_loopback_host(r.host)) return false;
  if (r.path.empty() || r.path[0] != '/' || r.path.find_first_of("\r\n ") != std::string::npos) return false;
  runtimes::HttpOptions http;
  http.connect_timeout = timeout;
  http.read_timeout = timeout;
  http.total_timeout = timeout;
  // A vLLM /metrics page runs to hundreds of KB; more than this is no probe answer.
  http.max_body_bytes = 4ull << 20;
  const std::string host = r.host.find(':') != std::string::npos ? "[" + r.host + "]" : r.host;
  runtimes::HttpClient client(runtimes::BaseUrl{"http", host, r.port}, http);
  auto answer = client.get(r.path, "*/*");
  return answer && answer->status == 200 && answer->body.find(r.expect) != std::string::npos;
}

Result<Detection> AIWorkloadDetector::detect(std::span<const ProcessGpuMemory> vram) {
  auto d = memopt::detect::detect(opts_, vram);
  if (!d) return d.error();
  Detection out;
  out.workloads = std::move(d->workloads);
  out.scan = {static_cast<int>(d->scan.processes.size()), d->scan.denied_processes,
              d->scan.vanished_processes, false};
  return out;
}

Result<std::vector<Workload>> AIWorkloadDetector::detect_active_runtimes(
    std::span<const ProcessGpuMemory> vram) {
  auto d = detect(vram);
  if (!d) return d.error();
  return std::move(d->workloads);
}

std::vector<runtimes::Endpoint> detected_runtime_endpoints(const std::string& proc_root,
                                                           bool probe_ports) {
  DetectorOptions o;
  o.proc_root = proc_root;
  o.full_scan = false;
  o.probe_ports = probe_ports;
  std::vector<runtimes::Endpoint> out;
  auto workloads = AIWorkloadDetector(std::move(o)).detect_active_runtimes();
  // No scan (an unreadable --proc-root) means no detected endpoints: the
  // defaults and explicit endpoints still work, so this is not an error here.
  if (!workloads) return out;
  for (const Workload& w : *workloads) {
    if (!w.is_ai() || w.endpoint.empty()) continue;
    const runtimes::RuntimeDescriptor* d = runtimes::api_runtime(w.runtime, w.flavor);
    if (d == nullptr) continue;
    auto url = runtimes::parse_base_url(w.endpoint, 0);
    if (!url) continue;
    out.push_back(runtimes::Endpoint{d->kind, *url, false, sendable_key(w)});
  }
  return out;
}

}  // namespace memopt::detect

// The platform-free half of the process scanner: the /proc text parsers
// (status, cmdline, maps lines, net/tcp, cgroup) and the path rules (model
// files, shared objects). They take text and return values, so they build and
// run on every system; the scan itself is process_scanner_linux.cc (procfs)
// or process_scanner_win.cc (Toolhelp32 and the process APIs).
#include "proc/process_scanner.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "proc/proc_text.h"

namespace memopt::proc {
namespace {

constexpr size_t kMaxArgs = 4096;
using detail::parse_uint;
using detail::strip_deleted;

std::string ipv4_text(uint32_t host_order_le) {
  // /proc/net/tcp prints the address as the in-memory (network order) word
  // read as a little-endian integer, so byte 0 is the low byte.
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", host_order_le & 0xff, (host_order_le >> 8) & 0xff,
                (host_order_le >> 16) & 0xff, (host_order_le >> 24) & 0xff);
  return buf;
}

std::string ipv6_text(std::string_view hex32) {
  // Four 32-bit words, each printed as a little-endian integer.
  uint8_t bytes[16] = {};
  for (int w = 0; w < 4; ++w) {
    uint32_t word = 0;
    if (!parse_uint(hex32.substr(static_cast<size_t>(w) * 8, 8), word, 16)) return "?";
    for (int b = 0; b < 4; ++b) bytes[w * 4 + b] = static_cast<uint8_t>(word >> (8 * b));
  }
  bool v4mapped = std::all_of(bytes, bytes + 10, [](uint8_t b) { return b == 0; }) &&
                  bytes[10] == 0xff && bytes[11] == 0xff;
  if (v4mapped) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "::ffff:%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
    return buf;
  }
  // The same spelling as the netlink path ("::", "::1", "fe80::1").
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, bytes, text, sizeof(text));
  return text;
}


}  // namespace

// status keys: Name, State, PPid, Uid (real), VmRSS, VmSwap (kB). VmSize is
// absent for kernel threads, which have no address space.
void parse_status(std::string_view text, ProcessInfo& p) {
  bool has_vm = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view val = line.substr(colon + 1);
    while (!val.empty() && (val.front() == ' ' || val.front() == '\t')) val.remove_prefix(1);
    if (key == "Name") {
      // The kernel escapes '\n' and '\\' in Name; keep it printable as is.
      p.comm = std::string(val.substr(0, 64));
    } else if (key == "State") {
      if (!val.empty()) p.state = val.front();
    } else if (key == "PPid") {
      uint32_t ppid = 0;  // unsigned parse: a "-5" in a hostile tree stays 0
      if (parse_uint(val, ppid) && ppid <= 0x3fffffff) p.ppid = static_cast<int>(ppid);
    } else if (key == "Uid") {
      parse_uint(val, p.uid);
    } else if (key == "VmSize") {
      has_vm = true;
    } else if (key == "VmRSS") {
      uint64_t kb = 0;
      if (parse_uint(val, kb)) p.rss_bytes = kb * 1024;
    } else if (key == "VmSwap") {
      uint64_t kb = 0;
      if (parse_uint(val, kb)) p.swap_bytes = kb * 1024;
    }
  }
  p.kernel_thread = !has_vm && p.state != 'Z';
}

void parse_cmdline(std::string_view text, std::vector<std::string>& argv) {
  argv.clear();
  while (!text.empty() && argv.size() < kMaxArgs) {
    size_t z = text.find('\0');
    argv.emplace_back(text.substr(0, z));
    if (z == std::string_view::npos) break;
    text.remove_prefix(z + 1);
  }
  // A process that rewrote its title (setproctitle) may leave one string with
  // spaces and trailing NULs; drop empty tails so argv[0] stays meaningful.
  while (!argv.empty() && argv.back().empty()) argv.pop_back();
}

std::vector<std::pair<std::string, std::string>> pick_environ(std::string_view text,
                                                              std::span<const std::string> names,
                                                              bool cut) {
  std::vector<std::optional<std::string>> found(names.size());
  while (!text.empty()) {
    const size_t z = text.find('\0');
    if (z == std::string_view::npos && cut) break;
    const std::string_view entry = text.substr(0, z);
    const size_t eq = entry.find('=');
    if (eq != std::string_view::npos) {
      for (size_t i = 0; i < names.size(); ++i) {
        if (!found[i] && entry.substr(0, eq) == names[i]) {
          found[i] = std::string(entry.substr(eq + 1));
        }
      }
    }
    if (z == std::string_view::npos) break;
    text.remove_prefix(z + 1);
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (found[i]) out.emplace_back(names[i], std::move(*found[i]));
  }
  return out;
}

std::string_view maps_line_path(std::string_view line) {
  // The path starts at the first '/' after the five fixed fields.
  int fields = 0;
  size_t i = 0;
  while (i < line.size() && fields < 5) {
    while (i < line.size() && line[i] != ' ') ++i;
    while (i < line.size() && line[i] == ' ') ++i;
    ++fields;
  }
  if (i >= line.size() || line[i] != '/') return {};
  return strip_deleted(line.substr(i));
}

std::string_view path_basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_python_path(std::string_view path) { return path_basename(path).starts_with("python"); }

bool is_shared_object_path(std::string_view path) {
  std::string_view base = strip_deleted(path_basename(path));
  size_t pos = base.find(".so");
  while (pos != std::string_view::npos) {
    size_t after = pos + 3;
    if (after == base.size() || base[after] == '.') return true;
    pos = base.find(".so", after);
  }
  return false;
}

bool is_model_file_path(std::string_view path) {
  path = strip_deleted(path);
  std::string_view base = path_basename(path);
  auto ends = [&](std::string_view ext) {
    if (base.size() <= ext.size()) return false;
    std::string_view tail = base.substr(base.size() - ext.size());
    return std::equal(tail.begin(), tail.end(), ext.begin(), ext.end(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  };
  if (ends(".gguf") || ends(".safetensors") || ends(".onnx")) return true;
  // Ollama stores every layer as models/blobs/sha256-<hex>; the big ones are
  // the GGUF weights (ollama server/images.go layout).
  if (base.starts_with("sha256-") && path.find("/blobs/") != std::string_view::npos) return true;
  if (!(ends(".pt") || ends(".pth") || ends(".ckpt") || ends(".bin"))) return false;
  // Generic extensions count only inside a folder that holds models, so that
  // e.g. /usr/lib/firmware/*.bin or a random .pt never looks like a model.
  static constexpr std::string_view kModelDirs[] = {
      "/models/",      "/model/",       "/checkpoints/", "/huggingface/", "/hub/models--",
      "/.cache/whisper/", "/Stable-diffusion/", "/diffusion_models/", "/loras/", "/Lora/",
      "/unet/",        "/vae/",         "/whisper/",     "/snapshots/"};
  for (std::string_view dir : kModelDirs) {
    if (path.find(dir) != std::string_view::npos) return true;
  }
  return false;
}

std::string container_id_from_cgroup(std::string_view text) {
  // Container runtimes put a 64-hex id in the cgroup path: /docker/<id>,
  // docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>, libpod-<id>,
  // kubepods/.../<id>. Take the last such run on any line.
  std::string found;
  size_t run = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    bool hex = i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])) &&
               !std::isupper(static_cast<unsigned char>(text[i]));
    if (hex) {
      ++run;
      continue;
    }
    if (run == 64) found = std::string(text.substr(i - 64, 64));
    run = 0;
  }
  return found;
}

std::vector<std::pair<uint64_t, ListeningSocket>> parse_listening_sockets(std::string_view text,
                                                                          bool ipv6) {
  std::vector<std::pair<uint64_t, ListeningSocket>> out;
  bool header = true;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (header) {  // first line names the columns
      header = false;
      continue;
    }
    // Fields: sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ...
    std::string_view f[10];
    int n = 0;
    size_t i = 0;
    while (n < 10) {
      while (i < line.size() && line[i] == ' ') ++i;
      size_t s = i;
      while (i < line.size() && line[i] != ' ') ++i;
      if (s == i) break;
      f[n++] = line.substr(s, i - s);
    }
    if (n < 10 || f[3] != "0A") continue;  // 0A = TCP_LISTEN
    size_t colon = f[1].find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view addr = f[1].substr(0, colon);
    uint32_t port = 0;
    uint64_t inode = 0;
    if (!parse_uint(f[1].substr(colon + 1), port, 16) || port > 65535) continue;
    if (!parse_uint(f[9], inode) || inode == 0) continue;
    ListeningSocket s;
    s.port = static_cast<uint16_t>(port);
    s.ipv6 = ipv6;
    if (!ipv6) {
      uint32_t a = 0;
      if (addr.size() != 8 || !parse_uint(addr, a, 16)) continue;
      s.address = ipv4_text(a);
    } else {
      if (addr.size() != 32) continue;
      s.address = ipv6_text(addr);
    }
    out.emplace_back(inode, std::move(s));
  }
  return out;
}

}  // namespace memopt::proc

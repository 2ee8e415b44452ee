// Fuzzes the /proc text parsers of src/proc/ (status, cmdline, maps lines,
// net/tcp and tcp6, cgroup, and the path classifiers the maps and fd walks
// use): any process can write what these files show (its title, its mapped
// paths, its cgroup name), so every input must parse or be skipped without
// a crash, an overflow or an unbounded allocation, and what comes out must
// keep the invariants the detector relies on.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proc/process_scanner.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memopt::proc;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  ProcessInfo p;
  parse_status(text, p);
  check(p.ppid >= 0 && p.ppid <= 0x3fffffff);
  check(p.comm.size() <= 64);

  std::vector<std::string> argv;
  parse_cmdline(text, argv);
  size_t arg_bytes = 0;
  for (const auto& a : argv) arg_bytes += a.size();
  check(argv.size() <= 4096 && arg_bytes <= size);
  check(argv.empty() || !argv.back().empty());

  // environ: only the names asked, each once, values no longer than the text.
  static const std::string kNames[] = {"LLAMA_API_KEY", "VLLM_API_KEY", "A"};
  for (bool cut : {false, true}) {
    const auto env = pick_environ(text, kNames, cut);
    check(env.size() <= 3);
    for (size_t i = 0; i < env.size(); ++i) {
      check(env[i].second.size() < size);
      check(i == 0 || env[i].first != env[i - 1].first);
    }
  }

  // maps, one line at a time as the scanner streams it.
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    std::string_view path = maps_line_path(line);
    if (path.empty()) continue;
    check(path.front() == '/');
    check(path.data() >= line.data() && path.data() + path.size() <= line.data() + line.size());
    (void)is_shared_object_path(path);
    (void)is_model_file_path(path);
    check(path_basename(path).size() <= path.size());
  }

  for (bool v6 : {false, true}) {
    for (const auto& [inode, sock] : parse_listening_sockets(text, v6)) {
      check(inode != 0 && !sock.address.empty() && sock.ipv6 == v6);
    }
  }

  std::string id = container_id_from_cgroup(text);
  check(id.empty() || id.size() == 64);
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    check(std::isxdigit(u) && !std::isupper(u));
  }
  return 0;
}

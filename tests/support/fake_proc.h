#pragma once
// FakeProc: builds a procfs-shaped fixture tree in a temporary directory
// (status, cmdline, exe/cwd links, cgroup, maps, fd/ links, net/tcp) so the
// scanner and the detector can be tested on every runtime's signature
// without running it. The tree is removed when the object dies.
#include <cstdint>
#include <string>
#include <vector>

namespace memopt::testing {

struct FakeProcess {
  int pid = 0;
  int ppid = 1;
  uint32_t uid = 1000;
  char state = 'S';
  std::string comm;
  std::vector<std::string> argv;
  std::vector<std::string> environment;  // "NAME=VALUE" entries; none: no environ file
  std::string exe;  // empty: no exe link (kernel thread / denied)
  std::string cwd;
  uint64_t rss_kb = 1024;
  uint64_t swap_kb = 0;
  std::string cgroup = "0::/user.slice/user-1000.slice/session-1.scope\n";
  std::vector<std::string> mapped;     // paths written into maps
  std::vector<std::string> open_files; // fd link targets ("socket:[N]" allowed)
  bool kernel_thread = false;
};

struct FakeListener {
  std::string hex_address;  // as in /proc/net/tcp, e.g. "0100007F" or 32 hex for tcp6
  uint16_t port = 0;
  uint64_t inode = 0;
  bool ipv6 = false;
};

class FakeProc {
 public:
  FakeProc();
  ~FakeProc();
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  const std::string& root() const { return root_; }
  void add(const FakeProcess& p);
  void add_listener(const FakeListener& l);
  // Writes net/tcp and net/tcp6 from the listeners added so far.
  void write_net();
  // Removes a pid directory (a process that exits).
  void remove(int pid);
  // Writes an arbitrary file under the root (meminfo, a hostile maps...).
  void write_file(const std::string& relative, const std::string& content);

 private:
  std::string root_;
  std::vector<FakeListener> listeners_;
};

}  // namespace memopt::testing

#include "support/fake_proc.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace memopt::testing {
namespace fs = std::filesystem;

FakeProc::FakeProc() {
  std::string tmpl = (fs::temp_directory_path() / "memopt-fakeproc-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
  fs::create_directories(root_ + "/net");
  write_net();
}

FakeProc::~FakeProc() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

void FakeProc::write_file(const std::string& relative, const std::string& content) {
  fs::path p = fs::path(root_) / relative;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

void FakeProc::add(const FakeProcess& p) {
  std::string dir = std::to_string(p.pid);
  fs::create_directories(fs::path(root_) / dir);
  std::string status = "Name:\t" + p.comm + "\nUmask:\t0022\nState:\t" + std::string(1, p.state) +
                       " (x)\nTgid:\t" + std::to_string(p.pid) + "\nPid:\t" + std::to_string(p.pid) +
                       "\nPPid:\t" + std::to_string(p.ppid) + "\nUid:\t" + std::to_string(p.uid) + "\t" +
                       std::to_string(p.uid) + "\t" + std::to_string(p.uid) + "\t" +
                       std::to_string(p.uid) + "\n";
  if (!p.kernel_thread && p.state != 'Z') {
    status += "VmSize:\t  123456 kB\nVmRSS:\t  " + std::to_string(p.rss_kb) + " kB\nVmSwap:\t  " +
              std::to_string(p.swap_kb) + " kB\n";
  }
  status += "Threads:\t1\n";
  write_file(dir + "/status", status);
  std::string cmdline;
  for (const auto& a : p.argv) cmdline += a + std::string(1, '\0');
  write_file(dir + "/cmdline", cmdline);
  if (!p.environment.empty()) {
    std::string env;
    for (const auto& e : p.environment) env += e + std::string(1, '\0');
    write_file(dir + "/environ", env);
  }
  write_file(dir + "/cgroup", p.cgroup);
  std::string maps;
  unsigned long addr = 0x400000;
  for (const auto& m : p.mapped) {
    char line[128];
    for (const char* perms : {"r--p", "r-xp"}) {
      std::snprintf(line, sizeof(line), "%08lx-%08lx %s 00000000 08:01 1234567                    ",
                    addr, addr + 0x1000, perms);
      maps += line + m + "\n";
      addr += 0x1000;
    }
  }
  maps += "7ffd0000-7ffd1000 rw-p 00000000 00:00 0                          [stack]\n";
  write_file(dir + "/maps", maps);
  fs::create_directories(fs::path(root_) / dir / "fd");
  int n = 3;  // 0-2 are stdio, which the scanner does not inspect
  for (const auto& f : p.open_files) {
    fs::create_symlink(f, fs::path(root_) / dir / "fd" / std::to_string(n++));
  }
  if (!p.exe.empty()) fs::create_symlink(p.exe, fs::path(root_) / dir / "exe");
  if (!p.cwd.empty()) fs::create_symlink(p.cwd, fs::path(root_) / dir / "cwd");
}

void FakeProc::add_listener(const FakeListener& l) { listeners_.push_back(l); }

void FakeProc::write_net() {
  std::string tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
      "inode\n";
  std::string tcp6 = tcp;
  int sl = 0;
  for (const auto& l : listeners_) {
    char port[8];
    std::snprintf(port, sizeof(port), "%04X", l.port);
    std::string zero = l.ipv6 ? std::string(32, '0') : std::string(8, '0');
    std::string line = "   " + std::to_string(sl++) + ": " + l.hex_address + ":" + port + " " + zero +
                       ":0000 0A 00000000:00000000 00:00000000 00000000  1000        0 " +
                       std::to_string(l.inode) + " 1 0000000000000000 100 0 0 10 0\n";
    (l.ipv6 ? tcp6 : tcp) += line;
  }
  write_file("net/tcp", tcp);
  write_file("net/tcp6", tcp6);
}

void FakeProc::remove(int pid) {
  std::error_code ec;
  fs::remove_all(fs::path(root_) / std::to_string(pid), ec);
}

}  // namespace memopt::testing

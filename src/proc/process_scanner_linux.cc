// One pass over procfs. Every read is bounded (a hostile or huge file is
// truncated, never slurped), every open is relative to the pid directory so a
// pid reused mid-scan cannot mix two processes' files, and ENOENT/ESRCH mean
// "the process exited": skipped without noise.
// The platform-free parsers it uses are in process_scanner.cc.
#include "proc/process_scanner.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <unordered_map>
#include <thread>
#include <unordered_set>

#include "proc/proc_text.h"

namespace memopt::proc {
namespace {

// Caps on what one file may cost (why: a process can make its cmdline or its
// maps arbitrarily large; a scan must stay cheap and bounded in memory).
constexpr size_t kStatusCap = 64 * 1024;
constexpr size_t kCmdlineCap = 128 * 1024;
constexpr size_t kEnvironCap = 256 * 1024;
constexpr size_t kCgroupCap = 16 * 1024;
constexpr size_t kMapsCap = 64ull * 1024 * 1024;
constexpr size_t kNetTcpCap = 64ull * 1024 * 1024;
constexpr size_t kMaxLibraries = 8192;
constexpr size_t kMaxFds = 1u << 20;
using detail::parse_uint;
using detail::strip_deleted;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

bool is_gone(int err) { return err == ENOENT || err == ESRCH || err == ENOTDIR; }
bool is_denied(int err) { return err == EACCES || err == EPERM; }

// status, cmdline and cgroup are generated whole on the first read
// (single_open seq_files; cmdline copies all of argv), so a read that comes
// back short has reached the end and the final empty read can be skipped.
// Not so for multi-record seq_files (maps, net/tcp): they hand out about a
// page per read.
enum class ReadKind { kWhole, kRecords };

// Reads at most `cap` bytes of `name` under `dirfd` into `out`. Returns 0 or errno.
int read_file_at(int dirfd, const char* name, size_t cap, std::string& out,
                 ReadKind kind = ReadKind::kRecords) {
  out.clear();
  Fd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.ok()) return errno;
  char buf[16384];
  while (out.size() < cap) {
    size_t want = std::min(sizeof(buf), cap - out.size());
    ssize_t n = ::read(fd.get(), buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out.append(buf, static_cast<size_t>(n));
    if (kind == ReadKind::kWhole && static_cast<size_t>(n) < want) return 0;
  }
  return 0;
}

// readlinkat into a string; returns 0 or errno.
int read_link_at(int dirfd, const char* name, std::string& out) {
  char buf[4096];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof(buf));
  if (n < 0) return errno;
  out.assign(buf, static_cast<size_t>(n));
  return 0;
}


// Dedup set + ordered list, bounded.
class PathSet {
 public:
  PathSet(std::vector<std::string>& out, size_t cap) : out_(out), cap_(cap) {
    seen_.insert(out.begin(), out.end());
  }
  void add(std::string_view path) {
    if (path == last_ || out_.size() >= cap_) return;
    last_ = path;
    if (seen_.emplace(path).second) out_.emplace_back(path);
  }

 private:
  std::vector<std::string>& out_;
  size_t cap_;
  std::string last_;
  std::unordered_set<std::string> seen_;
};

// Streams maps in chunks: a line is "start-end perms offset dev inode   path".
// Returns 0 or errno; sets *truncated when the cap was hit.
int scan_maps(int dirfd, ProcessInfo& p, bool& truncated) {
  Fd fd(::openat(dirfd, "maps", O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return errno;
  PathSet libs(p.libraries, kMaxLibraries);
  PathSet models(p.model_files, kMaxLibraries);
  std::string carry;
  char buf[65536];
  size_t total = 0;
  auto handle_line = [&](std::string_view line) {
    std::string_view path = maps_line_path(line);
    if (path.empty()) return;
    if (is_shared_object_path(path)) {
      libs.add(path);
    } else if (is_model_file_path(path)) {
      models.add(path);
    }
  };
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
    std::string_view chunk(buf, static_cast<size_t>(n));
    if (!carry.empty()) {
      size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        if (carry.size() < 8192) carry.append(chunk);
        continue;
      }
      carry.append(chunk.substr(0, nl));
      handle_line(carry);
      carry.clear();
      chunk.remove_prefix(nl + 1);
    }
    for (;;) {
      size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        carry.assign(chunk.substr(0, std::min<size_t>(chunk.size(), 8192)));
        break;
      }
      handle_line(chunk.substr(0, nl));
      chunk.remove_prefix(nl + 1);
    }
    if (total >= kMapsCap) {
      truncated = true;
      return 0;
    }
  }
  if (!carry.empty()) handle_line(carry);
  return 0;
}

bool is_gpu_device(std::string_view path) {
  return path.starts_with("/dev/nvidia") || path == "/dev/kfd" ||
         path.starts_with("/dev/dri/renderD") || path.starts_with("/dev/dri/card");
}

// Walks fd/: model files, GPU device nodes, socket inodes. Returns 0 or errno.
// getdents64 on the descriptor, not opendir/readdir: every process of the
// machine gets this walk, and fdopendir's fstat and two fcntl calls per
// process were a fifth of a selective scan's system calls.
int scan_fds(int dirfd, ProcessInfo& p, std::vector<uint64_t>& socket_inodes) {
  Fd fdir(::openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fdir.ok()) return errno;
  PathSet models(p.model_files, kMaxLibraries);
  PathSet devices(p.gpu_devices, 256);
  size_t count = 0;
  std::string target;
  alignas(8) char buf[16384];
  for (;;) {
    ssize_t n = ::getdents64(fdir.get(), buf, sizeof(buf));  // glibc >= 2.30
    if (n < 0) {
      if (errno == EINTR) continue;
      // The process exited mid-walk: what was read stands; the caller's
      // status read already counted it as alive.
      return is_gone(errno) ? 0 : errno;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf + off);
      if (e->d_reclen == 0) return 0;  // never from the kernel; guards the loop
      off += e->d_reclen;
      const char* name = e->d_name;
      if (name[0] == '.') continue;
      // Descriptors 0-2 are stdio: a terminal, a pipe, /dev/null or a log. A
      // listening socket handed over by systemd starts at 3 (sd_listen_fds(3)),
      // and runtimes open models and GPU devices themselves, so stdio is not
      // worth a readlink in every process of the machine.
      if (name[1] == '\0' && name[0] >= '0' && name[0] <= '2') continue;
      if (++count > kMaxFds) break;
      if (read_link_at(fdir.get(), name, target) != 0) continue;  // closed meanwhile
      std::string_view t = target;
      if (t.starts_with("socket:[")) {
        uint64_t inode = 0;
        if (parse_uint(t.substr(8), inode)) socket_inodes.push_back(inode);
      } else if (t.starts_with("/dev/")) {
        if (is_gpu_device(t)) devices.add(t);
      } else if (t.starts_with("/")) {
        t = strip_deleted(t);
        if (is_model_file_path(t)) models.add(t);
      }
    }
    if (count > kMaxFds) break;
  }
  std::sort(p.gpu_devices.begin(), p.gpu_devices.end());  // directory order is arbitrary
  return 0;
}

// NLMSG_OK without its comparison of __u32 with int (a -Wsign-compare
// warning under clang): the same three checks, with len known non-negative.
bool nlmsg_ok(const nlmsghdr* h, int len) {
  return len >= static_cast<int>(sizeof(nlmsghdr)) && h->nlmsg_len >= sizeof(nlmsghdr) &&
         h->nlmsg_len <= static_cast<unsigned>(len);
}

// Listening TCP sockets of this network namespace through sock_diag
// (netlink, linux/inet_diag.h): the kernel filters by state, so this costs
// a few messages instead of formatting every connection in /proc/net/tcp
// (which walks the whole established hash). Used only for the live /proc;
// returns false when netlink is unavailable, and the caller reads the files.
bool listening_sockets_netlink(std::unordered_map<uint64_t, ListeningSocket>& out) {
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_INET_DIAG);
  if (fd < 0) return false;
  Fd guard(fd);
  timeval tv{1, 0};  // never hang a scan on netlink
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  for (int family : {AF_INET, AF_INET6}) {
    struct {
      nlmsghdr nlh;
      inet_diag_req_v2 req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = static_cast<uint8_t>(family);
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = 1u << 10;  // TCP_LISTEN
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::sendto(fd, &msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) return false;
    alignas(nlmsghdr) char buf[32768];
    size_t total = 0;
    bool done = false;
    while (!done && total < kNetTcpCap) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      total += static_cast<size_t>(n);
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); nlmsg_ok(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) return false;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
        const auto* d = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        if (d->idiag_state != 10 || d->idiag_inode == 0) continue;
        ListeningSocket sock;
        sock.port = ntohs(d->id.idiag_sport);
        sock.ipv6 = d->idiag_family == AF_INET6;
        char text[INET6_ADDRSTRLEN] = {};
        ::inet_ntop(d->idiag_family, d->id.idiag_src, text, sizeof(text));
        sock.address = text;
        out.emplace(d->idiag_inode, std::move(sock));
      }
    }
  }
  return true;
}

}  // namespace

namespace {

// Reads one process into `out` (or counts it as vanished/denied).
void scan_one(int root_fd, int pid, const ScanOptions& opts,
              const std::unordered_map<uint64_t, ListeningSocket>& listeners, std::string& text,
              std::vector<uint64_t>& inodes, ScanResult& out) {
  char name[16];
  std::snprintf(name, sizeof(name), "%d", pid);
  Fd pdir(::openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!pdir.ok()) {
    ++out.vanished_processes;
    return;
  }
  ProcessInfo p;
  p.pid = pid;
  int err = read_file_at(pdir.get(), "status", kStatusCap, text, ReadKind::kWhole);
  if (err != 0 || text.empty()) {
    ++out.vanished_processes;
    return;
  }
  parse_status(text, p);
  if (p.kernel_thread || p.state == 'Z') {
    // Kernel threads and zombies have no address space, files or cmdline.
    out.processes.push_back(std::move(p));
    return;
  }
  if (read_file_at(pdir.get(), "cmdline", kCmdlineCap, text, ReadKind::kWhole) == 0) parse_cmdline(text, p.argv);
  read_link_at(pdir.get(), "exe", p.exe);
  p.exe = std::string(strip_deleted(p.exe));
  // The working directory only tells something about interpreted apps
  // (`python main.py` run from its ComfyUI folder); not worth a readlink
  // for every other process.
  if (opts.read_cwd == CwdPolicy::kAll ||
      (opts.read_cwd == CwdPolicy::kInterpreters &&
       (is_python_path(p.exe) || (!p.argv.empty() && is_python_path(p.argv[0]))))) {
    read_link_at(pdir.get(), "cwd", p.cwd);
  }
  if (opts.read_cgroup && read_file_at(pdir.get(), "cgroup", kCgroupCap, text, ReadKind::kWhole) == 0) {
    p.container_id = container_id_from_cgroup(text);
  }
  bool vanished = false;
  if (opts.read_fds) {
    inodes.clear();
    err = scan_fds(pdir.get(), p, inodes);
    if (is_denied(err)) p.details_denied = true;
    else if (is_gone(err)) vanished = true;
    for (uint64_t inode : inodes) {
      auto it = listeners.find(inode);
      if (it != listeners.end()) p.listening.push_back(it->second);
    }
  }
  // fds first: what they hold (a model file, a GPU device, a listening
  // socket) is part of what wants_maps decides on.
  if (opts.read_maps && !vanished && (!opts.wants_maps || opts.wants_maps(p))) {
    bool truncated = false;
    err = scan_maps(pdir.get(), p, truncated);
    if (is_denied(err)) p.details_denied = true;
    else if (is_gone(err)) vanished = true;
    if (truncated) {
      out.warnings.push_back("maps of pid " + std::to_string(pid) + " is over " +
                             std::to_string(kMapsCap >> 20) + " MiB; read the first part only");
    }
  }
  // A few named variables of a candidate's environment (a server's API key
  // set there rather than on its command line). Readable by its owner and
  // root only; a denied read just leaves none.
  if (!opts.env_names.empty() && !vanished && (!opts.wants_env || opts.wants_env(p))) {
    if (read_file_at(pdir.get(), "environ", kEnvironCap, text, ReadKind::kWhole) == 0) {
      p.env = pick_environ(text, opts.env_names, text.size() >= kEnvironCap);
    }
  }
  if (vanished) {
    ++out.vanished_processes;
    return;
  }
  if (p.details_denied) ++out.denied_processes;
  out.processes.push_back(std::move(p));
}

}  // namespace

std::string read_container_id(const std::string& proc_root, int pid) {
  Fd root(::open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.ok()) return {};
  std::string text;
  std::string rel = std::to_string(pid) + "/cgroup";
  if (read_file_at(root.get(), rel.c_str(), kCgroupCap, text) != 0) return {};
  return container_id_from_cgroup(text);
}

Result<std::vector<std::string>> read_process_key_file(const std::string& proc_root, int pid,
                                                       uint32_t owner_uid,
                                                       std::string_view path) {
  constexpr size_t kKeyFileCap = 64 * 1024;
  const std::string shown(path);
  if (path.empty()) return make_error("an empty key file path");
  const std::string full = proc_root + "/" + std::to_string(pid) +
                           (path.front() == '/' ? "/root" : "/cwd/") + shown;
  // O_PATH first: nothing is opened for reading (a device's open has effects
  // of its own: a watchdog, a tape) until it is known to be a regular file
  // of the right user.
  Fd where(::open(full.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!where.ok()) return make_error(shown + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(where.get(), &st) != 0) return make_error(shown + ": " + std::strerror(errno));
  if (S_ISLNK(st.st_mode)) return make_error(shown + ": a symbolic link (not followed)");
  if (!S_ISREG(st.st_mode)) return make_error(shown + ": not a regular file");
  if (st.st_uid != owner_uid) {
    return make_error(shown + ": owned by uid " + std::to_string(st.st_uid) +
                      ", not by the server's user (uid " + std::to_string(owner_uid) + ")");
  }
  if (static_cast<uint64_t>(st.st_size) > kKeyFileCap) {
    return make_error(shown + ": over " + std::to_string(kKeyFileCap >> 10) + " KiB");
  }
  // The same file, now for reading (the permission check is this user's).
  const std::string again = "/proc/self/fd/" + std::to_string(where.get());
  std::string text;
  if (const int err = read_file_at(AT_FDCWD, again.c_str(), kKeyFileCap + 1, text); err != 0) {
    return make_error(shown + ": " + std::strerror(err));
  }
  if (text.size() > kKeyFileCap) {
    return make_error(shown + ": over " + std::to_string(kKeyFileCap >> 10) + " KiB");
  }
  std::vector<std::string> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    if (nl != 0) lines.emplace_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (lines.empty()) return make_error(shown + ": holds no key");
  return lines;
}

Result<ScanResult> scan_processes(const std::string& proc_root, const ScanOptions& opts) {
  Fd root(::open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.ok()) {
    return make_error("cannot open process directory " + proc_root + ": " + std::strerror(errno) +
                      " (is procfs mounted? pass --proc-root)");
  }
  // Listening sockets of this network namespace, by inode.
  std::unordered_map<uint64_t, ListeningSocket> listeners;
  // The live system: netlink; a fixture tree (or netlink refused): the files.
  bool live = proc_root == "/proc" || proc_root == "/proc/";
  if (!(live && listening_sockets_netlink(listeners))) {
    listeners.clear();
    for (auto [name, v6] : {std::pair{"net/tcp", false}, std::pair{"net/tcp6", true}}) {
      std::string text;
      if (read_file_at(root.get(), name, kNetTcpCap, text) == 0) {
        for (auto& [inode, s] : parse_listening_sockets(text, v6)) listeners.emplace(inode, std::move(s));
      }
    }
  }

  int dup_fd = ::dup(root.get());
  if (dup_fd < 0) return make_error("cannot read " + proc_root + ": " + std::strerror(errno));
  DIR* dir = ::fdopendir(dup_fd);
  if (!dir) {
    ::close(dup_fd);
    return make_error("cannot list " + proc_root + ": " + std::strerror(errno));
  }
  std::vector<int> pids;
  while (dirent* e = ::readdir(dir)) {
    int pid = 0;
    std::string_view name(e->d_name);
    auto [p_end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || p_end != name.data() + name.size() || pid <= 0) continue;
    pids.push_back(pid);
  }
  ::closedir(dir);

  // Reading a process costs kernel time (maps and fd links are generated on
  // each read), so the pids are shared among a few threads; each keeps its
  // own result, merged at the end.
  size_t n_threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  if (pids.size() < 64) n_threads = 1;
  std::vector<ScanResult> partial(n_threads);
  std::atomic<size_t> next{0};
  auto worker = [&](ScanResult& out) {
    std::string text;
    std::vector<uint64_t> inodes;
    for (;;) {
      size_t i = next.fetch_add(16);
      if (i >= pids.size()) return;
      for (size_t j = i; j < std::min(i + 16, pids.size()); ++j) {
        scan_one(root.get(), pids[j], opts, listeners, text, inodes, out);
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n_threads; ++t) threads.emplace_back(worker, std::ref(partial[t]));
  worker(partial[0]);
  for (auto& t : threads) t.join();
  ScanResult result;
  for (auto& part : partial) {
    result.denied_processes += part.denied_processes;
    result.vanished_processes += part.vanished_processes;
    for (auto& w : part.warnings) result.warnings.push_back(std::move(w));
    for (auto& p : part.processes) result.processes.push_back(std::move(p));
  }
  std::sort(result.processes.begin(), result.processes.end(),
            [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
  return result;
}

Platform this_platform() { return Platform::kLinux; }

}  // namespace memopt::proc

#include "serve/backend.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "proc/process_scanner.h"
#include "util/fs_read.h"

namespace memopt::serve {

Result<int> free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket(): ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    return make_error("no free loopback port: " + why);
  }
  close(fd);
  return static_cast<int>(ntohs(a.sin_port));
}

std::vector<std::string> substitute_port(const std::vector<std::string> &argv, int port) {
  std::vector<std::string> out = argv;
  const std::string p = std::to_string(port);
  for (auto &a : out) {
    for (size_t at = a.find("${PORT}"); at != std::string::npos; at = a.find("${PORT}", at)) {
      a.replace(at, 7, p);
      at += p.size();
    }
  }
  return out;
}

Result<std::string> resolve_program(const std::string &program, const std::string &path_env) {
  if (program.find('/') != std::string::npos) {
    if (access(program.c_str(), X_OK) != 0) {
      return make_error(program + ": not an executable file (" + std::strerror(errno) + ")");
    }
    return program;
  }
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    std::string dir = path_env.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + program;
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return make_error(program + ": not found on PATH (give its full path in command)");
}

Result<std::string> resolve_program(const std::string &program) {
  const char *path_env = getenv("PATH");
  return resolve_program(program, path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
}

Result<BackendProcess> BackendProcess::start(const std::vector<std::string> &argv,
                                             const std::string &log_path) {
  if (argv.empty()) return make_error("empty command");
  auto exe = resolve_program(argv[0]);
  if (!exe) return exe.error();
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (log < 0)
    return make_error(log_path + ": cannot open the backend log: " + std::strerror(errno));
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  // Everything the child needs is built before fork: after it only
  // async-signal-safe calls are allowed (the gateway is multi-threaded).
  std::vector<char *> args;
  for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    const std::string why = std::strerror(errno);
    close(log);
    if (devnull >= 0) close(devnull);
    return make_error("fork: " + why);
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the gateway died before prctl
    if (devnull >= 0) dup2(devnull, 0);
    dup2(log, 1);
    dup2(log, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(exe->c_str(), args.data());
    const char msg[] = "ruvector-memopt serve: exec failed\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  close(log);
  if (devnull >= 0) close(devnull);
  setpgid(pid,
          pid);  // also from the parent, so stop() never races the child's own call
  BackendProcess p;
  p.pid_ = pid;
  return p;
}

bool BackendProcess::exited() {
  if (reaped_) return true;
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return false;
  reaped_ = true;
  if (r < 0) {
    exit_status_ = "gone";
  } else if (WIFEXITED(status)) {
    exit_status_ = "exit " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    exit_status_ = "signal " + std::to_string(WTERMSIG(status));
  }
  return true;
}

void BackendProcess::stop(std::chrono::milliseconds grace) {
  if (exited()) return;
  kill(-pid_, SIGTERM);
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!exited()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      reaped_ = true;
      exit_status_ = "killed after " + std::to_string(grace.count()) + " ms";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string log_tail(const std::string &path, size_t max_lines) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "";
  struct stat st {};
  fstat(fd, &st);
  constexpr off_t kTail = 4096;
  const off_t from = st.st_size > kTail ? st.st_size - kTail : 0;
  std::string buf(static_cast<size_t>(st.st_size - from), '\0');
  ssize_t n = pread(fd, buf.data(), buf.size(), from);
  close(fd);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!buf.empty() && (buf.back() == '\n' || buf.back() == '\r')) buf.pop_back();
  size_t lines = 0, at = buf.size();
  while (at > 0) {
    if (buf[at - 1] == '\n' && ++lines == max_lines) break;
    --at;
  }
  return buf.substr(at);
}

std::optional<uint64_t> process_rss_bytes(const std::string &proc_root, pid_t pid) {
  auto text = read_small_file(proc_root + "/" + std::to_string(pid) + "/status");
  if (!text) return std::nullopt;
  proc::ProcessInfo p;
  parse_status(*text, p);
  if (p.state == 'Z') return std::nullopt;  // exited, memory already returned
  return p.rss_bytes;
}

}  // namespace memopt::serve

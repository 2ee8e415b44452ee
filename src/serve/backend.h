#pragma once
// A backend server the gateway starts: argv run without a shell (fork +
// execv of a path resolved before the fork), ${PORT} replaced by a free
// loopback port, stdout and stderr appended to a per-model log, its own
// process group, and SIGTERM to it should the gateway die (PR_SET_PDEATHSIG).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace memopt::serve {

// A loopback TCP port free right now (bound to port 0, then closed).
Result<int> free_loopback_port();

// `argv` with every "${PORT}" replaced.
std::vector<std::string> substitute_port(const std::vector<std::string> &argv, int port);

// The program's path: as given when it holds a '/', else the first
// executable match on PATH.
Result<std::string> resolve_program(const std::string &program, const std::string &path_env);
// The same on this process's PATH (/usr/local/bin:/usr/bin:/bin when unset).
Result<std::string> resolve_program(const std::string &program);

class BackendProcess {
 public:
  // Starts argv[0] with the arguments; output appended to `log_path` (0600).
  static Result<BackendProcess> start(const std::vector<std::string> &argv,
                                      const std::string &log_path);
  BackendProcess() = default;

  pid_t pid() const { return pid_; }
  // Non-blocking: true once the process has exited (and was reaped); the
  // status then says how ("exit 1", "signal 9").
  bool exited();
  const std::string &exit_status() const { return exit_status_; }
  // SIGTERM to the process group, SIGKILL after `grace`; returns once reaped.
  void stop(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string exit_status_;
};

// The last `max_lines` lines of a log (bounded read of its end).
std::string log_tail(const std::string &path, size_t max_lines = 5);

// Resident memory of a live process from /proc/<pid>/status; nullopt when gone.
std::optional<uint64_t> process_rss_bytes(const std::string &proc_root, pid_t pid);

}  // namespace memopt::serve

#pragma once
// ProcessScanner: one pass over a procfs tree (the root is a parameter) that
// collects what the AI Workload Detector needs about every process: identity,
// command line, memory, container, mapped shared objects, open model files,
// GPU device files and listening TCP sockets. Processes that vanish mid-read
// are skipped; processes whose details are denied (other users') are counted.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace memopt::proc {

struct ListeningSocket {
  std::string address;  // "127.0.0.1", "0.0.0.0", "::", "::1", ...
  uint16_t port = 0;
  bool ipv6 = false;
};

struct ProcessInfo {
  int pid = 0;
  int ppid = 0;
  uint32_t uid = 0;
  char state = '?';  // R, S, D, Z, T, ... from status
  std::string comm;  // kernel name, at most 15 characters
  std::string exe;   // target of exe; empty when unreadable or a kernel thread
  std::string cwd;   // target of cwd; empty when unreadable
  std::vector<std::string> argv;
  uint64_t rss_bytes = 0;
  uint64_t swap_bytes = 0;
  uint64_t private_bytes = 0;  // Windows: private commit (PrivateUsage); 0 on Linux
  std::string container_id;              // 64-hex id from cgroup; empty on the host
  std::vector<std::string> libraries;    // mapped shared objects (paths), deduplicated
  std::vector<std::string> model_files;  // open or mapped model files, deduplicated
  std::vector<std::string> gpu_devices;  // open /dev/nvidia*, /dev/kfd, /dev/dri/renderD*
  std::vector<ListeningSocket> listening;
  // The variables of ScanOptions::env_names its environment holds, (name,
  // value) in the order asked: read only for processes wants_env accepts
  // and only where this user may read /proc/PID/environ (the owner, root).
  // Empty on Windows (another process's environment is not read there).
  std::vector<std::pair<std::string, std::string>> env;
  bool kernel_thread = false;
  bool details_denied = false;  // maps or fd could not be read (permission)
};

enum class CwdPolicy { kNone, kInterpreters, kAll };

struct ScanOptions {
  bool read_maps = true;
  bool read_fds = true;
  bool read_cgroup = true;  // off: fill container ids later with read_container_id()
  // Whose working directory to read: kInterpreters (python*) by default, as
  // it only identifies interpreted apps (`python main.py` in ComfyUI/).
  CwdPolicy read_cwd = CwdPolicy::kInterpreters;
  // Asked after the cheap reads (status, cmdline, exe, cwd and, when
  // read_fds, the fds with their model files, GPU devices and listening
  // sockets): is this process's maps worth reading? Unset: every process's.
  // maps is the costliest file of an idle process (the kernel formats every
  // mapping), so a caller that only needs AI candidates filters here.
  std::function<bool(const ProcessInfo&)> wants_maps;
  // Environment variables to keep (a server's API key:
  // runtimes::RuntimeDescriptor::api_key_env); no other value is kept. Empty:
  // no environment is read. Read only of the processes wants_env accepts
  // (unset: every process's).
  std::vector<std::string> env_names;
  std::function<bool(const ProcessInfo&)> wants_env;
};

struct ScanResult {
  std::vector<ProcessInfo> processes;  // ascending pid
  int denied_processes = 0;            // other users' processes whose maps/fds were denied
  int vanished_processes = 0;          // exited between listing and reading
  std::vector<std::string> warnings;   // e.g. a truncated maps file
};

// Scans `proc_root` (normally "/proc"). Fails only when the root itself
// cannot be listed.
Result<ScanResult> scan_processes(const std::string& proc_root, const ScanOptions& opts = {});

// The container id of one process ("" on the host or when it is gone).
std::string read_container_id(const std::string& proc_root, int pid);
// The non-empty lines of the file `path` names for process `pid` (relative
// to its working directory; an absolute one inside its root: /proc/PID/cwd,
// /proc/PID/root), as a server reads its key file (llama-server
// --api-key-file: one key a line). Only a regular file owned by
// `owner_uid` (the process's user), reached without a link as its last
// part, of at most 64 KiB; nothing else is opened for reading. The path is
// resolved with this process's rights: the caller reads it only as the
// server's own user (detect's read_key_file), never as root for another
// user. An error naming the file and why otherwise. Windows: an error
// (another process's files are not read).
Result<std::vector<std::string>> read_process_key_file(const std::string& proc_root, int pid,
                                                       uint32_t owner_uid,
                                                       std::string_view path);

// Which system's collectors this build has (process_scanner_<system>.cc):
// what the layers above may say about the platform, never #ifdef.
enum class Platform { kLinux, kWindows };
Platform this_platform();

// True for files that hold model weights: .gguf, .safetensors, .onnx anywhere;
// .pt/.pth/.ckpt/.bin only under a model folder (models, checkpoints, a
// Hugging Face cache, ...); Ollama blobs (".../models/blobs/sha256-...").
bool is_model_file_path(std::string_view path);

// True when the basename of `path` names a shared object ("libx.so",
// "libx.so.1.2", "x.cpython-311-x86_64-linux-gnu.so", "libc-2.31.so").
bool is_shared_object_path(std::string_view path);

// The container id in the text of /proc/PID/cgroup (docker, containerd,
// CRI-O, podman, kubepods), or "" when the process runs on the host.
std::string container_id_from_cgroup(std::string_view cgroup_text);

// Parses /proc/net/tcp or tcp6 text; returns the LISTEN sockets with their
// inodes (pairs of inode and socket).
std::vector<std::pair<uint64_t, ListeningSocket>> parse_listening_sockets(std::string_view text,
                                                                          bool ipv6);

// The /proc text parsers, exposed for the fuzz target and tests.
// status: Name, State, PPid, Uid, VmRSS, VmSwap (and kernel_thread).
void parse_status(std::string_view status_text, ProcessInfo& p);
// cmdline: NUL-separated argv, at most 4096 arguments, empty tails dropped.
void parse_cmdline(std::string_view cmdline_text, std::vector<std::string>& argv);
// The `names` among the NUL-separated NAME=VALUE entries of /proc/PID/environ
// text, (name, value) in the order of `names` (the first entry of a name
// when it repeats, as getenv and Python's os.environ take it). `cut`: the
// text was cut at the read cap, so its last entry (no NUL after it) may be
// partial and is not used.
std::vector<std::pair<std::string, std::string>> pick_environ(std::string_view environ_text,
                                                              std::span<const std::string> names,
                                                              bool cut);
// The path of one maps line ("start-end perms offset dev inode   path"),
// without a " (deleted)" suffix; "" when the mapping is not a file.
std::string_view maps_line_path(std::string_view line);

// The basename of a path ("/a/b/libc.so.6" -> "libc.so.6").
std::string_view path_basename(std::string_view path);
// A Python interpreter (python, python3.12, python.exe): its working
// directory is read (CwdPolicy::kInterpreters).
bool is_python_path(std::string_view path);

}  // namespace memopt::proc

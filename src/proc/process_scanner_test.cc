#include "proc/process_scanner.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "proc/host_memory.h"
#include "support/fake_proc.h"

namespace memopt::proc {
namespace {

using memopt::testing::FakeListener;
using memopt::testing::FakeProc;
using memopt::testing::FakeProcess;

const ProcessInfo* find_pid(const ScanResult& r, int pid) {
  for (const auto& p : r.processes)
    if (p.pid == pid) return &p;
  return nullptr;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(ModelFilePath, RecognisesModelFormatsAndFolders) {
  EXPECT_TRUE(is_model_file_path("/home/u/llama.gguf"));
  EXPECT_TRUE(is_model_file_path("/x/model-00001-of-00002.safetensors"));
  EXPECT_TRUE(is_model_file_path("/opt/m/encoder.ONNX"));
  EXPECT_TRUE(is_model_file_path("/home/u/.ollama/models/blobs/sha256-6a0746a1ec1a"));
  EXPECT_TRUE(is_model_file_path("/srv/ComfyUI/models/checkpoints/sd_xl_base_1.0.ckpt"));
  EXPECT_TRUE(is_model_file_path("/root/.cache/whisper/base.pt"));
  EXPECT_TRUE(is_model_file_path("/h/.cache/huggingface/hub/models--gpt2/snapshots/abc/pytorch_model.bin"));
  EXPECT_TRUE(is_model_file_path("/m/llama.gguf (deleted)"));
  // Generic extensions outside a model folder are not models.
  EXPECT_FALSE(is_model_file_path("/usr/lib/firmware/iwlwifi.bin"));
  EXPECT_FALSE(is_model_file_path("/tmp/checkpoint.pt"));
  EXPECT_FALSE(is_model_file_path("/usr/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_FALSE(is_model_file_path(".gguf"));
}

TEST(SharedObjectPath, MatchesVersionedAndPythonExtensions) {
  EXPECT_TRUE(is_shared_object_path("/usr/lib/libc.so.6"));
  EXPECT_TRUE(is_shared_object_path("/x/libonnxruntime.so.1.20.1"));
  EXPECT_TRUE(is_shared_object_path("/x/_C.cpython-311-x86_64-linux-gnu.so"));
  EXPECT_TRUE(is_shared_object_path("/x/libggml-cuda.so"));
  EXPECT_FALSE(is_shared_object_path("/x/model.gguf"));
  EXPECT_FALSE(is_shared_object_path("/x/libfoo.sock"));
  EXPECT_FALSE(is_shared_object_path("/x/data.sorted"));
}

TEST(ContainerId, FromCgroupLayouts) {
  const std::string id(64, 'a');
  const std::string id2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  EXPECT_EQ(container_id_from_cgroup("0::/system.slice/docker-" + id + ".scope\n"), id);
  EXPECT_EQ(container_id_from_cgroup("12:memory:/docker/" + id2 + "\n"), id2);
  EXPECT_EQ(container_id_from_cgroup("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + id2 +
                                     ".scope\n"),
            id2);
  EXPECT_EQ(container_id_from_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n"), "");
  // 65 hex characters is not an id.
  EXPECT_EQ(container_id_from_cgroup("0::/docker/" + id + "a\n"), "");
}

TEST(ListeningSockets, ParsesIpv4AndIpv6ListenRowsOnly) {
  std::string tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 4242 1 0 100 0 0 10 0\n"
      "   1: 0100007F:2CAA 0100007F:D1C2 01 00000000:00000000 00:00000000 00000000   998        0 4243 1 0 100 0 0 10 0\n"
      "   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 77 1 0 100 0 0 10 0\n"
      "garbage line\n"
      "   3: 0100007F:FFFFF 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 78 1 0 100 0 0 10 0\n";
  auto v4 = parse_listening_sockets(tcp, false);
  ASSERT_EQ(v4.size(), 2u);
  EXPECT_EQ(v4[0].first, 4242u);
  EXPECT_EQ(v4[0].second.port, 11434);
  EXPECT_EQ(v4[0].second.address, "127.0.0.1");
  EXPECT_EQ(v4[1].second.port, 8080);
  EXPECT_EQ(v4[1].second.address, "0.0.0.0");
  std::string tcp6 =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:1F40 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 99 1 0 100 0 0 10 0\n"
      "   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 100 1 0 100 0 0 10 0\n";
  auto v6 = parse_listening_sockets(tcp6, true);
  ASSERT_EQ(v6.size(), 2u);
  EXPECT_EQ(v6[0].second.address, "::1");
  EXPECT_EQ(v6[0].second.port, 8000);
  EXPECT_EQ(v6[1].second.address, "::");
  EXPECT_TRUE(v6[1].second.ipv6);
}

TEST(HostMemory, ParsesMeminfo) {
  auto m = parse_meminfo(
      "MemTotal:       16318712 kB\nMemFree:          512000 kB\nMemAvailable:    8000000 kB\n"
      "SwapTotal:       2097148 kB\nSwapFree:        2000000 kB\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->total_bytes, 16318712ull * 1024);
  EXPECT_EQ(m->available_bytes, 8000000ull * 1024);
  EXPECT_EQ(m->swap_total_bytes, 2097148ull * 1024);
  EXPECT_EQ(m->swap_free_bytes, 2000000ull * 1024);
  EXPECT_FALSE(parse_meminfo("MemFree: 1 kB\n").ok());
  // Old kernels: no MemAvailable -> free + buffers + cached.
  auto old = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 20 kB\n");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->available_bytes, 130u * 1024);
}

TEST(ScanFixture, ReadsEveryField) {
  FakeProc fp;
  FakeProcess ollama;
  ollama.pid = 1200;
  ollama.uid = 998;
  ollama.comm = "ollama";
  ollama.argv = {"/usr/local/bin/ollama", "serve"};
  ollama.exe = "/usr/local/bin/ollama";
  ollama.cwd = "/usr/share/ollama";
  ollama.rss_kb = 52000;
  ollama.swap_kb = 12;
  ollama.open_files = {"socket:[4242]", "/dev/null", "pipe:[9]"};
  fp.add(ollama);
  FakeProcess runner;
  runner.pid = 1300;
  runner.ppid = 1200;
  runner.uid = 998;
  runner.comm = "llama-server";
  const std::string blob = "/usr/share/ollama/.ollama/models/blobs/sha256-6a0746a1ec1aef3e";
  runner.argv = {"/usr/local/lib/ollama/llama-server", "--model", blob, "--port", "41234"};
  runner.exe = "/usr/local/lib/ollama/llama-server";
  runner.rss_kb = 4000000;
  runner.mapped = {"/usr/local/lib/ollama/libggml-base.so", "/usr/local/lib/ollama/cuda_v12/libggml-cuda.so",
                   "/usr/lib/x86_64-linux-gnu/libc.so.6", blob, "/usr/local/lib/ollama/libggml-base.so"};
  runner.open_files = {"/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia-uvm", "socket:[5555]", blob};
  runner.cgroup = "0::/system.slice/docker-" + std::string(64, 'b') + ".scope\n";
  fp.add(runner);
  fp.add_listener({"0100007F", 11434, 4242, false});
  fp.add_listener({"0100007F", 41234, 5555, false});
  fp.write_net();

  ScanOptions all;
  all.read_cwd = CwdPolicy::kAll;
  auto r = scan_processes(fp.root(), all);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->processes.size(), 2u);
  // By default only interpreters' working directories are read.
  auto dflt = scan_processes(fp.root());
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(find_pid(*dflt, 1200)->cwd, "");
  EXPECT_EQ(read_container_id(fp.root(), 1300), std::string(64, 'b'));
  EXPECT_EQ(read_container_id(fp.root(), 999999), "");
  const ProcessInfo* s = find_pid(*r, 1200);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->comm, "ollama");
  EXPECT_EQ(s->ppid, 1);
  EXPECT_EQ(s->uid, 998u);
  EXPECT_EQ(s->exe, "/usr/local/bin/ollama");
  EXPECT_EQ(s->cwd, "/usr/share/ollama");
  EXPECT_EQ(s->argv, (std::vector<std::string>{"/usr/local/bin/ollama", "serve"}));
  EXPECT_EQ(s->rss_bytes, 52000ull * 1024);
  EXPECT_EQ(s->swap_bytes, 12ull * 1024);
  ASSERT_EQ(s->listening.size(), 1u);
  EXPECT_EQ(s->listening[0].port, 11434);
  EXPECT_EQ(s->container_id, "");

  const ProcessInfo* c = find_pid(*r, 1300);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->ppid, 1200);
  EXPECT_EQ(c->libraries, (std::vector<std::string>{"/usr/local/lib/ollama/libggml-base.so",
                                                    "/usr/local/lib/ollama/cuda_v12/libggml-cuda.so",
                                                    "/usr/lib/x86_64-linux-gnu/libc.so.6"}));
  EXPECT_EQ(c->model_files, std::vector<std::string>{blob});
  EXPECT_EQ(c->gpu_devices,
            (std::vector<std::string>{"/dev/nvidia-uvm", "/dev/nvidia0", "/dev/nvidiactl"}));
  ASSERT_EQ(c->listening.size(), 1u);
  EXPECT_EQ(c->listening[0].port, 41234);
  EXPECT_EQ(c->container_id, std::string(64, 'b'));
  EXPECT_EQ(r->denied_processes, 0);
}

TEST(Environ, PicksTheNamedVariablesOnly) {
  using namespace std::string_literals;
  using P = std::pair<std::string, std::string>;
  const std::vector<std::string> names = {"LLAMA_API_KEY", "VLLM_API_KEY"};
  const std::string text =
      "HOME=/home/u\0VLLM_API_KEY=v1\0LLAMA_API_KEY=a,b\0LLAMA_API_KEY_X=no\0NOEQUALS\0"
      "VLLM_API_KEY=v2\0"s;
  // In the order asked; a repeated name's first value (what getenv and
  // Python's os.environ take).
  EXPECT_EQ(pick_environ(text, names, false),
            (std::vector<P>{{"LLAMA_API_KEY", "a,b"}, {"VLLM_API_KEY", "v1"}}));
  // Cut at the read cap: the last entry may be partial and is not used.
  EXPECT_TRUE(pick_environ("HOME=/x\0LLAMA_API_KEY=parti"s, names, true).empty());
  EXPECT_EQ(pick_environ("LLAMA_API_KEY=k"s, names, false), (std::vector<P>{{"LLAMA_API_KEY", "k"}}));
  EXPECT_EQ(pick_environ("LLAMA_API_KEY=\0"s, names, false), (std::vector<P>{{"LLAMA_API_KEY", ""}}));
  EXPECT_TRUE(pick_environ(""s, names, false).empty());
  EXPECT_TRUE(pick_environ(text, {}, false).empty());
}

TEST(ScanFixture, ReadsTheNamedVariablesOfACandidatesEnvironmentOnly) {
  FakeProc fp;
  FakeProcess a;
  a.pid = 10;
  a.comm = "llama-server";
  a.argv = {"llama-server"};
  a.environment = {"PATH=/usr/bin", "LLAMA_API_KEY=sk-a"};
  fp.add(a);
  FakeProcess b = a;
  b.pid = 11;
  b.environment = {"LLAMA_API_KEY=sk-b"};
  fp.add(b);
  ScanOptions so;
  so.env_names = {"LLAMA_API_KEY"};
  so.wants_env = [](const ProcessInfo& p) { return p.pid == 10; };  // b is no candidate
  auto r = scan_processes(fp.root(), so);
  ASSERT_TRUE(r.ok());
  ASSERT_NE(find_pid(*r, 10), nullptr);
  ASSERT_NE(find_pid(*r, 11), nullptr);
  EXPECT_EQ(find_pid(*r, 10)->env,
            (std::vector<std::pair<std::string, std::string>>{{"LLAMA_API_KEY", "sk-a"}}));
  EXPECT_TRUE(find_pid(*r, 11)->env.empty());
  // No names asked: no environment read.
  auto plain = scan_processes(fp.root());
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(find_pid(*plain, 10)->env.empty());
}

TEST(ScanFixture, ZombiesKernelThreadsAndVanishedPids) {
  FakeProc fp;
  FakeProcess z;
  z.pid = 50;
  z.comm = "defunct";
  z.state = 'Z';
  fp.add(z);
  FakeProcess k;
  k.pid = 2;
  k.ppid = 0;
  k.comm = "kthreadd";
  k.kernel_thread = true;
  fp.add(k);
  // A pid directory without status: it exited between readdir and open.
  fp.write_file("77/cmdline", std::string("python\0", 7));
  // Non-numeric entries are not processes.
  fp.write_file("self/status", "Name:\tbogus\n");
  fp.write_file("1x/status", "Name:\tbogus\n");
  auto r = scan_processes(fp.root());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->processes.size(), 2u);
  EXPECT_EQ(r->processes[0].pid, 2);
  EXPECT_TRUE(r->processes[0].kernel_thread);
  EXPECT_EQ(r->processes[1].pid, 50);
  EXPECT_EQ(r->processes[1].state, 'Z');
  EXPECT_FALSE(r->processes[1].kernel_thread);
  EXPECT_EQ(r->vanished_processes, 1);
}

TEST(ScanFixture, HostileFilesStayBounded) {
  FakeProc fp;
  FakeProcess p;
  p.pid = 10;
  p.comm = "evil";
  p.argv = {"evil"};
  fp.add(p);
  // A status line without a value, an absurd RSS, a maps line without a path,
  // a huge single maps line, and a cmdline of 1 MiB without NULs.
  fp.write_file("10/status", "Name:\nState:\tS\nPPid:\t-5\nUid:\tabc\nVmSize:\t1 kB\nVmRSS:\t99999999999999999999999 kB\n");
  std::string maps = "00400000-00401000 r-xp 00000000 08:01 1\n" + std::string(200000, 'x') +
                     "\n00400000-00401000 r-xp 00000000 08:01 1 /lib/libok.so\n";
  fp.write_file("10/maps", maps);
  fp.write_file("10/cmdline", std::string(1 << 20, 'A'));
  auto r = scan_processes(fp.root());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->processes.size(), 1u);
  const auto& e = r->processes[0];
  EXPECT_EQ(e.rss_bytes, 0u);  // unparsable -> 0, not garbage
  EXPECT_EQ(e.ppid, 0);
  ASSERT_EQ(e.argv.size(), 1u);
  EXPECT_EQ(e.argv[0].size(), 128u * 1024);  // capped
  EXPECT_EQ(e.libraries, std::vector<std::string>{"/lib/libok.so"});
}

TEST(ScanFixture, MissingRootIsAnErrorNamingIt) {
  auto r = scan_processes("/nonexistent/proc-root");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/proc-root"), std::string::npos);
}

// A server's key file, read as its user sees it: relative to its working
// directory, absolute inside its root; only a regular file of its own.
TEST(KeyFile, ReadsTheFirstKeyOfAFileTheServersUserOwns) {
  namespace fs = std::filesystem;
  FakeProc fp;
  const fs::path home = fs::path(fp.root()) / "home";
  fs::create_directories(home / "etc");
  FakeProcess p;
  p.pid = 31;
  p.comm = "llama-server";
  p.argv = {"llama-server"};
  p.cwd = home.string();
  fp.add(p);
  fs::create_symlink(home, fs::path(fp.root()) / "31" / "root");  // its root: the home tree
  const auto me = static_cast<uint32_t>(::geteuid());
  auto put = [&](const std::string& rel, const std::string& text) {
    std::ofstream(home / rel, std::ios::binary) << text;
  };
  put("keys.txt", "\nsk-file-1\r\nsk-file-2\n");
  put("etc/keys", "sk-abs");
  put("empty", "\n\n");
  put("big", std::string(65 * 1024, 'k'));
  fs::create_symlink("/etc/passwd", home / "link");
  fs::create_symlink("/dev", home / "dev");  // a device: never opened for reading
  ASSERT_EQ(::mkfifo((home / "fifo").c_str(), 0600), 0);
  auto keys = read_process_key_file(fp.root(), 31, me, "keys.txt");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  // Every non-empty line, as it is (a CR stays: the caller checks each).
  EXPECT_EQ(*keys, (std::vector<std::string>{"sk-file-1\r", "sk-file-2"}));
  keys = read_process_key_file(fp.root(), 31, me, "/etc/keys");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(*keys, std::vector<std::string>{"sk-abs"});
  auto why = [&](std::string_view path, uint32_t owner) {
    auto r = read_process_key_file(fp.root(), 31, owner, path);
    EXPECT_FALSE(r.ok()) << path;
    return r.ok() ? std::string() : r.error().message;
  };
  // Not the server's user's file (a user naming root's files must not get them read).
  EXPECT_EQ(why("keys.txt", me + 1), "keys.txt: owned by uid " + std::to_string(me) +
                                         ", not by the server's user (uid " +
                                         std::to_string(me + 1) + ")");
  EXPECT_EQ(why("link", me), "link: a symbolic link (not followed)");
  EXPECT_EQ(why("fifo", me), "fifo: not a regular file");  // and it does not block
  EXPECT_EQ(why("dev/null", me), "dev/null: not a regular file");
  EXPECT_EQ(why("big", me), "big: over 64 KiB");
  EXPECT_EQ(why("empty", me), "empty: holds no key");
  EXPECT_EQ(why("missing", me), "missing: " + std::string(std::strerror(ENOENT)));
  EXPECT_EQ(why("", me), "an empty key file path");
}

// --- Real processes -------------------------------------------------------

TEST(ScanReal, SeesItsOwnChildWithFilesAndPort) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("memopt-scan-" + std::to_string(::getpid()));
  fs::create_directories(dir / "models");
  fs::path model = dir / "models" / "tiny.gguf";
  { std::ofstream(model) << "GGUF"; }
  int listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listen_fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listen_fd, 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  uint16_t port = ntohs(addr.sin_port);

  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int mfd = ::open(model.c_str(), O_RDONLY);
    (void)mfd;
    ::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  ::close(listen_fd);  // only the child holds the socket now
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  auto r = scan_processes("/proc");  // listening sockets from netlink sock_diag
  // The same tree under another spelling takes the /proc/net/tcp path: both
  // must find the same socket.
  auto by_file = scan_processes("/proc/self/..");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(r.ok());
  const ProcessInfo* p = find_pid(*r, child);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->ppid, ::getpid());
  EXPECT_EQ(p->uid, ::getuid());
  EXPECT_GT(p->rss_bytes, 0u);
  EXPECT_TRUE(contains(p->model_files, model.string()));
  ASSERT_EQ(p->listening.size(), 1u);
  EXPECT_EQ(p->listening[0].port, port);
  EXPECT_EQ(p->listening[0].address, "127.0.0.1");
  EXPECT_FALSE(p->libraries.empty());  // at least libc / the loader
  ASSERT_TRUE(by_file.ok());
  const ProcessInfo* pf = find_pid(*by_file, child);
  ASSERT_NE(pf, nullptr);
  ASSERT_EQ(pf->listening.size(), 1u);
  EXPECT_EQ(pf->listening[0].port, port);
  EXPECT_EQ(pf->listening[0].address, "127.0.0.1");
  // After it exits, the next scan does not list it.
  auto again = scan_processes("/proc");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(find_pid(*again, child), nullptr);
  fs::remove_all(dir);
}

// The real /proc/PID/environ of a program started with a key in its
// environment (the block the kernel keeps from its exec).
TEST(ScanReal, ReadsAKeyFromARealProcesssEnvironment) {
  char arg0[] = "sleep", arg1[] = "30";
  char* argv[] = {arg0, arg1, nullptr};
  char e0[] = "PATH=/usr/bin:/bin", e1[] = "LLAMA_API_KEY=sk-real-env";
  char* envp[] = {e0, e1, nullptr};
  pid_t child = -1;
  ASSERT_EQ(::posix_spawn(&child, "/bin/sleep", nullptr, nullptr, argv, envp), 0);
  // posix_spawn returns once the exec has begun; the new program's argument
  // and environment block is set up just after (until then both files read
  // empty), so wait until its command line reads.
  const std::string cmdline = "/proc/" + std::to_string(child) + "/cmdline";
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(cmdline, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!text.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ScanOptions so;
  so.env_names = {"LLAMA_API_KEY", "VLLM_API_KEY"};
  auto r = scan_processes("/proc", so);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(r.ok());
  const ProcessInfo* p = find_pid(*r, child);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->env, (std::vector<std::pair<std::string, std::string>>{
                        {"LLAMA_API_KEY", "sk-real-env"}}));
}

TEST(ScanReal, OtherUsersProcessesAreCountedNotFatal) {
  // Run the scan as an unprivileged user: root's processes (pid 1 at least)
  // then deny maps and fd, and must be counted, not fail the scan.
  if (::getuid() != 0) GTEST_SKIP() << "needs root to drop to another user";
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    auto r = scan_processes("/proc");
    if (!r.ok()) ::_exit(4);
    int counts[2] = {r->denied_processes, static_cast<int>(r->processes.size())};
    ::write(out[1], counts, sizeof(counts));
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  int counts[2] = {};
  ASSERT_EQ(::read(out[0], counts, sizeof(counts)), static_cast<ssize_t>(sizeof(counts)));
  EXPECT_GE(counts[0], 1);          // at least our own test process (root)
  EXPECT_GT(counts[1], counts[0] - 1);  // denied processes are still listed
}

TEST(ScanReal, RaceWithProcessesStartingAndExiting) {
  // A churner forks short-lived children continuously while we scan; every
  // scan must succeed, list only sane entries, and never crash.
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop) {
      pid_t c = ::fork();
      if (c == 0) {
        ::usleep(200);
        ::_exit(0);
      }
      if (c > 0) ::waitpid(c, nullptr, 0);
    }
  });
  int scans = 0;
  for (int i = 0; i < 60; ++i) {
    auto r = scan_processes("/proc");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ++scans;
    int prev = 0;
    for (const auto& p : r->processes) {
      ASSERT_GT(p.pid, prev);  // sorted, unique
      prev = p.pid;
      ASSERT_LE(p.comm.size(), 64u);
      ASSERT_GE(p.ppid, 0);
    }
    ASSERT_NE(find_pid(*r, ::getpid()), nullptr);
  }
  stop = true;
  churn.join();
  EXPECT_EQ(scans, 60);
}

}  // namespace
}  // namespace memopt::proc

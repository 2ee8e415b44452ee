// A stand-in process for the detector's real-process tests: exec'd under any
// argv (so its command line looks like `python -m vllm...` or `llama-server`),
// it dlopens the libraries, opens the files and listens as told by its
// environment, reports readiness on a pipe, then sleeps until killed.
//   MEMOPT_SLEEPER_DLOPEN  colon-separated shared objects to dlopen
//   MEMOPT_SLEEPER_OPEN    colon-separated files to keep open
//   MEMOPT_SLEEPER_LISTEN  "1": listen on an ephemeral loopback port
//   MEMOPT_SLEEPER_READY_FD  fd to write "ready <port>\n" to
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

template <typename F>
void for_each_path(const char* list, F f) {
  if (!list) return;
  std::string s(list);
  size_t start = 0;
  while (start <= s.size()) {
    size_t colon = s.find(':', start);
    std::string item = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!item.empty()) f(item);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
}

}  // namespace

int main() {
  int status = 0;
  for_each_path(std::getenv("MEMOPT_SLEEPER_DLOPEN"), [&](const std::string& p) {
    if (!::dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      std::fprintf(stderr, "sleeper: dlopen %s: %s\n", p.c_str(), ::dlerror());
      status = 2;
    }
  });
  for_each_path(std::getenv("MEMOPT_SLEEPER_OPEN"), [&](const std::string& p) {
    if (::open(p.c_str(), O_RDONLY) < 0) {
      std::perror(p.c_str());
      status = 3;
    }
  });
  if (status != 0) return status;
  int port = 0;
  const char* listen_env = std::getenv("MEMOPT_SLEEPER_LISTEN");
  if (listen_env && std::string(listen_env) == "1") {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 4) != 0) {
      std::perror("sleeper: listen");
      return 4;
    }
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  if (const char* ready = std::getenv("MEMOPT_SLEEPER_READY_FD")) {
    int fd = std::atoi(ready);
    std::string line = "ready " + std::to_string(port) + "\n";
    if (::write(fd, line.data(), line.size()) < 0) return 5;
    ::close(fd);
  }
  for (;;) ::pause();
}
